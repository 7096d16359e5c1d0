"""Lead-to-account matching: registrable domains, fuzzy names, free mail and tie-breakers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.conftest import BASE_POLICY, policy_from

from leadroute.builtins.matching import leadroute_match_account
from leadroute.host import make_host
from leadroute.models import Account, AccountIndex, Lead


def match(lead: Lead, accounts: list[Account], extra: str = ""):
    """Enrich the lead like the pipeline does, then ask the built-in matcher."""
    policy = policy_from(BASE_POLICY + extra)
    enriched = make_host(load_entrypoints=False).enrich_lead(lead, policy)
    return leadroute_match_account(enriched, AccountIndex.build(accounts), policy)


ACME_UK = Account(id="A1", name="Acme Ltd", domain="acme.co.uk", owner_id="am")


def test_subdomain_email_matches_the_registrable_domain():
    """jane@eu.acme.co.uk belongs to the account acme.co.uk (public suffix co.uk)."""
    m = match(Lead(id="L", email="Jane@EU.Acme.co.uk"), [ACME_UK])
    assert m is not None
    assert (m.account_id, m.method, m.confidence) == ("A1", "email_domain:acme.co.uk", 1.0)


def test_account_domain_written_as_subdomain_or_url_is_indexed_by_registrable_domain():
    """An account whose domain is given as https://www.shop.acme.co.uk/ still matches acme.co.uk."""
    account = Account(id="A1", name="Acme", domain="https://www.shop.acme.co.uk/about")
    index = AccountIndex.build([account])
    assert index.by_domain == {"acme.co.uk": (account,)}


def test_website_domain_matches_when_the_email_does_not():
    """A lead on a personal mailbox with the company website matches by the website."""
    m = match(Lead(id="L", email="jo@gmail.com", website="https://www.acme.co.uk/x"), [ACME_UK])
    assert m is not None and m.method == "website_domain:acme.co.uk"


@pytest.mark.parametrize("email", ["jo@gmail.com", "jo@googlemail.com", "jo@outlook.com"])
def test_free_mail_never_matches_by_domain(email):
    """Even an account whose domain is a free-mail provider is never matched through it."""
    account = Account(id="A9", name="Gmail fan club", domain=email.split("@")[1])
    assert match(Lead(id="L", email=email), [account]) is None


def test_acme_inc_matches_acme_incorporated_by_name():
    """'Acme Inc.' and 'ACME, Incorporated' are one normalized name: confidence 1.0."""
    account = Account(id="A1", name="ACME, Incorporated", domain="acme.com")
    m = match(Lead(id="L", email="jo@gmail.com", company="Acme Inc."), [account])
    assert m is not None
    assert (m.account_id, m.method, m.confidence) == ("A1", "company_name:acme", 1.0)


def test_fuzzy_name_match_respects_the_policy_threshold():
    """A near name matches above the threshold, not when the policy demands identical names."""
    account = Account(id="A1", name="Northwind Analytics GmbH")
    lead = Lead(id="L", email="jo@gmail.com", company="Northwind Analytic")
    fuzzy = match(lead, [account])
    assert fuzzy is not None and 0.9 <= fuzzy.confidence < 1.0
    assert match(lead, [account], "account_matching: {name_threshold: 1.0}\n") is None


def test_exact_domain_beats_name():
    """When the domain names one account and the company name another, the domain wins."""
    by_name = Account(id="N", name="Globex", status="customer")
    by_domain = Account(id="D", name="Initech", domain="initech.com", status="prospect")
    m = match(Lead(id="L", email="a@initech.com", company="Globex"), [by_name, by_domain])
    assert m is not None and m.account_id == "D"


def test_customer_beats_prospect_on_the_same_domain():
    """Two accounts share a domain: the customer wins over the prospect listed first."""
    accounts = [
        Account(id="P", name="Acme EU", domain="acme.com", status="prospect"),
        Account(id="C", name="Acme US", domain="acme.com", status="customer"),
    ]
    m = match(Lead(id="L", email="a@acme.com"), accounts)
    assert m is not None and m.account_id == "C"
    assert m.method == "email_domain:acme.com (2 accounts tie, customer beats prospect)"


def test_most_recent_activity_breaks_a_status_tie():
    """Between two customers on one domain, the one with the latest activity wins."""
    accounts = [
        Account(
            id="OLD", domain="acme.com", status="customer",
            last_activity_at=datetime(2025, 1, 1, tzinfo=UTC),
        ),
        Account(
            id="NEW", domain="acme.com", status="customer",
            last_activity_at=datetime(2026, 10, 1, tzinfo=UTC),
        ),
        Account(id="NONE", domain="acme.com", status="customer"),
    ]  # fmt: skip
    m = match(Lead(id="L", email="a@acme.com"), accounts)
    assert m is not None and m.account_id == "NEW" and "most recent activity" in m.method


def test_status_order_comes_from_the_policy():
    """A policy that prefers prospects over customers gets the prospect."""
    accounts = [
        Account(id="C", domain="acme.com", status="customer"),
        Account(id="P", domain="acme.com", status="prospect"),
    ]
    m = match(
        Lead(id="L", email="a@acme.com"),
        accounts,
        "account_matching: {status_order: [prospect, customer]}\n",
    )
    assert m is not None and m.account_id == "P"


def test_customer_beats_prospect_on_the_same_name():
    """Two accounts with one normalized name: the customer wins, the tie is explained."""
    accounts = [
        Account(id="P", name="Acme Inc.", status="prospect"),
        Account(id="C", name="ACME, Incorporated", status="customer"),
    ]
    m = match(Lead(id="L", email="jo@gmail.com", company="acme"), accounts)
    assert m is not None and m.account_id == "C" and "customer beats prospect" in m.method


def test_matching_by_domain_or_name_can_be_turned_off():
    """by_domain: false skips the domain; by_name: false skips the company name."""
    account = Account(id="A1", name="Acme", domain="acme.com")
    lead = Lead(id="L", email="a@acme.com", company="Acme")
    no_domain = match(lead, [account], "account_matching: {by_domain: false}\n")
    assert no_domain is not None and no_domain.method.startswith("company_name:")
    off = "account_matching: {by_domain: false, by_name: false}\n"
    assert match(lead, [account], off) is None


def test_a_lead_with_no_email_company_or_website_matches_nothing():
    """The minimum lead (an id) matches no account and raises nothing."""
    assert match(Lead(id="L"), [ACME_UK]) is None
