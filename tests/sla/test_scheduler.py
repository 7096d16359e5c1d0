"""The SLA scheduler with a fake clock: reminder, breach actions, first touch, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from leadroute.engine import Engine
from leadroute.models import (
    Decision,
    DecisionStatus,
    Outcome,
    OutcomeKind,
    Rep,
    RouteStep,
    decision_id_for,
)
from leadroute.policy import parse_policy
from leadroute.sla import Scheduler, timers_for
from leadroute.sla.moves import EngineMover
from leadroute.store import Store, schema
from leadroute.store.outcomes import load_outcomes, record_outcome
from leadroute.store.timers import lead_timers, pending_timers

AT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
POLICY = """
version: "s1"
pools: [{name: na}]
routing: [{name: na, when: {country: US}, pool: na}]
fallback: {owner: ops, queue: unrouted, escalate_after: 2h}
lead_types:
  types:
    - name: demo
      when: {lead_type: demo}
      sla: 1h
      escalation: {remind_at: 0.5, on_breach: ON_BREACH}
notifications:
  channels: {console: {kind: console}}
  default: [console]
"""
REPS = {
    "r1": Rep(id="r1", name="Ann", backup_id="r2", manager_id="boss"),
    "r2": Rep(id="r2", name="Bob"),
    "boss": Rep(id="boss", name="Boss"),
    "ops": Rep(id="ops", name="Ops", manager_id="boss"),
}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def setup(store: Store, on_breach: str = "notify_manager"):  # type: ignore[no-untyped-def]
    policy = parse_policy(POLICY.replace("ON_BREACH", on_breach))
    decision = Decision(
        id=decision_id_for("L1", 1),
        lead_id="L1",
        status=DecisionStatus.ROUTED,
        owner_id="r1",
        step=RouteStep.POOL,
        pool="na",
        policy_version="s1",
        decided_at=AT,
        lead_type="demo",
        sla_due_at=AT + timedelta(hours=1),
    )
    store.record(decision, [], timers=timers_for(decision, policy, REPS))
    clock = Clock(AT)
    engine = Engine.open(policy, store, reps=list(REPS.values()), clock=clock)
    scheduler = Scheduler(
        store=store, policy=policy, reps=REPS, mover=EngineMover(engine), clock=clock
    )
    return store, scheduler, clock


def notifications(store: Store) -> list[tuple[str, str]]:
    """(purpose, recipient) of every notification effect in the outbox, in order."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.outbox).order_by(schema.outbox.c.id)).all()
    out = []
    for row in rows:
        if row.kind.startswith("notify:"):
            payload = json.loads(row.payload)
            out.append((payload["purpose"], payload["rep_id"]))
    return out


def test_nothing_fires_before_it_is_due(store: Store):
    """At decision time no timer is due."""
    _, scheduler, _ = setup(store)
    assert scheduler.tick().reminders == 0
    assert notifications(store) == []


def test_reminder_at_half_the_sla_notifies_the_owner_once(store: Store):
    """At 30 minutes the owner is reminded; a second pass sends nothing more."""
    _, scheduler, clock = setup(store)
    clock.at = AT + timedelta(minutes=30)
    assert scheduler.tick().reminders == 1
    assert scheduler.tick().reminders == 0
    assert notifications(store) == [("reminder", "r1")]


def test_breach_notifies_the_manager_and_records_the_outcome(store: Store):
    """At the deadline the manager is told and an sla_breached outcome is in the audit trail."""
    _, scheduler, clock = setup(store)
    clock.at = AT + timedelta(hours=2)
    report = scheduler.tick()
    assert (report.reminders, report.breaches) == (1, 1)
    assert notifications(store) == [("reminder", "r1"), ("breach", "boss")]
    [outcome] = load_outcomes(store)
    assert (outcome.kind, outcome.rep_id) == (OutcomeKind.SLA_BREACHED, "r1")


def test_breach_can_notify_the_backup(store: Store):
    """``notify_backup`` tells the owner's backup rep."""
    _, scheduler, clock = setup(store, "notify_backup")
    clock.at = AT + timedelta(hours=1)
    scheduler.tick()
    assert ("breach", "r2") in notifications(store)


