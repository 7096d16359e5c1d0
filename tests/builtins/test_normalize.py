"""The built-in normalizer: routing sees ISO countries, E.164 phones, tidy emails and types."""

from __future__ import annotations

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from

from leadroute.builtins.normalize import classify, leadroute_normalize_lead, tidy_email
from leadroute.pipeline import Decided

TYPED = (
    BASE_POLICY
    + """
lead_types:
  default: contact
  types:
    - {name: partner, when: {source: partner}}
    - {name: demo, when: {lead_type: [demo, "book a demo", demo_request]}, sla: 1h}
    - {name: quote, when: {form: {prefix: quote}}}
    - {name: contact}
"""
)


@pytest.mark.parametrize("written", ["UK", "United Kingdom", "GB", "gb", "Untied Kingdom"])
def test_uk_spellings_route_as_gb(make_pipeline, written):
    """UK, United Kingdom, GB (any case) and a misspelling all route as GB (EMEA)."""
    outcome = make_pipeline().decide(lead("L1", country=written), AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.features["country"] == "GB"
    assert outcome.decision.rule == "emea"


def test_unreadable_country_is_left_as_given():
    """A country nothing matches is not changed, so validation reports what was written."""
    assert "country" not in leadroute_normalize_lead(lead("L1", country="Atlantis"), policy_from())


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "", "+442079460958"),
        ("020 7946 0958", "United Kingdom", "+442079460958"),
        ("(415) 555-0132", "US", "+14155550132"),
    ],
)
def test_phones_become_e164_using_the_normalized_country(phone, country, expected):
    """A ``+44 (0)20`` number, a national number with the lead's country: all become E.164."""
    changes = leadroute_normalize_lead(lead("L1", phone=phone, country=country), policy_from())
    assert changes["phone"] == expected


def test_unreadable_phone_is_left_as_given():
    """A phone that is not a valid number is not changed (validation flags it)."""
    changes = leadroute_normalize_lead(lead("L1", phone="12"), policy_from())
    assert "phone" not in changes


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (" Jane.Doe@ACME.com ", "Jane.Doe@acme.com"),
        ("jane+promo@Acme.Com", "jane+promo@acme.com"),
        ("not-an-email", "not-an-email"),
    ],
)
def test_email_domain_is_lower_cased_and_the_mailbox_kept(email, expected):
    """Mixed-case domains are lower-cased; the local part and a +tag are the mailbox's own."""
    assert tidy_email(email) == expected


def test_source_is_trimmed_and_lower_cased():
    """``Web `` and ``web`` are one source."""
    assert leadroute_normalize_lead(lead("L1", source=" Web "), policy_from())["source"] == "web"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"lead_type": "Book a Demo"}, "demo"),
        ({"lead_type": "demo", "source": "Partner"}, "partner"),  # first matching type wins
        ({"attributes": {"form": "quote-request-2026"}}, "quote"),
        ({"lead_type": "newsletter"}, "contact"),  # the default
    ],
)
def test_lead_type_is_classified_in_order(fields, expected):
    """The first type whose when holds (on the tidied lead) names the type, else the default."""
    policy = policy_from(TYPED)
    changes = leadroute_normalize_lead(lead("L1", **fields), policy)
    assert changes["lead_type"] == expected


def test_without_types_the_lead_type_stays_as_given():
    """A policy without lead types classifies nothing."""
    assert classify(lead("L1", lead_type="webinar"), policy_from()) == ""
    assert "lead_type" not in leadroute_normalize_lead(
        lead("L1", lead_type="webinar"), policy_from()
    )
