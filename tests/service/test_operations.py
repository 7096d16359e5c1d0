"""Outcomes, health, readiness and metrics endpoints."""

from __future__ import annotations

import httpx
import pytest

from leadroute.service import create_app
from leadroute.store.timers import pending_timers

pytestmark = pytest.mark.anyio

DEMO = {"id": "L1", "email": "jo@acme.com", "company": "Acme", "country": "US", "lead_type": "demo"}


async def test_a_first_touch_outcome_stops_the_clock(client, harness):
    """POST /v1/outcomes records the touch and stops the lead's SLA timers."""
    await client.post("/v1/leads", json=DEMO)
    assert len(pending_timers(harness.service.store, "L1")) == 2
    response = await client.post(
        "/v1/outcomes",
        json={
            "lead_id": "L1",
            "kind": "first_touch",
            "rep_id": "na-1",
            "at": "2026-11-02T14:10:00Z",
        },
    )
    assert response.status_code == 202
    assert response.json() == {"received": 1, "new": 1, "timers_stopped": 2}
    assert pending_timers(harness.service.store, "L1") == []
    again = await client.post(
        "/v1/outcomes",
        json=[
            {"lead_id": "L1", "kind": "first_touch", "rep_id": "na-1", "at": "2026-11-02T14:10:00Z"}
        ],
    )
    assert again.json()["new"] == 0  # the same event twice is recorded once


async def test_a_meeting_booked_outcome_is_recorded(client, harness):
    """Other outcome kinds are recorded for reporting."""
    from leadroute.store.outcomes import load_outcomes

    response = await client.post("/v1/outcomes", json={"lead_id": "L7", "kind": "meeting_booked"})
    assert response.status_code == 202
    assert [str(o.kind) for o in load_outcomes(harness.service.store)] == ["meeting_booked"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "first_touch"}, "[0].lead_id"),
        ({"lead_id": "L1", "kind": "sla_breached"}, "[0].kind"),
        ({"lead_id": "L1", "kind": "first_touch", "at": "soon"}, "[0].at"),
        ([{"lead_id": "L1", "kind": "first_touch"}, "x"], "[1]"),
    ],
)
async def test_bad_outcomes_name_the_field(client, body, field):
    """Each mistake is a 422 naming the item and field; nothing is recorded."""
    response = await client.post("/v1/outcomes", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_outcomes_need_an_api_key(client):
    """Outcomes come from trusted systems only."""
    client.headers.pop("Authorization")
    response = await client.post("/v1/outcomes", json={"lead_id": "L1", "kind": "first_touch"})
    assert response.status_code == 401


async def test_healthz_and_readyz(client):
    """Liveness always answers; readiness checks the store and its migrations."""
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": True, "migrations": True}


async def test_readyz_fails_while_the_relay_has_not_run(harness):
    """With the relay in process, the service is not ready until a relay pass has run."""
    app = create_app(harness.service, run_relay=True, run_timers=False)
    harness.service.relayer.last_pass = 0.0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/readyz")  # lifespan not started: no relay pass yet
    assert response.status_code == 503
    assert "relay" in response.json()["detail"]


async def test_metrics_expose_decisions_latency_outbox_and_sla(client, harness):
    """/metrics: decisions by step, latency histograms, outbox depth and age, SLA timers."""
    await client.post("/v1/leads", json=DEMO)
    await client.post("/v1/leads", json={**DEMO, "id": "L2", "email": "x"})  # rejected
    text = (await client.get("/metrics")).text
    assert 'leadroute_decisions_total{status="routed",step="pool"} 1.0' in text
    assert "leadroute_decision_seconds_bucket" in text
    assert 'leadroute_http_requests_total{method="POST",route="/v1/leads",status="202"} 1.0' in text
    assert 'leadroute_outbox_effects{status="pending"} 2.0' in text
    assert "leadroute_outbox_oldest_pending_seconds" in text
    assert 'leadroute_sla_timers{status="pending"} 2.0' in text
    assert 'leadroute_leads_rejected_total{code="INVALID_EMAIL"} 1.0' in text
    assert "L1" not in text and "na-1" not in text  # no lead or rep ids as labels
