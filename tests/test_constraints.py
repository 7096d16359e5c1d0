"""Hard constraints: each exclusion code and detail, and the index agreeing with the reference."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import AT, lead, policy_from, rep

from leadroute.constraints import ConstraintIndex, check_rep, named_accounts
from leadroute.context import RoutingContext
from leadroute.host import hookimpl, make_host
from leadroute.models import (
    Account,
    AccountIndex,
    Capacity,
    Decision,
    ExclusionCode,
    Lead,
    Rep,
)
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import Policy
from leadroute.strategies import Ledger

POLICY = """
version: c1
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
segments:
  - {name: hot, min_score: 80}
  - {name: big, min_revenue: 10000000}
  - {name: smb, max_employees: 199}
  - {name: enterprise, min_employees: 200}
territories:
  NA-West: {keys: [US-CA, US-OR, "US:97"]}
  Strategic: {accounts: [acme.com, A-9]}
skills:
  - {name: banks, when: {industry: banking}, require: {fintech: 2}}
pools: [{name: all}]
routing:
  - {name: payments, when: {product: payments}, pool: all, skills: {payments: 1}}
  - {name: plain, when: {product: plain}, pool: all, constraints: [territory]}
  - {name: all, pool: all}
fallback: {owner: ops}
"""


def pipeline_for(reps: list[Rep], accounts: tuple[Account, ...] = (), **kw: Any) -> Pipeline:
    return Pipeline.build(
        kw.get("host") or make_host(load_entrypoints=False),
        kw.get("policy") or policy_from(POLICY),
        [*reps, rep("ops")],
        AccountIndex.build(list(accounts)),
        assigned={},
        ledger=Ledger({}, 0),
    )


def decide(pipeline: Pipeline, item: Lead) -> Decision:
    outcome = pipeline.decide(item, AT)
    assert isinstance(outcome, Decided)
    return outcome.decision


def excluded(decision: Decision) -> dict[str, tuple[str, str]]:
    return {e.rep_id: (e.code, e.detail) for e in decision.all_exclusions()}


def test_named_territory_mismatch_names_the_territory():
    """A lead outside a named territory: TERRITORY_MISMATCH with the lead's place and the territory."""
    reps = [rep("west", pools=["all"], territories=("NA-West",)), rep("any", pools=["all"])]
    d = decide(pipeline_for(reps), lead("L1", country="JP"))
    assert d.owner_id == "any"
    assert excluded(d)["west"] == (ExclusionCode.TERRITORY_MISMATCH, "JP not in NA-West")
    d = decide(pipeline_for(reps), lead("L2", country="DE"))
    assert excluded(d)["west"] == (ExclusionCode.TERRITORY_MISMATCH, "DE/EMEA not in NA-West")


def test_state_keys_match_country_state():
    """A US-CA lead fits a territory holding US-CA and not one holding US-NY."""
    reps = [
        rep("west", pools=["all"], territories=("NA-West",)),
        rep("ny", pools=["all"], territories=("US-NY",)),
    ]
    d = decide(pipeline_for(reps), lead("L1", country="US", state="ca"))
    assert d.owner_id == "west"
    assert excluded(d) == {"ny": (ExclusionCode.TERRITORY_MISMATCH, "US-CA/NA not in US-NY")}


@pytest.mark.parametrize(("postal", "fits"), [("97201", True), ("9 7-035", True), ("98101", False)])
def test_postal_prefixes(postal, fits):
    """A territory key US:97 holds every US postal code starting with 97 (spaces, hyphens ignored)."""
    reps = [rep("west", pools=["all"], territories=("NA-West",)), rep("any", pools=["all"])]
    d = decide(pipeline_for(reps), lead("L1", country="US", attributes={"postal_code": postal}))
    assert ("west" not in excluded(d)) is fits


