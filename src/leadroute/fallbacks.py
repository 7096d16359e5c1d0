"""Why a lead went to the fallback queue, as a stable code for the exception report.

Every fallback decision already carries a named owner, a one-sentence reason and an
escalation deadline; this module adds the code the run's counts and the adapter's
exception report group by, so "the whole pool was full" is never silent:

| code | when |
|---|---|
| ``VALIDATION`` | a validation rule sent the lead to the queue |
| ``NO_RULE`` | no routing rule matched |
| ``POOL_FULL`` | every member of the pool was at a cap (or the optimizer had no room) |
| ``POOL_AWAY`` | every member was inactive, on leave, paused, off shift or on holiday |
| ``POOL_FULL_OR_AWAY`` | every member was one or the other |
| ``NO_ELIGIBLE_REP`` | a hard constraint (territory, language...) left nobody |
| ``REBALANCE_NO_ROOM`` | the rebalance moved the lead and nobody had room |
| ``REASSIGNED_NO_ROOM`` | ``reassign`` moved the lead and nobody could take it |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from leadroute.models import Decision, DecisionStatus, ExclusionCode, InputProblem, Lead, Rep
from leadroute.policy import Policy

__all__ = [
    "AWAY_CODES",
    "CAP_CODES",
    "fallback_code",
    "fallback_owner_problems",
    "fallback_problems",
]

CAP_CODES = frozenset(
    {
        ExclusionCode.OPEN_CAP,
        ExclusionCode.DAILY_CAP,
        ExclusionCode.WEEKLY_CAP,
        ExclusionCode.TYPE_CAP,
        ExclusionCode.CAPACITY_REACHED,
    }
)
AWAY_CODES = frozenset(
    {
        ExclusionCode.REP_INACTIVE,
        ExclusionCode.ON_LEAVE,
        ExclusionCode.PAUSED,
        ExclusionCode.OUT_OF_HOURS,
        ExclusionCode.HOLIDAY,
        ExclusionCode.REASSIGNED_AWAY,
    }
)


def fallback_code(decision: Decision) -> str:
    """The stable code for a fallback decision's cause (``""`` for a routed decision)."""
    if decision.status != DecisionStatus.FALLBACK:
        return ""
    path = decision.route_path
    if "validation:fallback" in path:
        return "VALIDATION"
    if any(p.startswith("reassign:") for p in path):
        return "REASSIGNED_NO_ROOM"
    if any(p.startswith("rebalance:") for p in path):
        return "REBALANCE_NO_ROOM"
    if "rule:none" in path:
        return "NO_RULE"
    if "no room left" in decision.reason:
        return "POOL_FULL"
    codes: dict[str, set[str]] = {}
    for e in decision.exclusions:
        codes.setdefault(e.rep_id, set()).add(e.code)
    if not codes:
        return "NO_ELIGIBLE_REP"
    full = away = False
    for found in codes.values():
        if found - CAP_CODES - AWAY_CODES:
            return "NO_ELIGIBLE_REP"
        away = away or bool(found & AWAY_CODES)
        full = full or not (found & AWAY_CODES)
    if full and away:
        return "POOL_FULL_OR_AWAY"
    return "POOL_FULL" if full else "POOL_AWAY"


def fallback_problems(
    decisions: Iterable[Decision], leads: Mapping[str, Lead]
) -> list[InputProblem]:
    """One exception-report row per fallback decision (kind ``fallback``), with its code."""
    rows = []
    for d in decisions:
        code = fallback_code(d)
        if not code:
            continue
        lead = leads.get(d.lead_id)
        origin = lead.origin if lead else ""
        file, _, line = origin.rpartition(":")
        rows.append(
            InputProblem(
                file=file if file and line.isdigit() else (origin or "input"),
                line=int(line) if file and line.isdigit() else None,
                record_id=d.lead_id,
                kind="fallback",
                field="",
                code=f"FALLBACK_{code}",
                message=f"queue {d.queue} (owner {d.owner_id}, escalate by "
                f"{d.escalate_at.isoformat(timespec='minutes') if d.escalate_at else '-'}): "
                f"{d.reason}",
            )
        )
    return rows


def fallback_owner_problems(
    policy: Policy, reps: Mapping[str, Rep], at: datetime
) -> list[InputProblem]:
    """A data problem when the queue's named owner is on leave or paused now.

    The owner must exist and be active (``PolicyError`` otherwise); being away is a
    temporary state worth a human's look, not a reason to stop routing: the queue still
    has an owner and every item its escalation deadline.
    """
    owner = reps.get(policy.fallback.owner)
    if owner is None:
        return []
    availability = owner.availability
    window = availability.leave_at(at)
    paused = (availability.paused_until is not None and availability.paused_until > at) or (
        availability.paused and availability.paused_until is None
    )
    if window is None and not paused:
        return []
    why = f"on leave until {window.end.date().isoformat()}" if window else "paused"
    return [
        InputProblem(
            file=owner.origin.rpartition(":")[0] or "reps",
            line=None,
            record_id=owner.id,
            kind="rep",
            field="",
            code="FALLBACK_OWNER_AWAY",
            message=f"the fallback queue {policy.fallback.queue!r} is owned by {owner.id}, "
            f"who is {why}: name another owner or a backup",
        )
    ]
