"""Logging configuration: secrets and personal data never reach the rendered output."""

from __future__ import annotations

import io
import json
import sys

import structlog
from hypothesis import given
from hypothesis import strategies as st

from leadroute.cli.logs import REDACTED, configure_logging, redact

CANARY = "canary-7f3c2a"


def render(monkeypatch, **event) -> str:
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(1, json_logs=True)
    structlog.get_logger("test").info("adapter.request", **event)
    return buffer.getvalue()


def test_secret_keys_are_masked_at_any_depth(monkeypatch):
    """Tokens, passwords and emails under known keys are masked, nested or not."""
    out = render(
        monkeypatch,
        access_token=CANARY,
        headers={"Authorization": f"Bearer {CANARY}"},
        lead={"email": f"{CANARY}@acme.com", "lead_id": "L1"},
    )
    assert CANARY not in out
    data = json.loads(out)
    assert data["access_token"] == REDACTED
    assert data["lead"]["lead_id"] == "L1"


def test_secret_looking_values_are_masked_under_any_key(monkeypatch):
    """A bearer token, a HubSpot private-app token or an email inside free text is masked."""
    out = render(
        monkeypatch,
        detail=f"retrying with Bearer {CANARY} for jo@{CANARY}.com",
        note=f"pat-na1-{CANARY}-1234",
    )
    assert CANARY not in out


def test_tracebacks_never_show_locals(monkeypatch):
    """An exception logged with a secret in a local variable does not print the local."""
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(1)

    def fail() -> None:
        client_secret = CANARY  # noqa: F841 - the local the traceback must not show
        raise RuntimeError("boom")

    try:
        fail()
    except RuntimeError:
        structlog.get_logger("test").exception("adapter.failed")
    assert "boom" in buffer.getvalue()
    assert CANARY not in buffer.getvalue()


@given(
    st.recursive(
        st.text(max_size=5),
        lambda inner: st.dictionaries(
            st.sampled_from(["x", "token", "password", "note", "cookie"]), inner, max_size=3
        ),
        max_leaves=8,
    )
)
def test_redact_never_leaks_a_value_under_a_secret_key(value):
    """Whatever the nesting, nothing stored under a secret key survives redaction."""
    event = redact(None, "info", {"payload": {"token": value}, "password": value})
    assert event["password"] == REDACTED
    assert event["payload"]["token"] == REDACTED


def test_phone_numbers_in_free_text_are_masked(monkeypatch):
    """A phone number quoted in a message (a CRM's validation error) is masked in the log."""
    out = render(monkeypatch, detail="Phone +49 30 1234567 and (415) 555-0134 are invalid")
    assert "1234567" not in out and "555-0134" not in out
    assert json.loads(out)["detail"] == f"Phone {REDACTED} and {REDACTED} are invalid"
