"""The learned model: planted skill recovered, thin evidence ignored, examples chosen honestly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from leadroute.models import (
    Decision,
    DecisionStatus,
    Outcome,
    OutcomeKind,
    RouteStep,
    decision_id_for,
)
from leadroute_learned_fit.model import Example, Model, examples_from, train

AS_OF = datetime(2026, 11, 2, tzinfo=UTC)
DAY = timedelta(days=1)

# The planted truth: a team rate per segment, and two reps who differ from it.
TEAM = {"smb": 0.20, "enterprise": 0.15}
PLANTED = {("star", "enterprise"): 0.45, ("weak", "smb"): 0.05}


def planted_examples(seed: int = 3, leads: int = 6000) -> list[Example]:
    """Leads spread over ten reps, outcomes drawn from the planted table; 'new' has 3 wins."""
    rng = random.Random(seed)
    reps = ["star", "weak", *(f"r{i}" for i in range(8))]
    examples = []
    for i in range(leads):
        rep, segment = rng.choice(reps), rng.choice(("smb", "enterprise"))
        product = rng.choice(("analytics", "platform"))
        p = PLANTED.get((rep, segment), TEAM[segment])
        examples.append(
            Example(
                lead_id=f"L{i}",
                rep_id=rep,
                features={"segment": segment, "product": product},
                converted=rng.random() < p,
            )
        )
    examples += [
        Example(lead_id=f"N{i}", rep_id="new", features={"segment": "enterprise"}, converted=True)
        for i in range(3)
    ]
    return examples


def fitted(examples: list[Example]) -> Model:
    return train(
        examples, target="opportunity", as_of=AS_OF, half_life=90 * DAY, mature_after=14 * DAY
    )


def test_the_model_recovers_a_planted_skill():
    """A rep planted at 0.45 on enterprise leads (team 0.15) is predicted near it and ranked
    first there; a rep planted at 0.05 on smb is ranked last there; the team rates hold."""
    model = fitted(planted_examples())
    reps = ["star", "weak", *(f"r{i}" for i in range(8))]
    enterprise = {"segment": "enterprise", "product": "analytics"}
    smb = {"segment": "smb", "product": "analytics"}
    ent = {r: model.predict(r, enterprise, min_evidence=20) for r in reps}
    small = {r: model.predict(r, smb, min_evidence=20) for r in reps}
    assert max(ent, key=lambda r: ent[r].rate) == "star"
    assert min(small, key=lambda r: small[r].rate) == "weak"
    assert ent["star"].rate == pytest.approx(0.45, abs=0.08)
    assert small["weak"].rate == pytest.approx(0.05, abs=0.04)
    assert ent["r0"].team == pytest.approx(0.15, abs=0.04)
    assert small["r0"].team == pytest.approx(0.20, abs=0.04)
    # Ordinary reps stay near the team: shrinkage, not noise.
    assert all(abs(ent[r].rate - ent[r].team) < 0.06 for r in reps[2:])


def test_a_rep_with_too_little_evidence_scores_the_team_rate():
    """Three wins out of three do not make a star: below min_evidence the rep gets the team's
    rate, and even with no minimum the shrunk rate stays far from 1.0."""
    model = fitted(planted_examples())
    lead = {"segment": "enterprise", "product": "analytics"}
    gated = model.predict("new", lead, min_evidence=20)
    assert (gated.used, gated.evidence) == (False, 3)
    assert gated.rate == gated.team
    ungated = model.predict("new", lead, min_evidence=0)
    assert ungated.used and ungated.team < ungated.rate < 0.5


def test_time_decay_weighs_recent_leads_more():
    """A rep who was bad a year ago and good lately is predicted closer to lately."""
    old = [
        Example(
            lead_id=f"O{i}",
            rep_id="a",
            features={"segment": "smb"},
            converted=False,
            weight=0.5 ** (365 / 30),
        )
        for i in range(200)
    ]
    new = [
        Example(lead_id=f"R{i}", rep_id="a", features={"segment": "smb"}, converted=i % 2 == 0)
        for i in range(100)
    ]
    others = [
        Example(
            lead_id=f"X{i}", rep_id=f"b{i % 5}", features={"segment": "smb"}, converted=i % 5 == 0
        )
        for i in range(500)
    ]
    model = fitted(old + new + others)
    assert model.predict("a", {"segment": "smb"}, 0).rate > 0.35


def test_the_model_file_round_trips_and_a_bad_file_is_named():
    """to_json/from_json give the same predictions; a file that is not a model says so."""
    model = fitted(planted_examples(leads=800))
    again = Model.from_json(model.to_json())
    lead = {"segment": "enterprise", "product": "platform"}
    assert again.predict("star", lead, 20) == model.predict("star", lead, 20)
    assert again.digest == model.digest
    with pytest.raises(ValueError, match=r"^m.json: not a leadroute-learned-fit/1 model"):
        Model.from_json('{"format": "other"}', origin="m.json")
    with pytest.raises(ValueError, match=r"^m.json: not JSON"):
        Model.from_json("{", origin="m.json")


def _decision(lead_id: str, owner: str, days_ago: float, *, epoch: int = 1, **kw) -> Decision:
    return Decision(
        id=decision_id_for(lead_id, epoch),
        lead_id=lead_id,
        epoch=epoch,
        status=kw.pop("status", DecisionStatus.ROUTED),
        owner_id=owner,
        step=kw.pop("step", RouteStep.POOL),
        policy_version="t",
        decided_at=AS_OF - days_ago * DAY,
        features={"segment": "smb", "product": "analytics", "country": "US"},
    )


def test_examples_are_mature_rep_owned_latest_decisions_labelled_by_stage():
    """Fresh leads, queue owners and superseded epochs are left out; a won deal counts as an
    opportunity and a meeting; only the dimensions are kept as features."""
    decisions = [
        _decision("A", "r1", 30),
        _decision("B", "r1", 3),  # too fresh
        _decision("C", "ops", 30, status=DecisionStatus.FALLBACK, step=RouteStep.FALLBACK),
        _decision("D", "r1", 40),
        _decision("D", "r2", 35, epoch=2),  # moved: r2 owns it
        _decision("E", "r2", 30),
    ]
    outcomes = [
        Outcome(kind=OutcomeKind.WON, lead_id="A", rep_id="r1", at=AS_OF - 10 * DAY),
        Outcome(kind=OutcomeKind.MEETING_BOOKED, lead_id="E", rep_id="r2", at=AS_OF - 20 * DAY),
    ]

    def labels(target: str) -> dict[str, tuple[str, bool]]:
        found = examples_from(
            decisions,
            outcomes,
            target=target,
            as_of=AS_OF,
            half_life=90 * DAY,
            mature_after=14 * DAY,
        )
        return {e.lead_id: (e.rep_id, e.converted) for e in found}

    assert labels("opportunity") == {"A": ("r1", True), "D": ("r2", False), "E": ("r2", False)}
    assert labels("meeting_booked")["E"] == ("r2", True)
    assert labels("won")["A"] == ("r1", True)
    (example,) = [
        e
        for e in examples_from(
            decisions,
            outcomes,
            target="won",
            as_of=AS_OF,
            half_life=30 * DAY,
            mature_after=14 * DAY,
        )
        if e.lead_id == "A"
    ]
    assert dict(example.features) == {"segment": "smb", "product": "analytics"}
    assert example.weight == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown target 'sql'"):
        examples_from(
            decisions, outcomes, target="sql", as_of=AS_OF, half_life=DAY, mature_after=DAY
        )
