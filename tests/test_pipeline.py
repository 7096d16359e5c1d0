"""The routing hierarchy, one step at a time."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, standard_reps

from leadroute.errors import PolicyError
from leadroute.models import (
    Account,
    Availability,
    Decision,
    DecisionStatus,
    ExclusionCode,
    LeaveWindow,
    RouteStep,
)
from leadroute.pipeline import Decided, Pipeline, Rejected


def decide(pipeline: Pipeline, *leads_: object) -> list[Decision]:
    out = []
    for item in leads_:
        outcome = pipeline.decide(item, AT)  # type: ignore[arg-type]
        assert isinstance(outcome, Decided), outcome
        out.append(outcome.decision)
    return out


def codes(decision: Decision) -> dict[str, str]:
    return {e.rep_id: e.code for e in decision.all_exclusions()}


def test_active_current_owner_keeps_the_lead(make_pipeline):
    """A lead already owned by an active rep keeps that owner, whatever the rules say."""
    [d] = decide(make_pipeline(), lead("L1", country="DE", owner_id="na-1"))
    assert (d.owner_id, d.step) == ("na-1", RouteStep.CURRENT_OWNER)


def test_inactive_current_owner_is_rerouted(make_pipeline):
    """A lead owned by an inactive rep is routed again and the reason is recorded."""
    reps = [*standard_reps(), rep("gone", active=False)]
    [d] = decide(make_pipeline(reps), lead("L1", owner_id="gone"))
    assert d.step == RouteStep.POOL and d.owner_id in {"na-1", "na-2"}
    assert codes(d)["gone"] == ExclusionCode.REP_INACTIVE
    assert "current_owner:unavailable" in d.route_path


def test_keep_current_owner_can_be_turned_off(make_pipeline):
    """With keep_current_owner false, an owned lead is routed by the rules."""
    policy = policy_from(BASE_POLICY + "keep_current_owner: false\n")
    [d] = decide(make_pipeline(policy=policy), lead("L1", owner_id="emea-1"))
    assert d.step == RouteStep.POOL and d.owner_id in {"na-1", "na-2"}


def test_account_owner_wins_over_territory_and_capacity(make_pipeline):
    """A lead from a known account goes to the account owner even outside their territory and at cap."""
    reps = [*standard_reps(), rep("am", territories=("EMEA",), cap=1, open_leads=5)]
    accounts = [Account(id="A1", name="Acme Inc.", domain="acme.com", owner_id="am")]
    [d] = decide(make_pipeline(reps, accounts), lead("L1", email="jo@acme.com", country="US"))
    assert (d.owner_id, d.step, d.account_id) == ("am", RouteStep.ACCOUNT_OWNER, "A1")
    assert d.account_method == "email_domain:acme.com"


def test_account_matches_by_normalized_company_name(make_pipeline):
    """A free-mail lead still finds its account by company name, suffixes and case ignored."""
    accounts = [Account(id="A1", name="ACME, Incorporated", domain="acme.com", owner_id="na-2")]
    [d] = decide(
        make_pipeline(accounts=accounts), lead("L1", email="jo@gmail.com", company="Acme Inc.")
    )
    assert (d.owner_id, d.account_id) == ("na-2", "A1")
    assert d.account_method.startswith("company_name:")


def test_inactive_account_owner_falls_to_their_backup(make_pipeline):
    """When the account owner is inactive, the owner's backup rep takes the lead."""
    reps = [*standard_reps(), rep("am", active=False, backup_id="emea-1")]
    accounts = [Account(id="A1", name="Acme", domain="acme.com", owner_id="am")]
    [d] = decide(make_pipeline(reps, accounts), lead("L1", email="jo@acme.com"))
    assert (d.owner_id, d.step) == ("emea-1", RouteStep.BACKUP)
    assert codes(d)["am"] == ExclusionCode.REP_INACTIVE
    assert "REP_INACTIVE" in d.reason


def test_unavailable_account_owner_without_backup_goes_to_the_pool(make_pipeline):
    """An account whose owner and backup are both unavailable is routed by the rules."""
    reps = [*standard_reps(), rep("am", active=False, backup_id="bk"), rep("bk", active=False)]
    accounts = [Account(id="A1", name="Acme", domain="acme.com", owner_id="am")]
    [d] = decide(make_pipeline(reps, accounts), lead("L1", email="jo@acme.com"))
    assert d.step == RouteStep.POOL and d.account_id == "A1"
    assert "account_owner:unavailable" in d.route_path


