"""Per-pool shares: what each rep received against what the policy intends."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AT, lead, snapshot
from tests.test_strategies import WEIGHTED_POLICY

from leadroute.models import Availability, Decision, DecisionStatus, LeaveWindow, Rep, RouteStep
from leadroute.policy import parse_policy
from leadroute.router import Router
from leadroute.shares import as_json, pool_shares
from leadroute.strategies import Ledger


def test_shares_follow_weights_and_leave(store, host):
    """A weight-2 rep gets twice the share; a rep on leave half the period is meant half."""
    policy = parse_policy(WEIGHTED_POLICY)
    reps = [
        Rep(id="a", pools=("na",)),
        Rep(id="b", pools=("na",), weight=2.0),
        Rep(
            id="c",
            pools=("na",),
            availability=Availability(
                leave=(LeaveWindow(start=AT + timedelta(days=1), end=AT + timedelta(days=9)),)
            ),
        ),
        Rep(id="ops"),
    ]
    for day in range(2):
        clock_at = AT + timedelta(days=day)
        router = Router(policy, store=store, host=host, clock=lambda at=clock_at: at)
        router.route(snapshot([lead(f"D{day}-{i}") for i in range(40)], reps))
    [na] = pool_shares(
        policy,
        reps,
        store.current_decisions().values(),
        store.load_ledger().values(),
        since=AT,
        until=AT + timedelta(days=2),
    )
    assert na.total == 80
    by_rep = {r.rep_id: r for r in na.reps}
    # Day 1: a, b, c share 1:2:1; day 2 (c away): a and b share 1:2.
    assert by_rep["c"].intended == (10 + 0) / 80
    assert abs(by_rep["a"].intended - (10 + 40 / 3) / 80) < 1e-9
    assert abs(by_rep["b"].intended - (20 + 80 / 3) / 80) < 1e-9
    assert na.max_gap <= 1 / 80 + 1e-9  # within one lead of the intent
    assert sum(r.received for r in na.reps) == 80
    assert all(r.level > 0 for r in na.reps)
    [data] = as_json([na])
    assert data["pool"] == "na" and {r["rep_id"] for r in data["reps"]} == {"a", "b", "c"}


def test_no_decisions_means_zero_shares():
    """A pool with no decisions in the period reports zeros, not a division error."""
    policy = parse_policy(WEIGHTED_POLICY)
    [na] = pool_shares(
        policy,
        [Rep(id="a", pools=("na",)), Rep(id="ops")],
        [],
        Ledger({}, 0).entries(),
        since=AT,
        until=AT + timedelta(days=1),
    )
    assert na.total == 0 and na.max_gap == 0.0
    assert [(r.rep_id, r.share, r.intended, r.level) for r in na.reps] == [("a", 0.0, 0.0, 0.0)]


def test_off_shift_reps_are_not_meant_a_share_unless_the_pool_defers():
    """A rep off shift when a lead arrived is not owed it; under ``defer`` they are."""
    hours = Availability(timezone="Asia/Tokyo", hours={"mon-fri": "09:00-17:00"})
    reps = [Rep(id="a", pools=("na",)), Rep(id="tokyo", pools=("na",), availability=hours)]
    decisions = [
        Decision(
            id=f"d{i}",
            lead_id=f"L{i}",
            status=DecisionStatus.ROUTED,
            owner_id="a",
            step=RouteStep.POOL,
            pool="na",
            policy_version="t",
            decided_at=AT,  # Monday 18:00 in Tokyo
        )
        for i in range(4)
    ]
    window = {"since": AT, "until": AT + timedelta(hours=1)}
    [strict] = pool_shares(parse_policy(WEIGHTED_POLICY), reps, decisions, [], **window)
    assert {r.rep_id: r.intended for r in strict.reps} == {"a": 1.0, "tokyo": 0.0}
    deferring = parse_policy(WEIGHTED_POLICY.replace("half_life: 7d", "out_of_hours: defer"))
    [relaxed] = pool_shares(deferring, reps, decisions, [], **window)
    assert {r.rep_id: r.intended for r in relaxed.reps} == {"a": 0.5, "tokyo": 0.5}
