"""Which SLA timers a decision gets, and when each is due, in working time.

The breach is the decision's own ``sla_due_at`` (the pipeline counts it in the policy's
SLA calendar from when the owner's clock starts). The reminder falls at ``remind_at`` of
the SLA counted the same way from the same start, so "halfway" means half the working
time, not half the wall-clock time, and a deadline that crosses a weekend or a DST change
moves with it. The fallback queue's escalation counts ``escalate_after`` in the queue
owner's working hours (around the clock when the owner has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from leadroute.intake import SlaClock
from leadroute.models import Decision, DecisionStatus, Rep, Timer, TimerKind
from leadroute.policy import Policy
from leadroute.worktime import WorktimeError

__all__ = ["escalation_due", "timers_for"]


def escalation_due(decision: Decision, policy: Policy, reps: Mapping[str, Rep]) -> datetime:
    """When the fallback queue's owner must escalate a lead queued by ``decision``."""
    after = policy.fallback.escalate_after
    owner = reps.get(policy.fallback.owner)
    if owner is not None and owner.availability.has_calendar:
        try:
            return owner.availability.working_hours().add(decision.decided_at, after)
        except WorktimeError:
            pass  # a calendar with no working time ahead: fall back to the wall clock
    return decision.decided_at + after


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
        start = decision.sla_starts_at or decision.decided_at
        clock = SlaClock.of(policy)
        span = kind.sla * share
        remind = clock.hours.add(start, span) if clock.hours else start + span
        timers.append(_timer(decision, TimerKind.REMINDER, remind))
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
