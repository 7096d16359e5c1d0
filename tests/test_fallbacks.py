"""Fallback codes: a full or absent pool is never silent, in counts and the exception report."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from tests.conftest import AT, lead, policy_from, rep, snapshot

from leadroute.fallbacks import fallback_code, fallback_problems
from leadroute.models import (
    Availability,
    Capacity,
    Decision,
    DecisionStatus,
    Exclusion,
    LeaveWindow,
    Rep,
    RouteStep,
)
from leadroute.router import Router


def fallback(path: tuple[str, ...], exclusions: tuple[tuple[str, str], ...] = (), reason=""):
    return Decision(
        id="d",
        lead_id="L1",
        status=DecisionStatus.FALLBACK,
        owner_id="ops",
        queue="unrouted",
        step=RouteStep.FALLBACK,
        route_path=path,
        exclusions=tuple(Exclusion(rep_id=r, code=c) for r, c in exclusions),
        reason=reason,
        policy_version="t",
        decided_at=AT,
        escalate_at=AT + timedelta(hours=4),
    )


@pytest.mark.parametrize(
    ("path", "exclusions", "reason", "code"),
    [
        (("validation:fallback",), (), "", "VALIDATION"),
        (("rule:none",), (), "", "NO_RULE"),
        (("rule:na", "pool:na"), (("a", "DAILY_CAP"), ("b", "OPEN_CAP")), "", "POOL_FULL"),
        (("rule:na", "pool:na"), (("a", "ON_LEAVE"), ("b", "OUT_OF_HOURS")), "", "POOL_AWAY"),
        (("rule:na", "pool:na"), (("a", "ON_LEAVE"), ("b", "WEEKLY_CAP")), "", "POOL_FULL_OR_AWAY"),
        (("rule:na", "pool:na"), (("a", "TERRITORY_MISMATCH"),), "", "NO_ELIGIBLE_REP"),
        (("rule:na", "pool:na"), (), "no room left among 3 eligible reps", "POOL_FULL"),
        (("rebalance:UNWORKED", "rule:na"), (), "", "REBALANCE_NO_ROOM"),
        (("reassign:from-a", "rule:na"), (), "", "REASSIGNED_NO_ROOM"),
    ],
)
def test_fallback_codes(path, exclusions, reason, code):
    """Each way into the fallback queue has its own stable code."""
    assert fallback_code(fallback(path, exclusions, reason)) == code


def test_a_full_pool_is_counted_and_reported(store, host):
    """Every rep full: the run counts the fallback by code and the exception report has a row."""
    reps = [
        Rep(id="a", pools=("na",), capacity=Capacity(per_day=1)),
        Rep(
            id="b",
            pools=("na",),
            availability=Availability(leave=(LeaveWindow(start=AT, end=AT + timedelta(days=1)),)),
        ),
        rep("emea-backup"),
        rep("ops"),
    ]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    leads = [lead("L1", origin="leads.csv:2"), lead("L2", origin="leads.csv:3")]
    result = router.route(snapshot(leads, reps))
    counts = result.counts()
    assert (counts["routed"], counts["fallback"], counts["exceptions"]) == (1, 1, 0)
    assert counts["fallback_by_code"] == {"POOL_FULL_OR_AWAY": 1}
    assert counts["data_problems"] == 0
    [row] = result.problems
    assert (row.file, row.line, row.record_id, row.kind, row.code) == (
        "leads.csv",
        3,
        "L2",
        "fallback",
        "FALLBACK_POOL_FULL_OR_AWAY",
    )
    assert "owner ops" in row.message and "1 DAILY_CAP" in row.message
    # A replay makes no new fallback, but the lead still waits in the queue: the rerun's
    # report lists it again (a cron user must not lose the queue).
    again = [p for p in router.route(snapshot(leads, reps)).problems if p.kind == "fallback"]
    assert again == [row]


def test_routed_decisions_make_no_rows():
    """Only fallback decisions become exception-report rows; a lead without origin says input."""
    queued = fallback(("rule:none",))
    routed = attrs.evolve(queued, status=DecisionStatus.ROUTED, queue="")
    assert fallback_code(routed) == ""
    [row] = fallback_problems([queued, routed], {})
    assert (row.file, row.line, row.code) == ("input", None, "FALLBACK_NO_RULE")


def test_an_away_fallback_owner_is_a_data_problem(store, host):
    """A queue owner on leave is reported (the run still routes), so someone can step in."""
    away = Rep(
        id="ops",
        origin="reps.csv:7",
        availability=Availability(leave=(LeaveWindow(start=AT, end=AT + timedelta(days=2)),)),
    )
    reps = [r for r in snapshot([]).reps if r.id != "ops"] + [away]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot([lead("L1")], reps))
    [problem] = result.problems
    assert (problem.file, problem.kind, problem.record_id, problem.code) == (
        "reps.csv",
        "rep",
        "ops",
        "FALLBACK_OWNER_AWAY",
    )
    assert "on leave until 2026-11-04" in problem.message
    assert result.counts()["data_problems"] == 1 and result.counts()["routed"] == 1
