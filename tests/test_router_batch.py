"""route --batch: the same pipeline, with the pool choice made jointly by the solver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from structlog.testing import capture_logs
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep

from leadroute.models import DecisionStatus, RouteStep
from leadroute.router import Router


def test_batch_beats_one_at_a_time_on_the_textbook_case(store, host):
    """Jointly, L1 yields its best rep to L2 so both are placed; one at a time strands L2."""
    text = BASE_POLICY + "constraints: [territory, language]\n"
    reps = [
        rep("de", pools=["na"], cap=1, languages=("de", "en")),
        rep("en", pools=["na"], cap=1, languages=("en",)),
        rep("emea-backup"),
        rep("ops"),
    ]
    leads = [lead("L1", language="en"), lead("L2", language="de")]
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot_of(leads, reps), batch=True)
    owners = {d.lead_id: d.owner_id for d in result.decisions}
    assert owners == {"L1": "en", "L2": "de"}
    assert result.solution is not None and result.solution.optimal


def test_batch_respects_capacity_and_sends_the_rest_to_fallback(store, host):
    """With room for two, three leads give two placements and one fallback with the reason."""
    reps = [
        rep("a", pools=["na"], cap=1),
        rep("b", pools=["na"], cap=2, open_leads=1),
        rep("emea-backup"),
        rep("ops"),
    ]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot_of([lead(f"L{i}") for i in range(3)], reps), batch=True)
    statuses = sorted(str(d.status) for d in result.decisions)
    assert statuses == ["fallback", "routed", "routed"]
    fallback = next(d for d in result.decisions if d.status == DecisionStatus.FALLBACK)
    assert "no room left among 2 eligible reps in the joint optimum" in fallback.reason
    assert sorted(d.owner_id for d in result.decisions if d.status == DecisionStatus.ROUTED) == [
        "a",
        "b",
    ]


def test_sticky_owners_use_capacity_before_the_solve(store, host):
    """An account lead for a capped owner takes its room, so the solver places the other lead elsewhere."""
    from leadroute.models import Account

    reps = [
        rep("a", pools=["na"], cap=1),
        rep("b", pools=["na"], cap=5),
        rep("emea-backup"),
        rep("ops"),
    ]
    accounts = [Account(id="A1", name="Acme", domain="acme.com", owner_id="a")]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    result = router.route(
        snapshot_of([lead("L1"), lead("L2", email="x@acme.com")], reps, accounts), batch=True
    )
    by_lead = {d.lead_id: d for d in result.decisions}
    assert (by_lead["L2"].owner_id, by_lead["L2"].step) == ("a", RouteStep.ACCOUNT_OWNER)
    assert by_lead["L1"].owner_id == "b"


def test_batch_explains_a_lead_that_did_not_get_its_best_fit(store):
    """A lead placed away from its best-fit rep says what moving it would gain and cost."""
    from leadroute.host import hookimpl, make_host
    from leadroute.models import FitContribution

    fits = {("L1", "a"): 10, ("L1", "b"): 8, ("L2", "a"): 9}

    class TableFit:
        @hookimpl
        def leadroute_score_fit(self, lead, rep, ctx):
            return [FitContribution(name="table", value=fits.get((lead.id, rep.id), 0))]

    text = BASE_POLICY + (
        "constraints: [territory]\nfit: {weights: {language: 0, product: 0, headroom: 0}}\n"
    )
    reps = [
        rep("a", pools=["na"], cap=1),
        rep("b", pools=["na"], cap=1, territories=("US",)),
        rep("emea-backup"),
        rep("ops"),
    ]
    host = make_host(load_entrypoints=False, plugins=[TableFit()])
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot_of([lead("L1"), lead("L2", country="CA")], reps), batch=True)
    l1 = next(d for d in result.decisions if d.lead_id == "L1")
    assert (l1.owner_id, l1.strategy) == ("b", "optimize")
    assert l1.reason == (
        "batch optimizer in pool na: best-fit a (fit 10.00, load 0/1) is full at the optimum: "
        "moving this lead there would gain 2.00 in fit, but its capacity is priced 2.00 above "
        "b's by the leads that hold it"
    )


def test_batch_rerun_replays(store, host):
    """A second batch run over the same leads replays every decision and solves nothing."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    snap = snapshot_of([lead("L1"), lead("L2")], None)
    router.route(snap, batch=True)
    again = router.route(snap, batch=True)
    assert again.counts()["new"] == 0 and again.solution is None


def snapshot_of(leads, reps, accounts=()):
    from tests.conftest import snapshot

    return snapshot(leads, reps, accounts)


