"""Identity keys, keyed hashes and the known-people index behind duplicate detection."""

from __future__ import annotations

import pytest

from leadroute.duplicates import People, identity_keys, keyed_hash, person_name
from leadroute.models import Lead


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Jane.Doe@Acme.com", "jane.doe@acme.com"),
        ("jane.doe+pricing@acme.com", "JANE.DOE@ACME.COM"),
        ("j.a.n.e@gmail.com", "jane+x@googlemail.com"),
    ],
)
def test_email_key_ignores_case_tags_and_gmail_dots(a, b):
    """Mixed case, +tags and Gmail dots give one email key."""
    assert (
        identity_keys(Lead(id="1", email=a))["email"]
        == identity_keys(Lead(id="2", email=b))["email"]
    )


def test_phone_key_is_e164_however_written():
    """'+44 (0)20 7946 0958' and '020 7946 0958' from GB are one phone key."""
    written = Lead(id="1", country="GB", phone="+44 (0)20 7946 0958")
    national = Lead(id="2", country="GB", phone="020 7946 0958")
    assert identity_keys(written)["phone"] == identity_keys(national)["phone"] == "+442079460958"


def test_phone_without_country_code_needs_the_leads_country():
    """A national number on a lead of unknown country is no key (it could be anywhere)."""
    assert "phone" not in identity_keys(Lead(id="1", phone="020 7946 0958"))


def test_name_domain_key_uses_the_registrable_domain_and_folds_accents():
    """'José Núñez' at eu.acme.co.uk and 'jose nunez' at acme.co.uk are one name+domain key."""
    a = Lead(id="1", name="José  Núñez", email="jn@eu.acme.co.uk")
    b = Lead(id="2", name="jose nunez", email="other@acme.co.uk")
    assert identity_keys(a)["name_domain"] == identity_keys(b)["name_domain"]
    assert person_name("José  Núñez") == "jose nunez"


def test_no_name_domain_key_on_free_mail():
    """Two John Smiths on gmail.com are not one person by name."""
    assert "name_domain" not in identity_keys(Lead(id="1", name="John Smith", email="js@gmail.com"))


def test_only_the_kinds_asked_for_are_built():
    """match_on limits the keys."""
    lead = Lead(id="1", name="A B", email="a@acme.com", country="GB", phone="020 7946 0958")
    assert set(identity_keys(lead, ["phone"])) == {"phone"}


def test_keyed_hash_depends_on_the_key_and_hides_the_value():
    """The stored form is an HMAC: the value does not appear, and another key gives another hash."""
    digest = keyed_hash(b"k1", "email", "jane@acme.com")
    assert "jane" not in digest and len(digest) == 64
    assert digest != keyed_hash(b"k2", "email", "jane@acme.com")


def test_people_match_an_earlier_lead_and_merge_two_persons():
    """A lead sharing a key with an earlier one matches it; a lead bridging two persons merges them."""
    people = People(b"key")
    assert people.observe(Lead(id="A", email="a@acme.com"), ["email", "phone"]) is None
    b = Lead(id="B", email="b@acme.com", country="GB", phone="020 7946 0958")
    assert people.observe(b, ["email", "phone"]) is None
    bridge = Lead(id="C", email="A@acme.com", country="GB", phone="+44 20 7946 0958")
    known = people.observe(bridge, ["email", "phone"])
    assert known is not None
    assert (known.person_id, known.lead_ids, known.matched_on) == (
        "A",
        ("A", "B"),
        ("email", "phone"),
    )
    assert people.person("B") == "A" and people.leads("A") == ("A", "B", "C")
