"""Derived fields: domains, region and segment."""

from __future__ import annotations

import pytest
from tests.conftest import AT, policy_from, rep

from leadroute.builtins.enrich import email_domain, leadroute_enrich_lead, website_domain
from leadroute.host import hookimpl
from leadroute.models import Lead
from leadroute.pipeline import Decided


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Jo@Acme.COM", "acme.com"),
        ("a@b@eu.acme.co.uk", "eu.acme.co.uk"),
        ("no-at-sign", ""),
        ("", ""),
        ("x@", ""),
    ],
)
def test_email_domain(email, domain):
    """The domain is the lower-cased part after the last @, empty when there is none."""
    assert email_domain(email) == domain


@pytest.mark.parametrize(
    ("site", "domain"),
    [("https://www.Acme.com/about", "acme.com"), ("acme.io", "acme.io"), ("", "")],
)
def test_website_domain(site, domain):
    """A website becomes its host without scheme, path or www."""
    assert website_domain(site) == domain


def test_enrich_derives_region_and_segment():
    """Region comes from the policy's regions, segment from its size bands."""
    derived = leadroute_enrich_lead(
        Lead(id="x", email="a@b.de", country="de", employees=500), policy_from()
    )
    assert derived["region"] == "EMEA" and derived["segment"] == "enterprise"
    assert derived["domain"] == "b.de"


def test_enrich_domain_is_the_registrable_domain():
    """The derived domain of jane@eu.acme.co.uk is acme.co.uk, and the website's likewise."""
    derived = leadroute_enrich_lead(
        Lead(id="x", email="jane@EU.acme.co.uk", website="https://shop.acme.co.uk/a"),
        policy_from(),
    )
    assert derived["domain"] == "acme.co.uk" and derived["website_domain"] == "acme.co.uk"


ENRICHED_POLICY = """
version: "t1"
pools:
  - {name: fintech, members: [fin-1]}
  - {name: general, members: [gen-1]}
routing:
  - {name: fintech, when: {industry: fintech}, pool: fintech}
  - {name: everyone, pool: general}
fallback: {owner: ops}
"""


class IndustryEnricher:
    """A third-party enrichment plugin: knows some companies' industry, not others (yet)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    @hookimpl
    def leadroute_enrich_lead(self, lead: Lead, policy: object) -> dict[str, str] | None:
        self.asked.append(lead.id)
        # Enrichment that has not arrived yet answers nothing rather than wait for it.
        return {"industry": "fintech"} if lead.company == "Ledgerly" else None


def _pipeline(make_pipeline, policy_text: str, plugins=()):
    reps = [rep("fin-1"), rep("gen-1"), rep("ops")]
    return make_pipeline(reps, policy=policy_from(policy_text), plugins=plugins)


def test_a_plugins_derived_field_drives_a_routing_rule(make_pipeline):
    """A field only a third-party enrichment plugin provides sends the lead to its pool."""
    enricher = IndustryEnricher()
    pipeline = _pipeline(make_pipeline, ENRICHED_POLICY, [enricher])
    outcome = pipeline.decide(Lead(id="L1", email="a@ledgerly.io", company="Ledgerly"), AT)
    assert isinstance(outcome, Decided)
    assert (outcome.decision.rule, outcome.decision.owner_id) == ("fintech", "fin-1")
    assert enricher.asked == ["L1"]


def test_routing_never_waits_for_enrichment_that_has_not_arrived(make_pipeline):
    """Without the plugin's field the lead is routed at once by the next rule, not held."""
    pipeline = _pipeline(make_pipeline, ENRICHED_POLICY, [IndustryEnricher()])
    outcome = pipeline.decide(Lead(id="L2", email="b@unknown-co.io", company="Unknown Co"), AT)
    assert isinstance(outcome, Decided)
    assert (outcome.decision.rule, outcome.decision.owner_id) == ("everyone", "gen-1")
    assert "industry" not in outcome.decision.features


@pytest.mark.parametrize(
    ("lead_", "required"),
    [(Lead(id="L1", email="a@b.io"), "[email]"), (Lead(id="L2"), "[]")],
)
def test_routing_works_on_the_minimum_fields(make_pipeline, lead_, required):
    """id + email (or id alone when the policy requires nothing) is enough to be routed."""
    policy = ENRICHED_POLICY + f"validation: {{required: {required}}}\n"
    outcome = _pipeline(make_pipeline, policy).decide(lead_, AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.owner_id == "gen-1" and outcome.decision.account_id == ""