def test_named_account_by_domain_goes_only_to_its_territory():
    """A lead from a named account's domain is carved out of every geographic territory."""
    reps = [
        rep("west", pools=["all"], territories=("NA-West",)),
        rep("strat", pools=["all"], territories=("Strategic",)),
    ]
    d = decide(pipeline_for(reps), lead("L1", email="jo@acme.com", country="US", state="CA"))
    assert d.owner_id == "strat"
    assert excluded(d) == {
        "west": (ExclusionCode.TERRITORY_MISMATCH, "account acme.com not in NA-West")
    }
    d = decide(pipeline_for(reps), lead("L2", email="jo@other.com", country="US", state="CA"))
    assert d.owner_id == "west"
    assert excluded(d)["strat"] == (ExclusionCode.TERRITORY_MISMATCH, "US-CA/NA not in Strategic")


def test_named_account_by_matched_account_id_and_rep_accounts():
    """The account matched in the account step counts by id; a rep may name accounts itself."""
    reps = [
        rep("west", pools=["all"], territories=("NA-West",)),
        rep("mine", pools=["all"], accounts=("a-7",)),
    ]
    accounts = (Account(id="A-7", name="Seven", domain="seven.io"),)  # no owner: goes on to pools
    d = decide(pipeline_for(reps, accounts), lead("L1", email="x@seven.io", state="CA"))
    assert d.owner_id == "mine"
    assert excluded(d)["west"] == (ExclusionCode.TERRITORY_MISMATCH, "account a-7 not in NA-West")


def test_skill_levels_from_policy_and_rule():
    """SKILL_MISSING says which level the rep has and which the lead needs, for every skill short."""
    reps = [
        rep("junior", pools=["all"], skills={"fintech": 1}),
        rep("none", pools=["all"]),
        rep("senior", pools=["all"], skills={"fintech": 3, "payments": 1}),
    ]
    item = lead("L1", product="payments", attributes={"industry": "banking"})
    d = decide(pipeline_for(reps), item)
    assert d.owner_id == "senior"
    assert excluded(d) == {
        "junior": (ExclusionCode.SKILL_MISSING, "fintech 1 < 2, payments 0 < 1"),
        "none": (ExclusionCode.SKILL_MISSING, "fintech 0 < 2, payments 0 < 1"),
    }
    d = decide(pipeline_for(reps), lead("L2", attributes={"industry": "retail"}))
    assert excluded(d) == {}


def test_a_rule_without_skill_in_its_constraints_ignores_skills_and_languages():
    """A rule listing only territory enforces neither skills nor languages."""
    reps = [rep("fr", pools=["all"], languages=("fr",)), rep("x", pools=["all"])]
    d = decide(
        pipeline_for(reps),
        lead("L1", product="plain", language="de", attributes={"industry": "banking"}),
    )
    assert excluded(d) == {}


@pytest.mark.parametrize(
    ("attributes", "employees", "segment"),
    [
        ({"score": "91"}, 5000, "hot"),
        ({"score": "50", "revenue": "25,000,000"}, 50, "big"),
        ({"score": "50"}, 50, "smb"),
        ({}, 900, "enterprise"),
        ({"score": "n/a"}, None, ""),
    ],
)
def test_segments_by_score_revenue_and_size(attributes, employees, segment):
    """The first band holding the lead gives its segment; unknown values never hold a band."""
    host = make_host(load_entrypoints=False)
    enriched = host.enrich_lead(
        lead("L1", employees=employees, attributes=attributes), policy_from(POLICY)
    )
    assert enriched.attributes.get("segment", "") == segment


def test_segment_mismatch_from_a_score_band():
    """A rep serving only hot leads is excluded from a big-revenue lead with the segment named."""
    reps = [rep("hot", pools=["all"], segments=("hot",)), rep("x", pools=["all"])]
    d = decide(pipeline_for(reps), lead("L1", attributes={"revenue": "20000000"}))
    assert excluded(d) == {"hot": (ExclusionCode.SEGMENT_MISMATCH, "segment big not in hot")}


