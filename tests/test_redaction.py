"""Free-text redaction: secrets, emails and phone numbers masked; ids, dates and numbers kept."""

from __future__ import annotations

import pytest

from leadroute.redaction import REDACTED, redact_text


@pytest.mark.parametrize(
    "phone",
    [
        "+49 30 1234567",
        "+14155550134",
        "+1 (415) 555-0199",
        "(415) 555-0134",
        "415-555-0134",
        "415.555.0134",
        "030 1234 5678",
        "1-800-555-0199",
        "+33 1 23 45 67 89",
        "0049 30 1234 567",
    ],
)
def test_phone_numbers_are_masked(phone):
    """International and grouped national phone numbers are masked inside a sentence."""
    assert redact_text(f"call {phone} today") == f"call {REDACTED} today"


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-02T09:00:00+00:00",
        "2026-11-02",
        "2026.11.02",
        "id 65059681032",
        "00Q5e00000AbCdE",
        "HTTP 503 after 3 of 5 attempts",
        "v67.0",
        "12:30",
        "1,234,567",
        "192.168.0.1",
        "10.0.0.12:8080",
        "score 0.75",
        "rows 10-20",
        "t1@1a2b3c4d",
        "lead L-000123",
    ],
)
def test_ids_dates_and_numbers_are_kept(kept):
    """Record ids, dates, times, versions, addresses and counts are not mistaken for people."""
    assert redact_text(kept) == kept


def test_credentials_and_emails_are_masked():
    """Bearer tokens, private-app tokens, session ids, JWTs and email addresses are masked."""
    text = (
        "Bearer abc.def pat-na1-11112222-3333 00D5e000000AbCd!AQ4AQFfo.bar "
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIzTVZHOSJ9.c2ln jo.smith+x@mail.example.co.uk"
    )
    assert redact_text(text) == " ".join([REDACTED] * 5)


def test_exact_secrets_are_masked_whatever_their_shape():
    """A secret value passed in is masked even when no pattern would recognise it."""
    assert redact_text("echo: s3cr3t-value!", ["s3cr3t-value"]) == f"echo: {REDACTED}!"
