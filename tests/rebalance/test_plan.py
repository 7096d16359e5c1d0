"""The nightly rebalance: who may move, how few move, caps, and idempotent application."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep

from leadroute.models import Availability, LeaveWindow, RouteStep, Snapshot
from leadroute.router import Router

LATER = AT + timedelta(days=3)
# Two NA reps of equal standing, one of whom speaks German: fit separates them.
TEXT = BASE_POLICY + "constraints: [territory]\n"


def reps(**over):
    base = {
        "a": rep("a", pools=["na"], cap=10, languages=("en",)),
        "b": rep("b", pools=["na"], cap=10, languages=("en", "de")),
        "emea-backup": rep("emea-backup"),
        "ops": rep("ops"),
    }
    base.update(over)
    return list(base.values())


def owned(lead_id, owner, **kw):
    kw.setdefault("created_at", AT)
    return lead(lead_id, owner_id=owner, **kw)


def router_at(store, host, when, text=TEXT):
    return Router(policy_from(text), store=store, host=host, clock=lambda: when)


def test_unworked_lead_moves_to_a_clearly_better_fit(store, host):
    """A German lead sitting untouched with an English-only rep moves to the German speaker."""
    snap = Snapshot(leads=(owned("L1", "a", language="de"),), reps=tuple(reps()))
    result = router_at(store, host, LATER).rebalance(snap)
    [move] = result.plan.moves
    assert (move.from_owner, move.to_owner, move.reasons) == ("a", "b", ("UNWORKED",))
    decision = store.current_decision("L1")
    assert decision is not None
    assert (decision.owner_id, decision.step, decision.epoch) == ("b", RouteStep.REBALANCE, 1)


def test_worked_leads_never_move(store, host):
    """A lead with activity since assignment stays, even with an inactive owner."""
    gone = rep("a", pools=["na"], active=False)
    snap = Snapshot(
        leads=(owned("L1", "a", language="de", last_activity_at=AT + timedelta(hours=2)),),
        reps=tuple(reps(a=gone)),
    )
    result = router_at(store, host, LATER).rebalance(snap)
    assert result.plan.movable == {} and result.plan.moves == ()


def test_fresh_leads_are_not_unworked_yet(store, host):
    """A lead assigned an hour ago is not up for a move (unworked_after is 48h)."""
    snap = Snapshot(leads=(owned("L1", "a", language="de"),), reps=tuple(reps()))
    result = router_at(store, host, AT + timedelta(hours=1)).rebalance(snap)
    assert result.plan.movable == {}


def test_stay_bonus_keeps_leads_with_small_gains(store, host):
    """When the gain is smaller than the stay bonus, the lead stays."""
    snap = Snapshot(leads=(owned("L1", "a", language="de"),), reps=tuple(reps()))
    text = TEXT + "rebalance: {stay_bonus: 5}\n"
    result = router_at(store, host, LATER, text).rebalance(snap)
    assert result.plan.movable == {"L1": ("UNWORKED",)} and result.plan.moves == ()


def test_inactive_and_long_leave_owners_lose_their_leads(store, host):
    """Leads of an inactive owner and of an owner on a long leave are moved."""
    away = rep(
        "c",
        pools=["na"],
        availability=Availability(leave=(LeaveWindow(start=AT, end=LATER + timedelta(days=10)),)),
    )
    snap = Snapshot(
        leads=(owned("L1", "gone"), owned("L2", "c")),
        reps=tuple(reps(gone=rep("gone", active=False), c=away)),
    )
    result = router_at(store, host, AT + timedelta(hours=1)).rebalance(snap)
    assert result.plan.movable == {"L1": ("OWNER_INACTIVE",), "L2": ("OWNER_ON_LEAVE",)}
    assert {m.lead_id: m.to_owner in {"a", "b"} for m in result.plan.moves} == {
        "L1": True,
        "L2": True,
    }


def test_moves_respect_capacity(store, host):
    """No rep ends above capacity, however many leads want them."""
    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(6))
    snap = Snapshot(
        leads=leads, reps=tuple(reps(b=rep("b", pools=["na"], cap=2, languages=("en", "de"))))
    )
    result = router_at(store, host, LATER).rebalance(snap)
    assert sum(m.to_owner == "b" for m in result.plan.moves) == 2


def test_move_caps_are_honoured_in_the_network(store, host):
    """max_moves_per_rep limits discretionary moves away from one rep, without CP-SAT."""
    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(5))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    text = TEXT + "rebalance: {max_moves_per_rep: 2}\n"
    result = router_at(store, host, LATER, text).rebalance(snap)
    assert len(result.plan.moves) == 2
    # The churn-penalty search: a plan within the caps, not a proof of optimality.
    assert result.plan.solution is not None and result.plan.solution.status == "FEASIBLE"


def test_forced_moves_ignore_the_caps(store, host):
    """Leads of an inactive owner move even past max_moves: a cap must not strand them."""
    leads = tuple(owned(f"L{i}", "gone") for i in range(3))
    snap = Snapshot(leads=leads, reps=tuple(reps(gone=rep("gone", active=False))))
    text = TEXT + "rebalance: {max_moves: 1}\n"
    result = router_at(store, host, AT + timedelta(hours=1), text).rebalance(snap)
    assert len(result.plan.moves) == 3


def test_dry_run_writes_nothing(store, host):
    """A dry run plans the moves but records no decision and no run."""
    snap = Snapshot(leads=(owned("L1", "a", language="de"),), reps=tuple(reps()))
    result = router_at(store, host, LATER).rebalance(snap, dry_run=True)
    assert len(result.plan.moves) == 1 and result.applied == 0
    assert store.current_decision("L1") is None and store.runs() == []


def test_applying_twice_moves_nothing_the_second_time(store, host):
    """A second rebalance right after the first has nothing left to move."""
    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(4))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    first = router_at(store, host, LATER).rebalance(snap)
    second = router_at(store, host, LATER).rebalance(snap)
    assert first.applied == 4 and second.applied == 0
    assert second.plan.moves == ()  # nothing planned, not just nothing recorded
    assert {store.current_decision(f"L{i}").epoch for i in range(4)} == {1}  # type: ignore[union-attr]


def test_nobody_with_room_sends_forced_moves_to_fallback(store, host):
    """A lead of an inactive owner with no eligible rep left goes to the fallback queue."""
    full = {"a": rep("a", pools=["na"], cap=0), "b": rep("b", pools=["na"], cap=0)}
    snap = Snapshot(
        leads=(owned("L1", "gone"),), reps=tuple(reps(gone=rep("gone", active=False), **full))
    )
    [move] = router_at(store, host, AT + timedelta(hours=1)).rebalance(snap).plan.moves
    assert move.to_owner == "ops"
    assert "fallback queue" in move.decided.decision.reason


NURTURE_TEXT = (
    TEXT
    + """
