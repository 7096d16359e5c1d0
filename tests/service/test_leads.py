"""POST /v1/leads through httpx's ASGI transport: auth, parsing, idempotency, limits, CORS."""

from __future__ import annotations

import json

import pytest
from tests.service.conftest import API_KEY

pytestmark = pytest.mark.anyio

DEMO = {
    "email": "jo@acme.com",
    "name": "Jo Doe",
    "company": "Acme",
    "country": "US",
    "employees": 250,
    "lead_type": "demo",
    "utm_campaign": "spring",
}


async def test_a_lead_gets_a_decision_in_the_202(client, harness):
    """The 202 carries the decision id, owner, step and SLA deadline; the CRM is not called."""
    response = await client.post("/v1/leads", json={"id": "L1", **DEMO})
    assert response.status_code == 202
    body = response.json()
    assert body["lead_id"] == "L1"
    assert body["owner_id"] in {"na-1", "na-2"}
    assert body["step"] == "pool" and body["pool"] == "na"
    assert body["sla_due_at"] == "2026-11-02T15:00:00+00:00"
    assert body["decision_id"] and body["replayed"] is False
    assert harness.crm.writes == []  # never waits on the CRM: the relay writes later
    pending = harness.service.store.pending_effects()
    assert sorted(e.kind for e in pending) == ["notify:console", "owner_write"]


async def test_unknown_fields_are_kept_as_attributes(client, harness):
    """``utm_campaign`` is not a lead field: it is kept on the lead routing saw."""
    await client.post("/v1/leads", json={"id": "L2", **DEMO})
    decision = harness.service.store.current_decision("L2")
    assert decision is not None
    # The audit keeps non-personal features; the lead's attributes reached the pipeline.
    assert decision.features.get("country") == "US"


async def test_form_posts_are_accepted(client):
    """A browser form (application/x-www-form-urlencoded) is a lead like JSON is."""
    response = await client.post(
        "/v1/leads",
        content="email=ann%40acme.com&company=Acme&country=GB&lead_type=contact&newsletter=on",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 202
    assert response.json()["pool"] == "emea"
    assert response.json()["lead_id"].startswith("web-")


@pytest.mark.parametrize(
    ("headers", "title"),
    [({}, "API key required"), ({"Authorization": "Bearer nope"}, "API key not accepted")],
)
async def test_without_a_valid_key_nothing_is_decided(client, harness, headers, title):
    """A missing or wrong API key is a 401 problem, and no decision is made."""
    client.headers.pop("Authorization")
    response = await client.post("/v1/leads", json={"id": "L3", **DEMO}, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == title
    assert harness.service.store.current_decision("L3") is None


async def test_every_configured_key_is_accepted(client):
    """Each key of LEADROUTE_API_KEYS works."""
    response = await client.post(
        "/v1/leads", json={"id": "L4", **DEMO}, headers={"Authorization": "Bearer second-key"}
    )
    assert response.status_code == 202


async def test_idempotency_key_makes_one_decision(client, harness):
    """A resubmitted form with the same Idempotency-Key gets the first answer back."""
    headers = {"Idempotency-Key": "form-123"}
    first = await client.post("/v1/leads", json=DEMO, headers=headers)
    again = await client.post("/v1/leads", json=DEMO, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(harness.service.store.current_decisions()) == 1


async def test_submission_id_field_is_an_idempotency_key(client, harness):
    """A form's ``submission_id`` field works like the header."""
    first = await client.post("/v1/leads", json={**DEMO, "submission_id": "s-9"})
    again = await client.post("/v1/leads", json={**DEMO, "submission_id": "s-9"})
    assert first.json()["decision_id"] == again.json()["decision_id"]
    assert len(harness.service.store.current_decisions()) == 1


async def test_a_reused_key_with_another_body_is_refused(client):
    """The same key with different fields is a 422 naming Idempotency-Key."""
    headers = {"Idempotency-Key": "form-7"}
    await client.post("/v1/leads", json=DEMO, headers=headers)
    response = await client.post("/v1/leads", json={**DEMO, "company": "Other"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"


async def test_the_same_lead_id_replays_its_decision(client):
    """Posting a lead id already decided answers with that decision, replayed."""
    first = await client.post("/v1/leads", json={"id": "L5", **DEMO})
    again = await client.post("/v1/leads", json={"id": "L5", **DEMO})
    assert again.json()["decision_id"] == first.json()["decision_id"]
    assert again.json()["replayed"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**DEMO, "employees": "lots"}, "employees"),
        ({**DEMO, "employees": -3}, "employees"),
        ({**DEMO, "company": {"name": "Acme"}}, "company"),
        ({**DEMO, "created_at": "yesterday"}, "created_at"),
        ({**DEMO, "id": "x" * 300}, "id"),
    ],
)
async def test_bad_fields_are_named(client, payload, field):
    """A wrong value is a 422 problem+json naming the field."""
    response = await client.post("/v1/leads", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


async def test_a_rejected_lead_names_its_problems(client):
    """Validation's rejection (no email) is a 422 listing each problem's field and code."""
    response = await client.post("/v1/leads", json={"company": "Acme", "country": "US"})
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Lead rejected"
    assert body["field"] == "email"
    assert body["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"<lead/>", "application/xml", 415),
        (b"[" * 100_000, "application/json", 413),
    ],
)
async def test_malformed_bodies_are_problems_not_crashes(client, content, content_type, status):
    """Bad JSON, a non-object, another media type and an oversize body each get their status."""
    response = await client.post(
        "/v1/leads", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text


async def test_a_body_over_the_limit_is_413_even_without_content_length(client):
    """A streamed body past the limit is refused while it is read."""

    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    response = await client.post(
        "/v1/leads", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_cors_allows_only_the_policys_origins(client):
    """A preflight from an allowed origin is answered; another origin gets no CORS grant."""
    allowed = await client.options(
        "/v1/leads",
        headers={
            "Origin": "https://www.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert allowed.headers["access-control-allow-origin"] == "https://www.example.com"
    other = await client.options(
        "/v1/leads",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers


async def test_unknown_paths_and_methods_are_problems(client):
    """404 and 405 are problem+json too."""
    missing = await client.get("/v1/nothing")
    wrong = await client.get("/v1/leads")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert missing.headers["content-type"] == "application/problem+json"
    assert json.loads(wrong.text)["status"] == 405


async def test_an_unexpected_error_is_a_500_problem_without_traceback(client, harness, monkeypatch):
    """A crash inside the service answers a plain 500 problem; the details stay in the log."""

    from leadroute.engine import Engine

    def boom(self, lead, at=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Engine, "decide", boom)
    response = await client.post("/v1/leads", json={"id": "L9", **DEMO})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_api_key_is_compared_against_every_key():
    """check_api_key compares with every configured key (no early exit on a match)."""
    import hmac
    from unittest import mock

    from starlette.requests import Request

    from leadroute.service.requests import check_api_key

    scope = {"type": "http", "headers": [(b"authorization", f"Bearer {API_KEY}".encode())]}
    with mock.patch(
        "leadroute.service.requests.hmac.compare_digest", wraps=hmac.compare_digest
    ) as cmp:
        assert check_api_key(Request(scope), [API_KEY, "b", "c"]) == API_KEY
    assert cmp.call_count == 3