def test_account_statuses_limit_which_accounts_keep_their_owner(make_pipeline):
    """With account_owner.statuses [customer], a prospect account does not keep its owner."""
    policy = policy_from(BASE_POLICY + "account_owner: {statuses: [customer]}\n")
    accounts = [
        Account(id="A1", name="Acme", domain="acme.com", owner_id="emea-1", status="prospect")
    ]
    [d] = decide(make_pipeline(accounts=accounts, policy=policy), lead("L1", email="a@acme.com"))
    assert d.step == RouteStep.POOL and d.owner_id in {"na-1", "na-2"}


def test_territory_constraint_excludes_reps_outside_it(make_pipeline):
    """A GB lead never goes to the DE-only rep; the exclusion says which territory missed."""
    [d] = decide(make_pipeline(), lead("L1", country="GB"))
    assert d.owner_id == "emea-1"
    assert codes(d)["emea-2"] == ExclusionCode.TERRITORY_MISMATCH
    assert "GB/EMEA not in DE" in next(e.detail for e in d.all_exclusions() if e.rep_id == "emea-2")


def test_language_segment_product_constraints(make_pipeline):
    """Language, segment and product lists on a rep are hard constraints."""
    reps = [
        rep("fr", pools=["emea"], languages=("fr",)),
        rep("ent", pools=["emea"], segments=("enterprise",)),
        rep("data", pools=["emea"], products=("data-platform",)),
        rep("ok", pools=["emea"]),
        rep("emea-backup"),
        rep("ops"),
        rep("na-1", pools=["na"]),
    ]
    [d] = decide(
        make_pipeline(reps),
        lead("L1", country="DE", language="de", employees=20, product="analytics"),
    )
    assert d.owner_id == "ok"
    assert codes(d) == {
        "fr": ExclusionCode.LANGUAGE_MISMATCH,
        "ent": ExclusionCode.SEGMENT_MISMATCH,
        "data": ExclusionCode.PRODUCT_MISMATCH,
    }


def test_rule_can_narrow_the_constraints(make_pipeline):
    """A rule with constraints [territory] ignores language lists for its leads."""
    text = BASE_POLICY.replace(
        "{name: emea, when: {region: EMEA}, pool: emea}",
        "{name: emea, when: {region: EMEA}, pool: emea, constraints: [territory]}",
    )
    reps = [rep("fr", pools=["emea"], languages=("fr",)), rep("emea-backup"), rep("ops")]
    [d] = decide(
        make_pipeline(reps, policy=policy_from(text)), lead("L1", country="DE", language="de")
    )
    assert d.owner_id == "fr"


def test_inactive_on_leave_paused_and_full_reps_never_get_leads(make_pipeline):
    """Every availability and capacity exclusion keeps a rep out of the candidates."""
    reps = [
        rep("inactive", pools=["na"], active=False),
        rep(
            "leave",
            pools=["na"],
            availability=Availability(
                leave=(LeaveWindow(start=AT - timedelta(days=1), end=AT + timedelta(days=3)),)
            ),
        ),
        rep(
            "paused", pools=["na"], availability=Availability(paused_until=AT + timedelta(hours=1))
        ),
        rep("full", pools=["na"], cap=3, open_leads=3),
        rep("free", pools=["na"], cap=3, open_leads=2),
        rep("emea-backup"),
        rep("ops"),
    ]
    [d] = decide(make_pipeline(reps), lead("L1"))
    assert d.owner_id == "free"
    assert codes(d) == {
        "inactive": ExclusionCode.REP_INACTIVE,
        "leave": ExclusionCode.ON_LEAVE,
        "paused": ExclusionCode.PAUSED,
        "full": ExclusionCode.OPEN_CAP,
    }
    details = {e.rep_id: e.detail for e in d.all_exclusions()}
    assert details["leave"] == "until 2026-11-05"
    assert details["full"] == "3/3"


