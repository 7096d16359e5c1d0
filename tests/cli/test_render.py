"""The explanation as lines: every rep considered, with fit and load or code and detail."""

from __future__ import annotations

from tests.conftest import AT

from leadroute.cli.render import explain_lines
from leadroute.models import (
    Candidate,
    Decision,
    DecisionStatus,
    DuplicateMatch,
    Exclusion,
    ExclusionGroup,
    RouteStep,
)
from leadroute.store.codec import decision_from_json, decision_to_json


def decision() -> Decision:
    return Decision(
        id="d1",
        lead_id="L1",
        status=DecisionStatus.ROUTED,
        owner_id="a",
        step=RouteStep.POOL,
        pool="na",
        strategy="round_robin",
        candidates=(
            Candidate(rep_id="a", fit=1.5, load=2, capacity=10, rank=1, reason="last turn #3"),
            Candidate(rep_id="b", fit=1.0, load=4, rank=2, reason="last turn #7"),
        ),
        exclusions=(Exclusion(rep_id="c", code="ON_LEAVE", detail="on leave until 2026-12-02"),),
        excluded_groups=(
            ExclusionGroup(
                code="TERRITORY_MISMATCH", detail="DE not in NA-West", rep_ids=("e", "d")
            ),
        ),
        policy_version="v1",
        decided_at=AT,
    )


def test_explain_lists_grouped_exclusions_rep_by_rep():
    """Reps excluded in a group get one line each, in the same format as single exclusions."""
    lines = explain_lines(decision())
    excluded = lines[lines.index("Excluded:") + 1 :][:3]
    assert excluded == [
        "  d: TERRITORY_MISMATCH DE not in NA-West",
        "  e: TERRITORY_MISMATCH DE not in NA-West",
        "  c: ON_LEAVE on leave until 2026-12-02",
    ]


def test_explain_says_why_the_winner_beat_the_runner_up_with_fit_and_load():
    """The why line gives both reps' strategy reasons, fits and loads."""
    why = next(line for line in explain_lines(decision()) if line.startswith("Why "))
    assert why == (
        "Why a and not b: under round_robin, a (last turn #3) ranks before b (last turn #7); "
        "fit 1.50 vs 1.00, load 2/10 vs 4."
    )


def test_grouped_exclusions_survive_the_audit_trail():
    """A decision's exclusion groups round-trip through the stored JSON, so explain reads them back."""
    stored = decision_from_json(decision_to_json(decision()))
    assert stored == decision()
    assert explain_lines(stored) == explain_lines(decision())


def routed_decision(**kw: object) -> Decision:
    base: dict[str, object] = {
        "id": "d",
        "lead_id": "L2",
        "status": DecisionStatus.ROUTED,
        "owner_id": "r1",
        "step": RouteStep.DUPLICATE,
        "policy_version": "1",
        "decided_at": AT,
    }
    return Decision(**(base | kw))  # type: ignore[arg-type]


def test_explain_shows_the_account_match_method_and_confidence():
    """The account line names the account, how it matched and how sure the match is."""
    lines = explain_lines(
        routed_decision(
            account_id="A1", account_method="company_name:acme", account_confidence=0.93
        )
    )
    assert "Account: A1 (matched by company_name:acme, confidence 0.93)" in lines


def test_explain_shows_what_a_duplicate_matched_and_the_action():
    """A duplicate's line names the known record, its owner, the keys matched and the action."""
    dup = DuplicateMatch(
        lead_id="L1", matched_on=("email", "phone"), action="notify_owner", previous_owner="r1"
    )
    [line] = [x for x in explain_lines(routed_decision(duplicate=dup)) if x.startswith("Duplicate")]
    assert line == (
        "Duplicate: same person as lead L1, owned by r1 (matched on email, phone); "
        "notify_owner: kept with the known owner, who is notified"
    )


def test_explain_shows_a_follower_moved_with_its_person():
    """An earlier record that followed a reassigned duplicate says whom it followed, from whom."""
    dup = DuplicateMatch(
        lead_id="L9", matched_on=("phone",), action="reassign", role="follower", previous_owner="r0"
    )
    lines = explain_lines(routed_decision(lead_id="L1", duplicate=dup))
    assert (
        "Duplicate: follows lead L9 of the same person (matched on phone): moved from r0 to r1"
        in lines
    )


def test_each_fit_contribution_shows_its_detail():
    """Under each candidate, every contribution with a detail is listed as 'name: detail'."""
    from leadroute.models import FitContribution

    d = decision()
    first = Candidate(
        rep_id="a",
        fit=2.0,
        rank=1,
        reason="best fit",
        contributions=(
            FitContribution(name="language", value=1.0, detail="language en listed"),
            FitContribution(name="learned", value=0.31, detail="learned 0.31 vs team 0.22, n=48"),
        ),
    )
    import attrs

    lines = explain_lines(attrs.evolve(d, candidates=(first,)))
    index = next(i for i, line in enumerate(lines) if line.startswith("  #1 a: fit 2.00"))
    assert lines[index + 1] == (
        "      language: language en listed; learned: learned 0.31 vs team 0.22, n=48"
    )


def test_the_values_the_rule_read_are_shown_with_enriched_ones_marked():
    """A decision's rule inputs are listed; values that are not the lead's own fields are
    marked as enriched."""
    import attrs

    d = attrs.evolve(decision(), rule="na-gold", rule_inputs={"country": "US", "tier": "gold"})
    assert "Rule na-gold matched on country=US, tier=gold (enriched)" in explain_lines(d)
