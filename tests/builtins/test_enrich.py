"""Derived fields: domains, region and segment."""

from __future__ import annotations

import pytest
from tests.conftest import policy_from

from leadroute.builtins.enrich import email_domain, leadroute_enrich_lead, website_domain
from leadroute.models import Lead


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