def test_breach_reassigns_to_the_backup_as_a_new_epoch(store: Store):
    """``reassign`` commits epoch 2 to the backup with reason SLA_BREACHED, a new clock, effects."""
    _, scheduler, clock = setup(store, "reassign")
    clock.at = AT + timedelta(hours=1, minutes=1)
    report = scheduler.tick()
    assert (report.breaches, report.moved) == (1, 1)
    current = store.current_decision("L1")
    assert current is not None
    assert (current.epoch, current.owner_id, str(current.step)) == (2, "r2", "backup")
    assert current.reason.startswith("SLA_BREACHED")
    assert current.sla_due_at == clock.at + timedelta(hours=1)
    kinds = [e.kind for e in store.pending_effects() if e.decision_id == current.id]
    assert kinds == ["owner_write", "notify:console"]
    # The old clock is done (with what it did); the new owner's clock runs.
    old = [t for t in lead_timers(store, "L1") if t.decision_id != current.id]
    assert {t.status for t in old} == {"done"}
    assert {t.decision_id for t in pending_timers(store, "L1")} == {current.id}


def test_breach_moves_to_the_queue_whose_escalation_then_runs(store: Store):
    """``queue`` moves the lead to the fallback queue; its escalation later tells the manager."""
    _, scheduler, clock = setup(store, "queue")
    clock.at = AT + timedelta(hours=1)
    scheduler.tick()
    queued = store.current_decision("L1")
    assert queued is not None
    assert (queued.owner_id, queued.queue, str(queued.status)) == ("ops", "unrouted", "fallback")
    clock.at += timedelta(hours=2)
    assert scheduler.tick().escalations == 1
    assert notifications(store)[-1] == ("escalate", "boss")


def test_a_first_touch_stops_the_clock(store: Store):
    """A first touch recorded before the reminder stops every timer of the decision."""
    _, scheduler, clock = setup(store, "reassign")
    record_outcome(
        store,
        Outcome(
            kind=OutcomeKind.FIRST_TOUCH, lead_id="L1", rep_id="r1", at=AT + timedelta(minutes=5)
        ),
    )
    clock.at = AT + timedelta(hours=3)
    report = scheduler.tick()
    assert (report.reminders, report.breaches, report.stopped) == (0, 0, 2)
    assert notifications(store) == []
    assert store.current_decision("L1").epoch == 1  # type: ignore[union-attr]


def test_two_schedulers_fire_each_timer_once(store: Store):
    """Two schedulers on one store share the due timers without firing any twice."""
    _, first, clock = setup(store, "reassign")
    second = Scheduler(store=store, policy=first.policy, reps=REPS, mover=first.mover, clock=clock)
    clock.at = AT + timedelta(hours=2)
    a, b = first.tick(limit=1), second.tick()
    assert a.reminders + b.reminders == 1
    assert a.breaches + b.breaches == 1
    assert [e for e in notifications(store) if e[0] == "reminder"] == [("reminder", "r1")]
    assert store.current_decision("L1").epoch == 2  # type: ignore[union-attr]


def test_no_backup_falls_back_to_telling_the_manager(store: Store):
    """A reassign with no active backup notifies the manager instead of failing silently."""
    _, scheduler, clock = setup(store, "reassign")
    team = {**REPS, "r1": Rep(id="r1", manager_id="boss")}
    scheduler.reps = team
    scheduler.mover.engine.update_team(list(team.values()))  # type: ignore[attr-defined]
    clock.at = AT + timedelta(hours=1)
    report = scheduler.tick()
    assert (report.breaches, report.moved) == (1, 0)
    assert ("breach", "boss") in notifications(store)


def test_breach_reassigns_into_a_pool_without_the_owner(store: Store):
    """``reassign_to: <pool>`` routes the lead again in that pool, the breaching owner left out."""
    policy = parse_policy(POLICY.replace("ON_BREACH", "reassign, reassign_to: na"))
    team = {
        **REPS,
        "r1": Rep(id="r1", name="Ann", pools=("na",), manager_id="boss"),
        "r2": Rep(id="r2", name="Bob", pools=("na",)),
    }
    decision = Decision(
        id=decision_id_for("L1", 1),
        lead_id="L1",
        status=DecisionStatus.ROUTED,
        owner_id="r1",
        step=RouteStep.POOL,
        pool="na",
        rule="na",
        policy_version="s1",
        decided_at=AT,
        lead_type="demo",
        features={"country": "US", "lead_type": "demo"},
        sla_due_at=AT + timedelta(hours=1),
    )
    store.record(decision, [], timers=timers_for(decision, policy, team))
    clock = Clock(AT + timedelta(hours=1))
    engine = Engine.open(policy, store, reps=list(team.values()), clock=clock)
    scheduler = Scheduler(
        store=store, policy=policy, reps=team, mover=EngineMover(engine), clock=clock
    )
    report = scheduler.tick()
    assert (report.breaches, report.moved) == (1, 1)
    moved = store.current_decision("L1")
    assert moved is not None
    assert (moved.owner_id, moved.epoch, moved.pool) == ("r2", 2, "na")
    assert "SLA_BREACHED" in moved.reason