def test_capacity_counts_leads_assigned_in_the_same_run(make_pipeline):
    """A rep with room for one more lead gets one, then is excluded as full."""
    reps = [rep("a", pools=["na"], cap=1), rep("emea-backup"), rep("ops")]
    first, second = decide(make_pipeline(reps), lead("L1"), lead("L2"))
    assert first.owner_id == "a"
    assert second.status == DecisionStatus.FALLBACK
    assert codes(second)["a"] == ExclusionCode.OPEN_CAP


def test_pool_backup_takes_the_lead_when_no_member_is_eligible(make_pipeline):
    """When every pool member is excluded, the pool's backup rep gets the lead."""
    reps = [rep("emea-1", pools=["emea"], active=False), rep("emea-backup"), rep("ops")]
    [d] = decide(make_pipeline(reps), lead("L1", country="FR"))
    assert (d.owner_id, d.step) == ("emea-backup", RouteStep.BACKUP)
    assert "1 REP_INACTIVE" in d.reason


def test_full_pool_without_backup_falls_back_with_the_reason(make_pipeline):
    """A pool where everyone is full sends the lead to the fallback queue, with why and a deadline."""
    reps = [
        rep("a", pools=["na"], cap=2, open_leads=2),
        rep("b", pools=["na"], cap=1, open_leads=1),
        rep("emea-backup"),
        rep("ops"),
    ]
    [d] = decide(make_pipeline(reps), lead("L1"))
    assert (d.status, d.owner_id, d.queue) == (DecisionStatus.FALLBACK, "ops", "unrouted")
    assert d.reason == "no eligible rep in pool na (2 OPEN_CAP)"
    assert d.escalate_at == AT + timedelta(hours=4)


def test_unknown_country_matches_no_rule_and_falls_back(make_pipeline):
    """A lead from a country in no region matches no rule and lands in the fallback queue."""
    [d] = decide(make_pipeline(), lead("L1", country="XX"))
    assert d.status == DecisionStatus.FALLBACK
    assert d.reason == "no routing rule matched"
    assert d.route_path[-2:] == ("rule:none", "fallback:unrouted")


def test_missing_required_field_is_rejected(make_pipeline):
    """A lead without an email (required by default) is rejected, not routed."""
    outcome = make_pipeline().decide(lead("L1", email=""), AT)
    assert isinstance(outcome, Rejected)
    assert [(p.code, p.field) for p in outcome.problems] == [("MISSING_FIELD", "email")]


@pytest.mark.parametrize(
    ("action", "status"), [("fallback", DecisionStatus.FALLBACK), ("flag", DecisionStatus.ROUTED)]
)
def test_missing_field_action_is_configurable(make_pipeline, action, status):
    """missing_action fallback sends the lead to the queue; flag routes it and records the problem."""
    policy = policy_from(
        BASE_POLICY + f"validation: {{required: [email], missing_action: {action}}}\n"
    )
    [d] = decide(make_pipeline(policy=policy), lead("L1", email=""))
    assert d.status == status
    assert [p.code for p in d.problems] == ["MISSING_FIELD"]


def test_round_robin_rotates_evenly(make_pipeline):
    """Round robin over three eligible reps gives each three of nine leads, in turn."""
    reps = [rep(r, pools=["na"]) for r in ("a", "b", "c")] + [rep("emea-backup"), rep("ops")]
    owners = [d.owner_id for d in decide(make_pipeline(reps), *[lead(f"L{i}") for i in range(9)])]
    assert Counter(owners) == {"a": 3, "b": 3, "c": 3}
    assert len(set(owners[:3])) == 3 and owners[:3] == owners[3:6] == owners[6:]


def test_weighted_follows_the_weights(make_pipeline):
    """Weighted rotation with weights 2 and 1 gives 20 and 10 of 30 leads."""
    text = BASE_POLICY.replace(
        "{name: na, strategy: round_robin}", "{name: na, strategy: weighted}"
    )
    reps = [
        rep("a", pools=["na"], weight=2.0),
        rep("b", pools=["na"], weight=1.0),
        rep("emea-backup"),
        rep("ops"),
    ]
    owners = Counter(
        d.owner_id
        for d in decide(
            make_pipeline(reps, policy=policy_from(text)), *[lead(f"L{i}") for i in range(30)]
        )
    )
    assert owners == {"a": 20, "b": 10}