def test_batch_publishes_prices_that_the_optimize_strategy_uses_online(store):
    """After a batch run, an optimize pool spends contended capacity only where it is worth it."""
    from leadroute.host import hookimpl, make_host
    from leadroute.models import FitContribution

    fits = {
        ("L1", "a"): 10,
        ("L1", "b"): 8,
        ("L2", "a"): 9,
        ("L3", "a"): 10,
        ("L3", "b"): 8,
        ("L4", "a"): 9,
    }

    class TableFit:
        @hookimpl
        def leadroute_score_fit(self, lead, rep, ctx):
            return [FitContribution(name="table", value=fits.get((lead.id, rep.id), 0))]

    text = BASE_POLICY.replace(
        "{name: na, strategy: round_robin}", "{name: na, strategy: optimize}"
    ) + ("constraints: [territory]\nfit: {weights: {language: 0, product: 0, headroom: 0}}\n")
    host = make_host(load_entrypoints=False, plugins=[TableFit()])
    only_l2 = {"L2", "L4"}

    def team(cap):
        return [
            rep("a", pools=["na"], cap=cap),
            rep("b", pools=["na"], cap=cap),
            rep("emea-backup"),
            rep("ops"),
        ]

    def leads(*ids):
        # L2 and L4 can only go to a: b is outside their territory.
        return [lead(i, country="US" if i not in only_l2 else "CA") for i in ids]

    reps_day1 = team(1)
    reps_day1[1] = rep("b", pools=["na"], cap=1, territories=("US",))
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    router.route(snapshot_of(leads("L1", "L2"), reps_day1), batch=True)
    # The full rep a is worth 2 (what L2 and L4 lose elsewhere); on top, each busy rep
    # carries the convex capacity cost of its last lead (0.2% of the top fit per quarter).
    prices = store.load_prices()
    assert prices == pytest.approx({"a": 2.06, "b": 0.06, "emea-backup": 0.0, "ops": 0.0})

    reps_day2 = team(2)
    reps_day2[1] = rep("b", pools=["na"], cap=2, territories=("US",))
    result = router.route(snapshot_of(leads("L1", "L2", "L3", "L4"), reps_day2))
    owners = {d.lead_id: d.owner_id for d in result.decisions}
    assert (owners["L3"], owners["L4"]) == ("b", "a")
    l3 = next(d for d in result.decisions if d.lead_id == "L3")
    assert l3.candidates[0].reason.startswith("fit 8.00 - capacity price 0.06 = 7.94")


def test_batch_fairness_from_the_policy_spreads_load(tmp_path, host):
    """Without fairness the better-fit rep takes every lead; with batch.fairness they split."""
    from leadroute.store import Store

    text = BASE_POLICY + "constraints: [territory]\n"
    reps = [
        rep("a", pools=["na"], cap=8, languages=("en",)),
        rep("b", pools=["na"], cap=8, languages=("en", "de")),
        rep("emea-backup"),
        rep("ops"),
    ]
    leads = [lead(f"L{i}", language="de") for i in range(8)]
    results = {}
    for name, extra in (("plain", ""), ("fair", "batch: {fairness: 1.5}\n")):
        with Store.open(tmp_path / f"{name}.db") as store:
            router = Router(policy_from(text + extra), store=store, host=host, clock=lambda: AT)
            results[name] = router.route(snapshot_of(leads, reps), batch=True)
    assert {d.owner_id for d in results["plain"].decisions} == {"b"}
    owners = [d.owner_id for d in results["fair"].decisions]
    assert 0 < owners.count("a") < 8
    assert results["fair"].solution is not None and results["fair"].solution.penalty > 0


def test_policy_side_constraints_reach_the_solver(store, host):
    """batch.same_owner_per_account keeps two leads of one ownerless account on one rep."""
    from leadroute.models import Account

    text = BASE_POLICY + (
        "constraints: [territory, language]\n"
        "batch: {same_owner_per_account: true, time_limit: 5s}\n"
    )
    reps = [
        rep("en", pools=["na"], cap=5, languages=("en",)),
        rep("de", pools=["na"], cap=5, languages=("de",)),
        rep("both", pools=["na"], cap=5, languages=("en", "de")),
        rep("emea-backup"),
        rep("ops"),
    ]
    accounts = [Account(id="A1", name="Acme", domain="acme.com", owner_id="")]
    leads = [
        lead("L1", email="x@acme.com", language="en"),
        lead("L2", email="y@acme.com", language="de"),
    ]
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot_of(leads, reps, accounts), batch=True)
    assert {d.owner_id for d in result.decisions} == {"both"}
    assert {d.account_id for d in result.decisions} == {"A1"}