nurture: {owner: mkt}
lead_types:
  types:
    - {name: content, when: {lead_type: content}, route: nurture}
    - {name: contact}
scoring:
  mql: 50
  rules: [{name: demo-request, event: demo_request, points: 60}]
"""
)


def test_nurture_leads_stay_until_they_qualify(store, host):
    """An unworked nurture lead stays with marketing; once an event makes it an MQL it moves."""
    from leadroute.models import LeadEvent

    people = (*reps(), rep("mkt"))
    cold = lead("L1", lead_type="content", created_at=AT)
    router_at(store, host, AT, NURTURE_TEXT).route(Snapshot(leads=(cold,), reps=people))
    first = store.current_decision("L1")
    assert first is not None and first.step == RouteStep.NURTURE

    still_cold = router_at(store, host, LATER, NURTURE_TEXT).rebalance(
        Snapshot(leads=(cold,), reps=people)
    )
    assert still_cold.plan.movable == {} and still_cold.plan.moves == ()

    hot = lead(
        "L1",
        lead_type="content",
        created_at=AT,
        events=(LeadEvent(kind="demo_request", at=LATER + timedelta(hours=23)),),
    )
    # The next night (a rebalance plans once a night: min_interval).
    result = router_at(store, host, LATER + timedelta(days=1), NURTURE_TEXT).rebalance(
        Snapshot(leads=(hot,), reps=people)
    )
    [move] = result.plan.moves
    assert move.from_owner == "mkt" and move.to_owner in {"a", "b"}
    assert move.reasons == ("UNWORKED", "QUALIFIED")


def test_rebalance_sees_normalized_countries(store, host):
    """A lead written 'United Kingdom' is placed as GB (EMEA) when its inactive owner goes."""
    gone = rep("a", pools=["na"], active=False)
    uk = rep("uk", pools=["emea"], territories=("EMEA",))
    snap = Snapshot(leads=(owned("L1", "a", country="United Kingdom"),), reps=(*reps(a=gone), uk))
    [move] = router_at(store, host, LATER).rebalance(snap).plan.moves
    assert move.to_owner == "uk"


def test_the_nightly_run_moves_leads_to_off_shift_reps_for_the_morning(store, host):
    """At 02:00 nobody is on shift: hours defer the new owner's clock instead of blocking moves."""
    hours = Availability(timezone="America/Chicago", hours={"mon-fri": "09:00-17:00"})
    night = (LATER + timedelta(days=1)).replace(hour=8)  # Fri 02:00 in Chicago
    snap = Snapshot(
        leads=(owned("L1", "a", language="de"),),
        reps=tuple(reps(b=rep("b", pools=["na"], cap=10, languages=("de",), availability=hours))),
    )
    [move] = router_at(store, host, night).rebalance(snap).plan.moves
    d = move.decided.decision
    assert (move.to_owner, d.step) == ("b", RouteStep.REBALANCE)
    assert d.sla_starts_at == night.replace(hour=15)  # 09:00 CST the same Friday