def test_least_loaded_prefers_lowest_utilisation(make_pipeline):
    """Least loaded picks the rep with the lowest open/cap ratio, not the lowest count."""
    text = BASE_POLICY.replace(
        "{name: na, strategy: round_robin}", "{name: na, strategy: least_loaded}"
    )
    reps = [
        rep("big", pools=["na"], cap=100, open_leads=30),
        rep("small", pools=["na"], cap=10, open_leads=5),
        rep("emea-backup"),
        rep("ops"),
    ]
    [d] = decide(make_pipeline(reps, policy=policy_from(text)), lead("L1"))
    assert d.owner_id == "big"
    assert d.candidates[0].reason == "load 30/100"


def test_ties_do_not_favour_list_order(make_pipeline):
    """With a fresh ledger, which of two equal reps wins depends on the lead, not on who is listed first."""
    reps = [rep("a", pools=["na"]), rep("b", pools=["na"]), rep("emea-backup"), rep("ops")]
    winners = Counter(decide(make_pipeline(reps), lead(f"L{i}"))[0].owner_id for i in range(200))
    assert 70 < winners["a"] < 130


def test_candidates_are_ranked_with_fit_and_reasons(make_pipeline):
    """Every candidate is recorded with rank, fit parts, load and the strategy's reason."""
    [d] = decide(make_pipeline(), lead("L1", country="DE", language="de"))
    assert [c.rank for c in d.candidates] == [1, 2]
    german = next(c for c in d.candidates if c.rep_id == "emea-2")
    assert {f.name: f.value for f in german.contributions}["language"] == 1.0
    assert all(c.reason.startswith("no turn yet in this pool") for c in d.candidates)
    assert d.policy_version.startswith("t1@")
    assert d.features["region"] == "EMEA"


@pytest.mark.parametrize(
    ("extra_policy", "reps_change", "message"),
    [
        ("", {"drop": "ops"}, "fallback.owner: unknown rep 'ops'"),
        ("", {"inactive": "ops"}, "fallback.owner: rep 'ops' is inactive"),
        ("", {"drop": "emea-backup"}, "pools[1].backup: unknown rep 'emea-backup'"),
    ],
)
def test_policy_rep_references_are_checked(make_pipeline, extra_policy, reps_change, message):
    """A policy naming a rep that does not exist (or an inactive fallback owner) is a policy error."""
    reps = standard_reps()
    if "drop" in reps_change:
        reps = [r for r in reps if r.id != reps_change["drop"]]
    if "inactive" in reps_change:
        reps = [r if r.id != reps_change["inactive"] else rep(r.id, active=False) for r in reps]
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_pipeline(reps)


def test_a_referenced_rep_left_out_for_bad_cells_is_named_with_why():
    """A pool backup the source dropped for bad cells is "unusable" with every reason, not "unknown"."""
    from leadroute.models import InputProblem, Snapshot
    from leadroute.pipeline import check_snapshot_references

    reps = [r for r in standard_reps() if r.id != "emea-backup"]
    bad = [
        InputProblem(
            file="reps.csv",
            line=7,
            record_id="emea-backup",
            kind="rep",
            field=f,
            code="X",
            message=m,
        )
        for f, m in (
            ("active", "active 'maybe' is not true or false"),
            ("capacity", "capacity 'ten' is not a number"),
        )
    ]
    with pytest.raises(PolicyError) as info:
        check_snapshot_references(
            policy_from(BASE_POLICY), Snapshot(reps=tuple(reps), problems=tuple(bad))
        )
    assert str(info.value) == (
        "pools[1].backup: rep 'emea-backup' is unusable: reps.csv:7: active 'maybe' is not "
        "true or false; capacity 'ten' is not a number"
    )


def test_winner_reason_says_when_fit_broke_a_strategy_tie(make_pipeline):
    """When both reps tie under the strategy, the winner's reason says fit decided."""
    reps = [
        rep("a", pools=["na"], languages=("en",)),
        rep("b", pools=["na"], languages=("fr",)),
        rep("emea-backup"),
        rep("ops"),
    ]
    text = BASE_POLICY + "constraints: [territory]\n"
    [d] = decide(make_pipeline(reps, policy=policy_from(text)), lead("L1", language="en"))
    assert d.owner_id == "a"
    assert d.candidates[0].reason == (
        "no turn yet in this pool; tied with b under round_robin, won on fit 2.00 vs 1.00"
    )
    assert d.candidates[1].reason == "no turn yet in this pool"