def test_bad_type_share_is_a_policy_error():
    """A share outside (0, 1] is refused with its path."""
    import pytest

    from leadroute.errors import PolicyError

    with pytest.raises(PolicyError, match=r"batch\.max_type_share\.demo: must be a share"):
        policy_from(BASE_POLICY + "batch: {max_type_share: {demo: 1.5}}\n")


def test_batch_sends_nurture_types_to_nurture_and_keeps_the_intake_fields(store, host):
    """In batch mode a content lead below MQL goes to nurture; the solver's picks carry type and SLA."""
    text = (
        BASE_POLICY
        + """
nurture: {owner: mkt}
lead_types:
  types:
    - {name: content, when: {lead_type: content}, route: nurture, sla: 1d}
    - {name: demo, sla: 1h, priority: 1}
"""
    )
    reps = [rep("a", pools=["na"], cap=5), rep("emea-backup"), rep("ops"), rep("mkt")]
    leads = [lead("L1", lead_type="content"), lead("L2", lead_type="demo")]
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    by_id = {d.lead_id: d for d in router.route(snapshot_of(leads, reps), batch=True).decisions}
    assert (by_id["L1"].step, by_id["L1"].owner_id) == (RouteStep.NURTURE, "mkt")
    assert (by_id["L2"].owner_id, by_id["L2"].strategy) == ("a", "optimize")
    assert (by_id["L2"].lead_type, by_id["L2"].priority) == ("demo", 1)
    assert by_id["L2"].sla_due_at == AT + timedelta(hours=1)


def test_a_pool_cap_sends_the_overflow_to_fallback_with_its_reason(store, host):
    """emea (max_per_batch 2) places two of three leads; the third goes to fallback, not backup."""
    text = BASE_POLICY.replace("backup: emea-backup}", "backup: emea-backup, max_per_batch: 2}")
    reps = [
        rep("de", pools=["emea", "na"], cap=5),
        rep("gb", pools=["emea"], cap=5),
        rep("us", pools=["na"], cap=5),
        rep("emea-backup"),
        rep("ops"),
    ]
    leads = [lead(f"E{i}", country="DE") for i in range(3)] + [lead("N1")]
    router = Router(policy_from(text), store=store, host=host, clock=lambda: AT)
    with capture_logs() as logs:
        result = router.route(snapshot_of(leads, reps), batch=True)
    (priced,) = [e for e in logs if e["event"] == "solver.pool_prices"]
    assert set(priced["prices"]) == {"emea"} and priced["prices"]["emea"] > 0  # the cap binds
    emea = [d for d in result.decisions if d.lead_id.startswith("E")]
    assert sum(d.status == DecisionStatus.ROUTED for d in emea) == 2
    (over,) = [d for d in emea if d.status == DecisionStatus.FALLBACK]
    assert over.owner_id == "ops" and over.queue == "unrouted"
    assert over.reason == "pool emea cap reached (2 leads per batch)"
    assert "pool:cap-reached" in over.route_path
    n1 = next(d for d in result.decisions if d.lead_id == "N1")
    assert n1.status == DecisionStatus.ROUTED  # the uncapped pool is untouched


def test_batch_decisions_keep_the_solve_and_explain_shows_it(store, host):
    """Each solver decision stores the solve's status, bound, gap and timings; explain prints them."""
    from leadroute.cli.render import explain_lines

    reps = [rep("a", pools=["na"], cap=1), rep("b", pools=["na"], cap=1), rep("ops")]
    reps.append(rep("emea-backup"))
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot_of([lead("L1"), lead("L2"), lead("L3")], reps), batch=True)
    stored = {i: store.current_decision(i) for i in ("L1", "L2", "L3")}
    solves = {d.solve for d in stored.values() if d is not None}
    assert len(solves) == 1  # one joint solve, kept with every lead it decided
    (solve,) = solves
    assert solve is not None and (solve.status, solve.gap, solve.leads) == ("OPTIMAL", 0, 3)
    assert solve.bound == solve.objective and solve.unassigned == 1
    assert solve.solve_seconds >= 0 and solve.build_seconds >= 0
    assert solve.run_id == store.runs()[0]["id"]  # which run recorded it
    lines = explain_lines(stored["L1"])
    assert any(
        line.startswith("Joint solve: OPTIMAL, total fit") and "over 3 leads" in line
        for line in lines
    )


def test_online_decisions_carry_no_solve(store, host):
    """A lead routed one at a time has no joint solve to report."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot_of([lead("L1")], None))
    decision = store.current_decision("L1")
    assert decision is not None and decision.solve is None
