"""SLA timers in the store: written with the decision, claimed once, stopped by a new epoch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadroute.models import (
    Decision,
    DecisionStatus,
    Effect,
    Outcome,
    OutcomeKind,
    RouteStep,
    Timer,
    TimerKind,
    decision_id_for,
)
from leadroute.store import Store
from leadroute.store.outcomes import record_outcome
from leadroute.store.timers import (
    cancel_lead_timers,
    claim_due,
    finish,
    lead_timers,
    pending_timers,
    settle,
    timer_counts,
    touched_since,
)

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def decision(lead_id: str = "L1", epoch: int = 1, owner: str = "r1") -> Decision:
    return Decision(
        id=decision_id_for(lead_id, epoch),
        lead_id=lead_id,
        epoch=epoch,
        status=DecisionStatus.ROUTED,
        owner_id=owner,
        step=RouteStep.POOL,
        policy_version="t",
        decided_at=AT,
    )


def timer(d: Decision, kind: TimerKind, minutes: int) -> Timer:
    return Timer(
        id=Timer.id_for(d.id, str(kind)),
        lead_id=d.lead_id,
        decision_id=d.id,
        kind=kind,
        due_at=AT + timedelta(minutes=minutes),
    )


def test_timers_are_written_with_their_decision(store: Store):
    """Store.record writes the decision's timers in its transaction; a replay adds none."""
    d = decision()
    timers = [timer(d, TimerKind.REMINDER, 30), timer(d, TimerKind.BREACH, 60)]
    assert store.record(d, [], timers=timers)
    assert not store.record(d, [], timers=timers)
    assert [t.kind for t in pending_timers(store, "L1")] == [TimerKind.REMINDER, TimerKind.BREACH]


def test_a_new_epoch_cancels_the_older_clock(store: Store):
    """The lead's pending timers of an older epoch are cancelled when a new epoch is recorded."""
    first = decision()
    store.record(first, [], timers=[timer(first, TimerKind.BREACH, 60)])
    second = decision(epoch=2, owner="r2")
    store.record(second, [], timers=[timer(second, TimerKind.BREACH, 120)])
    pending = pending_timers(store, "L1")
    assert [t.decision_id for t in pending] == [second.id]
    old = next(t for t in lead_timers(store, "L1") if t.decision_id == first.id)
    assert old.status == "cancelled"
    assert "superseded" in old.detail


def test_claims_take_only_due_timers_and_never_twice(store: Store):
    """A due timer is claimed by one worker; another sees it only after the lease runs out."""
    d = decision()
    store.record(d, [], timers=[timer(d, TimerKind.REMINDER, 30), timer(d, TimerKind.BREACH, 60)])
    lease = timedelta(minutes=5)
    now = AT + timedelta(minutes=45)
    mine = claim_due(store, now, worker="a", lease=lease)
    assert [t.kind for t in mine] == [TimerKind.REMINDER]
    assert claim_due(store, now, worker="b", lease=lease) == []
    later = now + timedelta(minutes=6)
    # The lease ran out (worker a died): b may take the reminder; the breach is not due yet.
    assert [t.kind for t in claim_due(store, later, worker="b", lease=lease)] == [
        TimerKind.REMINDER
    ]


def test_settle_marks_the_timer_and_adds_its_effects_once(store: Store):
    """Settling writes the timer's status and its effects together, and only the first time."""
    d = decision()
    t = timer(d, TimerKind.REMINDER, 30)
    store.record(d, [], timers=[t])
    effect = Effect(kind="notify:console", decision_id=d.id, lead_id="L1", idem_key="k1")
    assert settle(store, t, status="done", detail="reminded", at=AT, effects=[effect])
    assert not settle(store, t, status="done", detail="again", at=AT, effects=[effect])
    assert [e.idem_key for e in store.pending_effects()] == ["k1"]
    assert timer_counts(store) == {"done": 1}


def test_finish_records_a_fired_timer_even_after_its_epoch_cancelled_it(store: Store):
    """A breach whose move cancelled the clock still ends ``done`` with what it did."""
    d = decision()
    t = timer(d, TimerKind.BREACH, 60)
    store.record(d, [], timers=[t])
    store.record(decision(epoch=2, owner="r2"), [])
    finish(store, t, detail="moved to r2 (epoch 2)", at=AT)
    fired = lead_timers(store, "L1")[0]
    assert (fired.status, fired.detail) == ("done", "moved to r2 (epoch 2)")


def test_a_first_touch_is_seen_and_stops_the_clock(store: Store):
    """touched_since finds a first touch after the decision; cancel_lead_timers stops the clock."""
    d = decision()
    store.record(d, [], timers=[timer(d, TimerKind.BREACH, 60)])
    assert not touched_since(store, "L1", AT)
    record_outcome(
        store, Outcome(kind=OutcomeKind.FIRST_TOUCH, lead_id="L1", at=AT + timedelta(minutes=5))
    )
    assert touched_since(store, "L1", AT)
    assert cancel_lead_timers(store, "L1", reason="first touch", at=AT) == 1
    assert pending_timers(store) == []


def test_backoff_keeps_a_failed_effect_out_of_the_due_set(store: Store):
    """A retryable failure waits out its backoff before the continuous relay sees it again."""
    from leadroute.models import EffectResult

    d = decision()
    effect = Effect(kind="owner_write", decision_id=d.id, lead_id="L1", idem_key="k1")
    store.record(d, [effect])
    now = datetime.now(UTC)
    assert len(store.pending_effects(due_by=now)) == 1
    store.mark_effects([EffectResult(idem_key="k1", ok=False, retryable=True, detail="503")])
    assert store.pending_effects(due_by=datetime.now(UTC)) == []
    assert len(store.pending_effects(due_by=now + timedelta(seconds=3))) == 1
    assert len(store.pending_effects()) == 1  # a command-line relay tries it anyway
