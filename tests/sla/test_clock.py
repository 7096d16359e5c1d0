"""Which timers a decision gets and when, in working time and across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadroute.models import Availability, Decision, DecisionStatus, Rep, RouteStep, TimerKind
from leadroute.policy import parse_policy
from leadroute.sla import timers_for

POLICY = """
version: "s1"
fallback: {owner: ops, queue: unrouted, escalate_after: 4h}
lead_types:
  calendar: {timezone: America/New_York, days: {mon-fri: "09:00-17:00"}}
  types:
    - name: demo
      when: {lead_type: demo}
      sla: 4h
      escalation: {remind_at: 0.5, on_breach: reassign}
    - {name: contact, when: {lead_type: contact}, sla: 8h}
"""


def decision(lead_type: str, decided_at: datetime, due: datetime | None, **kw: object) -> Decision:
    values: dict[str, object] = {
        "id": f"d-{lead_type}",
        "lead_id": "L1",
        "status": DecisionStatus.ROUTED,
        "owner_id": "r1",
        "step": RouteStep.POOL,
        "policy_version": "s1",
        "decided_at": decided_at,
        "lead_type": lead_type,
        "sla_due_at": due,
    }
    values.update(kw)
    return Decision(**values)  # type: ignore[arg-type]


def test_reminder_falls_at_half_the_working_time():
    """A demo decided at 15:00 New York with a 4h SLA: reminder at 17:00, breach next day 11:00."""
    policy = parse_policy(POLICY)
    at = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # Mon 15:00 EST
    due = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)  # Tue 11:00 EST
    timers = timers_for(decision("demo", at, due), policy, {})
    assert [(t.kind, t.due_at) for t in timers] == [
        (TimerKind.REMINDER, datetime(2026, 11, 2, 22, 0, tzinfo=UTC)),
        (TimerKind.BREACH, due),
    ]


def test_reminder_counts_working_time_across_the_dst_change():
    """Across the November DST change the working hours stay 09:00-17:00 local time."""
    policy = parse_policy(POLICY)
    # Fri 30 Oct 2026 16:00 EDT (20:00 UTC); 2h of the 4h remain after the weekend, and
    # the weekend ends DST: the reminder is Fri 17:00 EDT, Monday's clock runs on EST.
    at = datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    timers = timers_for(decision("demo", at, datetime(2026, 11, 2, 17, 0, tzinfo=UTC)), policy, {})
    reminder = timers[0].due_at
    assert reminder == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Mon 10:00 EST
    # Wall-clock half of 4h would have been Fri 18:00 EDT, outside working time.
    assert reminder != at + timedelta(hours=2)


def test_a_type_without_escalation_keeps_no_clock():
    """No ``escalation``: no timers, even with an SLA."""
    policy = parse_policy(POLICY)
    at = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert timers_for(decision("contact", at, at + timedelta(hours=8)), policy, {}) == []


def test_fallback_escalation_counts_the_queue_owners_hours():
    """The queue's 4h escalation counts in its owner's hours (Mon 16:00 Berlin -> Tue 11:00)."""
    policy = parse_policy(POLICY)
    ops = Rep(
        id="ops",
        availability=Availability(timezone="Europe/Berlin", hours={"mon-fri": "08:00-17:00"}),
    )
    at = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Mon 16:00 CET
    queued = decision(
        "", at, None, status=DecisionStatus.FALLBACK, queue="unrouted", owner_id="ops"
    )
    [timer] = timers_for(queued, policy, {"ops": ops})
    assert timer.kind == TimerKind.ESCALATE
    assert timer.due_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # Tue 11:00 CET
    [plain] = timers_for(queued, policy, {})
    assert plain.due_at == at + timedelta(hours=4)
