"""Which SLA timers a decision gets, and when each is due, in working time.

Every timer reads the decision's own clock, counted in the owner's calendar
(``leadroute.deadlines``): the breach is the decision's ``sla_due_at``, the fallback
queue's escalation its ``escalate_at``. The reminder falls at ``remind_at`` of the SLA
counted in the same owner's calendar from the decision, so "halfway" means half the
owner's working time, not half the wall-clock time, and a deadline that crosses a
weekend, a holiday, a leave or a DST change moves with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from leadroute.deadlines import owner_calendar
from leadroute.models import Decision, DecisionStatus, Rep, Timer, TimerKind
from leadroute.policy import Policy

__all__ = ["escalation_due", "timers_for"]


def escalation_due(decision: Decision, policy: Policy, reps: Mapping[str, Rep]) -> datetime:
    """When the fallback queue's owner must escalate a lead queued by ``decision``: its
    ``escalate_at``, else ``escalate_after`` in the queue owner's calendar."""
    if decision.escalate_at is not None:
        return decision.escalate_at
    owner = reps.get(decision.owner_id)
    calendar = owner_calendar(policy, owner, decision.owner_id)
    return calendar.add(decision.decided_at, policy.fallback.escalate_after)


def timers_for(decision: Decision, policy: Policy, reps: Mapping[str, Rep]) -> list[Timer]:
    """The timers to store with a decision (none when its type keeps no clock)."""
    if decision.status == DecisionStatus.FALLBACK and decision.queue == policy.fallback.queue:
        return [_timer(decision, TimerKind.ESCALATE, escalation_due(decision, policy, reps))]
    kind = policy.lead_types.named(decision.lead_type) if decision.lead_type else None
    if kind is None or kind.escalation is None or kind.sla is None:
        return []
    if decision.sla_due_at is None or decision.status != DecisionStatus.ROUTED:
        return []
    timers = []
    share = kind.escalation.remind_at
    if share is not None:
        calendar = owner_calendar(policy, reps.get(decision.owner_id), decision.owner_id)
        remind = calendar.add(decision.decided_at, kind.sla * share)
        timers.append(_timer(decision, TimerKind.REMINDER, min(remind, decision.sla_due_at)))
    timers.append(_timer(decision, TimerKind.BREACH, decision.sla_due_at))
    return timers


def _timer(decision: Decision, kind: TimerKind, due: datetime) -> Timer:
    return Timer(
        id=Timer.id_for(decision.id, str(kind)),
        lead_id=decision.lead_id,
        decision_id=decision.id,
        kind=kind,
        due_at=due,
    )