def test_moves_keep_the_solve_with_their_decisions(store, host):
    """A rebalance move records the joint solve that made it (status, bound, gap, timings)."""
    snap = Snapshot(leads=(owned("L1", "a", language="de"),), reps=tuple(reps()))
    router_at(store, host, LATER).rebalance(snap)
    decision = store.current_decision("L1")
    assert decision is not None and decision.solve is not None
    solve = decision.solve
    assert (solve.status, solve.leads, solve.pairs) == ("OPTIMAL", 1, 2)
    # Fits are real, so the bound includes the scaling's possible rounding loss.
    assert solve.bound is not None and solve.objective <= solve.bound and solve.gap < 1e-3


def test_a_pool_cap_limits_what_a_rebalance_moves_into_the_pool(store, host):
    """Leads of an inactive owner beyond the pool's cap go to fallback, saying the cap is reached."""
    text = TEXT.replace(
        "{name: na, strategy: round_robin}", "{name: na, strategy: round_robin, max_per_batch: 1}"
    )
    leads = tuple(owned(f"L{i}", "gone") for i in range(2))
    snap = Snapshot(leads=leads, reps=tuple(reps(gone=rep("gone", active=False))))
    moves = router_at(store, host, AT + timedelta(hours=1), text).rebalance(snap).plan.moves
    assert sorted(m.to_owner in {"a", "b"} for m in moves) == [False, True]
    (over,) = [m for m in moves if m.to_owner == "ops"]
    assert "pool na cap reached (1 lead per batch), so it goes to the fallback queue" in (
        over.decided.decision.reason
    )


