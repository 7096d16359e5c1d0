"""Tests for leadroute.normalize: the normal forms shared by validation, dedupe and matching."""

from __future__ import annotations

import pytest

from leadroute.normalize import (
    check_email,
    country_code,
    email_domain,
    email_identity,
    is_free_mail,
    phone_e164,
    registrable_domain,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Jane.Doe@Acme.com", "jane.doe@acme.com"),
        ("jane.doe+webinar@acme.com", "jane.doe@acme.com"),
        ("J.A.N.E@gmail.com", "jane@gmail.com"),
        ("jane+x@googlemail.com", "jane@gmail.com"),
    ],
)
def test_email_identity_folds_case_tags_and_gmail_dots(a: str, b: str) -> None:
    """Mixed case, plus tags and Gmail dots reach the same mailbox, so share one key."""
    assert email_identity(a) == email_identity(b) != ""


def test_email_identity_keeps_dots_where_they_matter() -> None:
    """Outside Gmail a dot is part of the mailbox name."""
    assert email_identity("j.doe@acme.com") != email_identity("jdoe@acme.com")
    assert email_identity("not an email") == ""
    assert email_identity("+tag@acme.com") == ""


def test_check_email_flags_syntax_and_reserved_domains() -> None:
    """Broken syntax and special-use domains are reported; a normal address passes."""
    assert check_email("jane@acme.com") == ""
    assert check_email("jane@@acme.com")
    assert check_email("jane@acme")
    assert check_email("jane@mail.invalid")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+44 (0)20 7946 0958", "", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415.555.2671", "DE", "+14155552671"),
        ("12345", "US", ""),
        ("call me", "US", ""),
        ("020 7946 0958", "", ""),
    ],
)
def test_phone_e164(raw: str, country: str, expected: str) -> None:
    """Phones normalise to E.164, using the lead's country only when no + prefix is given."""
    assert phone_e164(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("GB", "GB"),
        ("gbr", "GB"),
        ("  united   kingdom ", "GB"),
        ("Germany", "DE"),
        ("Germny", "DE"),
        ("Deutschland", "DE"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("Untied States", "US"),
        ("ZZ", ""),
        ("Atlantis", ""),
        ("", ""),
    ],
)
def test_country_code(raw: str, expected: str) -> None:
    """Countries written as codes, names, aliases or near-misses map to ISO alpha-2."""
    assert country_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("eu.acme.co.uk", "acme.co.uk"),
        ("https://www.Acme.com/pricing", "acme.com"),
        ("jane@sales.acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("localhost", ""),
        ("", ""),
    ],
)
def test_registrable_domain(raw: str, expected: str) -> None:
    """Subdomains and URLs reduce to the registrable domain under the public suffix list."""
    assert registrable_domain(raw) == expected


def test_free_mail_from_the_maintained_list() -> None:
    """Free mailbox providers are recognised; a company domain is not."""
    assert is_free_mail("gmail.com")
    assert is_free_mail("GMX.de")
    assert not is_free_mail("acme.com")
    assert email_domain("Jane@Gmail.COM") == "gmail.com"


def _parsed_afresh(text: str, country: str) -> str:
    """``phone_e164`` with its memory of produced numbers emptied: a real parse."""
    from leadroute import normalize

    normalize._PRODUCED.clear()
    return phone_e164(text, country)


def test_a_phone_in_e164_is_a_fixed_point_for_every_region():
    """Every region's example numbers, once in E.164, parse back to themselves under any
    default country: what lets the validator skip parsing a phone the normalizer produced."""
    import phonenumbers

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in vars(phonenumbers.PhoneNumberType).values():
            if not isinstance(kind, int):
                continue
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            e164 = _parsed_afresh(national, region)
            if not e164:
                continue
            for country in ("", region, "US", "DE"):
                assert _parsed_afresh(e164, country) == e164, (region, kind, national)
            checked += 1
    assert checked > 1000


def test_the_validator_does_not_parse_a_phone_the_normalizer_produced(monkeypatch):
    """The E.164 form returned once is recognised again without a second parse."""
    import phonenumbers

    e164 = _parsed_afresh("(415) 555-2671", "US")
    assert e164 == "+14155552671"

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a second time")

    monkeypatch.setattr(phonenumbers, "parse", no_parse)
    assert phone_e164(e164, "US") == e164
    assert phone_e164(f"  {e164} ", "GB") == e164
