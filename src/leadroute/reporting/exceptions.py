"""The exception report: every lead that needs a human, with the reason and what to do.

A lead appears once per reason. Reasons, in the order the report lists them:
``BLANK_OWNER`` (rejected: it never got an owner), ``OWNER_REFUSED`` (the target refused
the decided owner and nobody else could take the lead), ``EFFECT_FAILED`` (an owner
write, task or notification given up on: the CRM does not hold the decision),
``DUPLICATE``, ``FALLBACK_OWNER``, ``REP_REJECTED``, ``REVIEW``, ``INVALID_SOURCE``,
``NO_ACTIVITY``. The two effect reasons stay listed, whichever run the effect died in,
until ``leadroute relay --retry-dead`` queues it again or ``--resolve`` closes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from leadroute.fallbacks import fallback_code
from leadroute.models import InputProblem
from leadroute.policy import Policy, format_duration
from leadroute.reporting.facts import LeadFacts
from leadroute.reporting.formats import fmt_seconds
from leadroute.store import EffectFailure

__all__ = ["REASONS", "ExceptionRow", "exception_rows"]

REASONS = (
    "BLANK_OWNER",
    "OWNER_REFUSED",
    "EFFECT_FAILED",
    "DUPLICATE",
    "FALLBACK_OWNER",
    "REP_REJECTED",
    "REVIEW",
    "INVALID_SOURCE",
    "NO_ACTIVITY",
)

# What a human should do about a rejected lead, by the problem's code.
REJECTED_ACTIONS: Mapping[str, str] = {
    "MISSING_FIELD": "fill in {field} in the CRM; the next route run picks the lead up",
    "MISSING_ID": "give the record an id in the export",
    "BAD_NUMBER": "correct {field} at {where}",
    "BAD_DATE": "correct {field} at {where} (ISO-8601, e.g. 2026-11-02T09:15:00Z)",
    "BAD_BOOLEAN": "correct {field} at {where}",
    "WRONG_COLUMN_COUNT": "fix the quoting of the row at {where}",
    "UNKNOWN_OWNER": "set the owner to an existing rep, or clear it to route the lead",
}
DEFAULT_REJECTED_ACTION = "fix the record at {where}; the next route run picks it up"


@attrs.frozen(kw_only=True)
class ExceptionRow:
    """One lead needing a human, for one reason.

    Attributes:
        lead_id: The lead (or ``file:line`` for a row without an id).
        reason_code: One of ``REASONS``.
        reason: What is wrong, in one sentence.
        action: What to do about it.
        owner_id: Its current owner, ``""`` when none.
        since: When the situation began (assignment time), when known.
        where: Where the record came from (``leads.csv:17``), when known.
    """

    lead_id: str
    reason_code: str
    reason: str
    action: str
    owner_id: str = ""
    since: datetime | None = None
    where: str = ""


# What to do about an effect that will not happen by itself, by its code.
EFFECT_ACTIONS: Mapping[str, str] = {
    "OWNER_REFUSED": (
        "reactivate {owner} in the CRM and run leadroute relay --retry-dead --lead {lead}, "
        "or move the lead (leadroute reassign --from {owner})"
    ),
    "EFFECT_FAILED": (
        "fix the cause in the CRM, then leadroute relay --retry-dead --lead {lead}; "
        "or apply it by hand and leadroute relay --resolve --lead {lead}"
    ),
}


def _effects(failures: Sequence[EffectFailure]) -> list[ExceptionRow]:
    """Effects given up on (from the store's outbox): the CRM does not hold the decision."""
    rows = []
    for f in failures:
        problem = f.as_problem()
        owner = f.owner_id or "the owner"
        rows.append(
            ExceptionRow(
                lead_id=f.lead_id,
                reason_code=problem.code,
                reason=problem.message,
                action=EFFECT_ACTIONS[problem.code].format(owner=owner, lead=f.lead_id),
                owner_id=f.owner_id,
                where=problem.file,
            )
        )
    return rows


def _rejected(problems: Sequence[InputProblem]) -> list[ExceptionRow]:
    rows = []
    seen: set[tuple[str, str]] = set()
    for p in problems:
        if p.kind != "lead":
            continue
        lead_id = p.record_id or f"{p.file}:{p.line}"
        where = f"{p.file}:{p.line}" if p.line is not None else p.file
        code = "DUPLICATE" if "DUPLICATE" in p.code else "BLANK_OWNER"
        if (lead_id, code) in seen:
            continue
        seen.add((lead_id, code))
        if code == "DUPLICATE":
            action = (
                f"merge it with the first record of {p.record_id} in the CRM; that one was routed"
            )
        else:
            template = REJECTED_ACTIONS.get(p.code, DEFAULT_REJECTED_ACTION)
            action = template.format(field=p.field or "the field", where=where)
        rows.append(
            ExceptionRow(
                lead_id=lead_id,
                reason_code=code,
                reason=f"{p.code}: {p.message}",
                action=action,
                where=where,
            )
        )
    return rows


def _decided(f: LeadFacts, policy: Policy, as_of: datetime) -> list[ExceptionRow]:
    """The reasons a lead that has a decision still needs a human."""
    settings = policy.reporting
    d = f.current

    def row(code: str, reason: str, action: str) -> ExceptionRow:
        return ExceptionRow(
            lead_id=f.lead_id,
            reason_code=code,
            reason=reason,
            action=action,
            owner_id=f.owner_id,
            since=d.decided_at,
        )

    rows = []
    if f.fallback:
        deadline = f" before {d.escalate_at:%Y-%m-%d %H:%M} UTC" if d.escalate_at else ""
        rows.append(
            row(
                "FALLBACK_OWNER",
                f"{fallback_code(d) or 'FALLBACK'}: in queue {d.queue or '(none)'}: {d.reason}",
                f"{d.owner_id} assigns it by hand{deadline}; if this case recurs, "
                "add a routing rule or a rep who covers it",
            )
        )
    if f.owner_id in f.rejected_by:
        rows.append(
            row(
                "REP_REJECTED",
                f"{f.owner_id} declined the lead and still owns it",
                "reassign it (leadroute rebalance moves it) and ask why it was declined",
            )
        )
    review = [c for c in f.review if c != "UNKNOWN_SOURCE"]  # listed as INVALID_SOURCE
    if review:
        rows.append(
            row(
                "REVIEW",
                "flagged for review: " + ", ".join(review),
                "check the flagged fields with the owner; correct them in the CRM",
            )
        )
    known = {v.lower() for v in policy.validation.sources}
    flagged_source = any(p.field == "source" for p in d.problems)
    if flagged_source or (known and f.source.lower() not in known):
        shown = f.source or "(empty)"
        allowed = f" is not one of: {', '.join(sorted(known))}" if known else " is not known"
        rows.append(
            row(
                "INVALID_SOURCE",
                f"source {shown!r}{allowed}",
                "fix the form's or import's source value, or add it to validation.sources",
            )
        )
    idle_for = as_of - f.assigned_at
    if not f.nurture and f.first_touch_at is None and idle_for >= settings.no_activity_after:
        late = as_of > f.sla_due_at
        rows.append(
            row(
                "NO_ACTIVITY",
                f"no activity {fmt_seconds(idle_for.total_seconds())} after assignment to {f.owner_id}"
                + (f" (SLA {format_duration(f.sla)} passed)" if late else ""),
                "reassign it now (leadroute rebalance) and tell the owner's manager"
                if late
                else f"remind {f.owner_id} to work it before the {format_duration(f.sla)} SLA",
            )
        )
    return rows


def exception_rows(
    facts: Sequence[LeadFacts],
    problems: Sequence[InputProblem],
    policy: Policy,
    as_of: datetime,
    *,
    failures: Sequence[EffectFailure] = (),
) -> list[ExceptionRow]:
    """Every lead needing a human, once per reason, in ``REASONS`` order then by lead.

    ``failures`` are the store's unresolved effects (``History.failures``).
    """
    rows = _rejected(problems) + _effects(failures)
    for fact in facts:
        rows.extend(_decided(fact, policy, as_of))
    order = {code: i for i, code in enumerate(REASONS)}
    return sorted(rows, key=lambda r: (order[r.reason_code], r.lead_id))