def test_a_crash_mid_apply_resumes_without_moving_anything_twice(store, host, monkeypatch):
    """Killed after two of four moves, a rerun moves only the other two, each once, one effect each."""
    import pytest

    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(4))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    restore, calls = crash_after(store, monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        router_at(store, host, LATER).rebalance(snap)
    restore()
    done_before = set(calls[:2])
    assert set(store.current_decisions()) == done_before  # two moves committed, then the crash

    resumed = router_at(store, host, LATER + timedelta(minutes=5)).rebalance(snap)
    assert {m.lead_id for m in resumed.plan.moves} == {f"L{i}" for i in range(4)} - done_before
    final = store.current_decisions()
    assert len(final) == 4 and {(d.owner_id, d.epoch) for d in final.values()} == {("b", 1)}
    effects = [e for e in store.pending_effects() if e.kind == "owner_write"]
    assert sorted(e.lead_id for e in effects) == [f"L{i}" for i in range(4)]  # one per move
    assert len({e.idem_key for e in effects}) == 4
    again = router_at(store, host, LATER + timedelta(minutes=10)).rebalance(snap)
    assert again.plan.moves == ()


def test_the_total_move_cap_is_honoured(store, host):
    """max_moves limits discretionary moves across all reps in one run."""
    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(5))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    text = TEXT + "rebalance: {max_moves: 3}\n"
    result = router_at(store, host, LATER, text).rebalance(snap)
    assert len(result.plan.moves) == 3 and result.applied == 3
    assert result.plan.kept == 2


def crash_after(store, monkeypatch, commits):
    """Make the process die (KeyboardInterrupt) once ``commits`` decisions are committed.

    Decisions are committed in groups: the group that reaches the limit has its first
    decisions committed (as if the limit fell on a group boundary), then the process dies
    before the rest. Returns the undo and the lead ids of every decision offered for commit.
    """
    commit = store.commit
    calls: list[str] = []

    def crashing(units):
        done = len(calls)
        calls.extend(u.decision.lead_id for u in units)
        if len(calls) <= commits:
            return commit(units)
        commit(units[: max(0, commits - done)])
        raise KeyboardInterrupt("killed mid-apply")

    monkeypatch.setattr(store, "commit", crashing)
    return (lambda: monkeypatch.setattr(store, "commit", commit)), calls


def test_a_resumed_run_keeps_the_total_move_cap(store, host, monkeypatch):
    """max_moves 3, killed after 2 moves: the rerun moves 1 more, not 3 (the caps span the crash)."""
    import pytest

    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(6))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    text = TEXT + "rebalance: {max_moves: 3}\n"
    restore, _ = crash_after(store, monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        router_at(store, host, LATER, text).rebalance(snap)
    restore()
    resumed = router_at(store, host, LATER + timedelta(minutes=5), text).rebalance(snap)
    assert resumed.applied == 1
    assert sum(d.owner_id == "b" for d in store.current_decisions().values()) == 3
    runs = {r["id"]: r for r in store.runs()}
    assert all(r["finished_at"] is not None for r in runs.values())  # the crashed run is closed
    assert sorted(r["counts"].get("resumed_after", 0) for r in runs.values()) == [0, 2]
    # A rerun the same night plans nothing (min_interval); the next night the budget is
    # whole again: the interrupted run's moves are not charged twice.
    assert router_at(store, host, LATER + timedelta(minutes=10), text).rebalance(snap).applied == 0
    later = router_at(store, host, LATER + timedelta(days=1), text).rebalance(snap)
    assert later.applied == 3


def test_a_resumed_run_keeps_the_per_rep_move_cap(store, host, monkeypatch):
    """max_moves_per_rep 2, killed after 1 move away from a: the rerun moves 1 more from a."""
    import pytest

    leads = tuple(owned(f"L{i}", "a", language="de") for i in range(4))
    snap = Snapshot(leads=leads, reps=tuple(reps()))
    text = TEXT + "rebalance: {max_moves_per_rep: 2}\n"
    restore, _ = crash_after(store, monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        router_at(store, host, LATER, text).rebalance(snap)
    restore()
    dry = router_at(store, host, LATER + timedelta(minutes=5), text).rebalance(snap, dry_run=True)
    assert len(dry.plan.moves) == 1  # a dry run sees the spent cap too, and closes nothing
    resumed = router_at(store, host, LATER + timedelta(minutes=5), text).rebalance(snap)
    assert resumed.applied == 1
    assert sum(d.owner_id == "b" for d in store.current_decisions().values()) == 2