def test_only_reps_passing_the_index_reach_per_rep_hooks():
    """The per-rep exclusion hook sees only the reps the hard constraints left standing."""
    seen: list[str] = []

    class Watcher:
        @hookimpl
        def leadroute_exclude_rep(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> None:
            seen.append(rep.id)

    reps = [rep(f"de{i}", pools=["all"], territories=("DE",)) for i in range(20)]
    reps += [rep(f"us{i}", pools=["all"], territories=("US",)) for i in range(3)]
    host = make_host(load_entrypoints=False, plugins=[Watcher()])
    d = decide(pipeline_for(reps, host=host), lead("L1", country="US"))
    assert sorted(seen) == ["us0", "us1", "us2"]
    [group] = d.excluded_groups
    assert (group.code, group.detail, len(group.rep_ids)) == (
        ExclusionCode.TERRITORY_MISMATCH,
        "US/NA not in DE",
        20,
    )


# --------------------------------------------------------------------------- index == reference

TERRITORY_CHOICES = ("NA-West", "Strategic", "US", "DE", "EMEA", "US-NY", "US:10", "GB")
COUNTRIES = ("US", "DE", "GB", "JP", "")


@st.composite
def teams(draw: st.DrawFn) -> list[Rep]:
    size = draw(st.integers(min_value=1, max_value=30))
    out = []
    for i in range(size):
        out.append(
            Rep(
                id=f"r{i:02d}",
                pools=("all",),
                active=draw(st.booleans()) or draw(st.booleans()),
                territories=tuple(draw(st.sets(st.sampled_from(TERRITORY_CHOICES), max_size=2))),
                accounts=tuple(draw(st.sets(st.sampled_from(("big.io", "a-9")), max_size=1))),
                languages=tuple(draw(st.sets(st.sampled_from(("en", "de", "FR")), max_size=2))),
                segments=tuple(draw(st.sets(st.sampled_from(("hot", "smb", "big")), max_size=2))),
                products=tuple(draw(st.sets(st.sampled_from(("payments", "core")), max_size=1))),
                skills=draw(
                    st.dictionaries(
                        st.sampled_from(("fintech", "payments")), st.integers(0, 3), max_size=2
                    )
                ),
                capacity=Capacity(max_open=draw(st.sampled_from((None, 1, 2, 5)))),
            )
        )
    return out


@st.composite
def leads(draw: st.DrawFn, n: int) -> list[Lead]:
    return [
        Lead(
            id=f"L{i}",
            email=f"x@{draw(st.sampled_from(('acme.com', 'big.io', 'other.com')))}",
            country=draw(st.sampled_from(COUNTRIES)),
            state=draw(st.sampled_from(("", "CA", "NY", "OR"))),
            language=draw(st.sampled_from(("", "en", "de", "fr"))),
            product=draw(st.sampled_from(("", "payments", "core", "plain"))),
            employees=draw(st.sampled_from((None, 20, 900))),
            attributes={
                "postal_code": draw(st.sampled_from(("", "97201", "10001", "94105"))),
                "industry": draw(st.sampled_from(("banking", "retail"))),
                "score": draw(st.sampled_from(("", "95", "10"))),
            },
        )
        for i in range(n)
    ]


def _ctx(policy: Policy, rule: str) -> RoutingContext:
    constraints = next(r for r in policy.routing if r.name == rule).constraints
    return RoutingContext(
        at=AT,
        policy=policy,
        loads={},
        constraints=(*(constraints or policy.constraints), "capacity"),
        rule=rule,
        account_id="A-9",
    )


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The constraint policy, parsed once for the property tests."""
    return policy_from(POLICY)


@pytest.fixture(scope="module")
def hosts() -> tuple[Any, Any, ReferencePlugin]:
    """A built-in host, and a host checking hard constraints rep by rep instead of by index."""
    reference = ReferencePlugin()
    slow = make_host(load_entrypoints=False, plugins=[reference])
    slow.pm.unregister(name="leadroute.builtins.eligibility")
    return make_host(load_entrypoints=False), slow, reference


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=teams(), stream=leads(8))
def test_index_gives_exactly_the_reference_exclusions(team, stream, policy, hosts):
    """For any team and lead, the index's groups expand to exactly check_rep's exclusions."""
    host = hosts[0]
    index = ConstraintIndex.build(policy, team)
    named = named_accounts(policy, team)
    ids = tuple(r.id for r in team)
    for item in stream:
        enriched = host.enrich_lead(item, policy)
        ctx = _ctx(policy, policy.rule_for(enriched).name)  # type: ignore[union-attr]
        fast = {
            (e.rep_id, e.code, e.detail)
            for g in index.exclude(enriched, ids, ctx)
            for e in g.expand()
        }
        slow = {
            (e.rep_id, e.code, e.detail) for r in team for e in check_rep(enriched, r, ctx, named)
        }
        assert fast == slow


class ReferencePlugin:
    """The hard constraints checked rep by rep through the per-rep hook: the slow path."""

    named: frozenset[str] = frozenset()  # the carved-out accounts of the team under test

    @hookimpl
    def leadroute_exclude_rep(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Any]:
        return check_rep(lead, rep, ctx, self.named)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=teams(), stream=leads(12))
def test_the_index_never_changes_a_decision(team, stream, policy, hosts):
    """Routing through the index decides every lead exactly as checking every rep through the hook."""
    fast_host, slow_host, reference = hosts
    reference.named = named_accounts(policy, team)
    fast = pipeline_for(team, policy=policy, host=fast_host)
    slow = pipeline_for(team, policy=policy, host=slow_host)
    for item in stream:
        a, b = decide(fast, item), decide(slow, item)
        assert (a.owner_id, a.status, a.step, a.candidates) == (
            b.owner_id,
            b.status,
            b.step,
            b.candidates,
        )
        assert {e.rep_id for e in a.all_exclusions()} == {e.rep_id for e in b.all_exclusions()}
        hard = {c.value for c in ExclusionCode} - {
            "REP_INACTIVE",
            "ON_LEAVE",
            "PAUSED",
            "CAPACITY_REACHED",
        }
        assert {(e.rep_id, e.code, e.detail) for e in a.all_exclusions() if e.code in hard} <= {
            (e.rep_id, e.code, e.detail) for e in b.all_exclusions()
        }


def test_a_score_band_segment_uses_the_score_computed_before_routing():
    """Segments banded by score see the score the policy computes, not the input's stale one."""
    policy = policy_from(
        POLICY + "scoring:\n  rules: [{name: big, when: {employees: {gte: 200}}, points: 85}]\n"
    )
    reps = [
        rep("hot", pools=["all"], segments=("hot",)),
        rep("rest", pools=["all"], segments=("smb",)),
    ]
    pipeline = pipeline_for(reps, policy=policy)
    d = decide(pipeline, lead("L1", employees=900, attributes={"score": "10"}))
    assert (d.owner_id, d.features.get("segment")) == ("hot", "hot")
    d = decide(pipeline, lead("L2", employees=20, attributes={"score": "99"}))
    assert d.owner_id == "rest"
    assert excluded(d)["hot"] == (ExclusionCode.SEGMENT_MISMATCH, "segment smb not in hot")


def test_a_rep_territory_that_is_neither_named_nor_a_key_is_logged():
    """A misspelt territory on a rep matches no lead, and the index build warns about it."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        ConstraintIndex.build(policy_from(POLICY), [rep("r1", territories=("NA-West", "Nordix"))])
    assert [(e["event"], e["rep_id"], e["territory"]) for e in logs] == [
        ("rep.unknown_territory", "r1", "Nordix")
    ]
