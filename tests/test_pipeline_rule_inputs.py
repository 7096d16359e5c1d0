"""A decision records what the matched rule read, enriched attributes included."""

from __future__ import annotations

from tests.conftest import AT, BASE_POLICY, lead, policy_from, standard_reps

from leadroute.host import hookimpl
from leadroute.pipeline import Decided

GOLD = BASE_POLICY.replace(
    "  - {name: na, when: {region: NA}, pool: na}",
    "  - {name: na-gold, when: {region: NA, tier: gold, email: {exists: true}}, pool: na}\n"
    "  - {name: na, when: {region: NA}, pool: na}",
)


class Tiering:
    @hookimpl
    def leadroute_enrich_lead(self, lead, policy):
        return {"tier": "gold"}


def test_the_rule_inputs_hold_enriched_values_and_never_contact_fields(make_pipeline):
    """The gold rule matched on an enriched tier: region and tier are recorded, the email is not."""
    pipeline = make_pipeline(standard_reps(), policy=policy_from(GOLD), plugins=[Tiering()])
    outcome = pipeline.decide(lead("L1"), AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.rule == "na-gold"
    assert dict(outcome.decision.rule_inputs) == {"region": "NA", "tier": "gold"}
