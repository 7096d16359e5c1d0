"""The relay beside intake: a CRM outage delays effects and blocks nothing; a restart in the
middle of a run loses and duplicates nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.service.conftest import API_KEY, build_service

from leadroute.service import create_app
from leadroute.store.timers import pending_timers

pytestmark = pytest.mark.anyio


def lead(n: int, lead_type: str = "demo") -> dict[str, object]:
    return {
        "id": f"L{n}",
        "email": f"p{n}@company{n}.com",
        "company": f"Company {n}",
        "country": "US" if n % 2 else "GB",
        "lead_type": lead_type,
    }


async def test_a_crm_outage_delays_effects_and_never_blocks_intake(client, harness):
    """While the CRM fails, leads are still decided; effects wait their backoff, then apply."""
    harness.crm.down = 1
    for n in range(3):
        assert (await client.post("/v1/leads", json=lead(n))).status_code == 202
    failed = harness.service.relay_pass()
    # The notifications went out; the three owner writes failed and wait.
    assert (failed.applied, failed.failed, failed.pending) == (3, 3, 3)
    assert harness.crm.owners == {}
    assert harness.service.relay_pass().applied == 0  # still waiting out the backoff
    harness.clock.advance(seconds=3)
    assert harness.service.relay_pass().applied == 3
    assert len(harness.crm.owners) == 3
    assert harness.service.store.outbox_counts() == {"done": 6}


async def test_the_background_relay_writes_owners_soon_after_intake(harness):
    """With the loops running, an owner is written without anyone calling the relay."""
    app = create_app(harness.service, run_relay=True, run_timers=True)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as http,
    ):
        response = await http.post("/v1/leads", json=lead(1))
        assert response.status_code == 202
        for _ in range(100):
            if "L1" in harness.crm.owners:
                break
            await asyncio.sleep(0.05)
    assert harness.crm.owners["L1"] == response.json()["owner_id"]
    assert "notification to" in harness.console.getvalue()


async def test_a_restart_in_the_middle_loses_and_duplicates_nothing(tmp_path):
    """Killed after the CRM applied a batch but before the outbox knew: after a restart each
    effect is re-sent under the same key (applied once), no lead is decided twice, and the
    SLA clocks fire once each."""
    first = build_service(tmp_path)
    app = create_app(first.service, run_relay=False, run_timers=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "k-1"},
        ) as http,
    ):
        answer = (await http.post("/v1/leads", json=lead(1))).json()
        http.headers.pop("Idempotency-Key")
        for n in range(2, 11):
            await http.post("/v1/leads", json=lead(n, "demo" if n % 3 else "contact"))
        first.crm.crash_after_apply = True
        with pytest.raises(KeyboardInterrupt):
            first.service.relay_pass()
    assert len(first.crm.owners) == 10  # the CRM has them all...
    assert first.service.store.outbox_counts().get("done", 0) == 0  # ...the outbox does not know

    crm = first.crm
    crm.crash_after_apply = False
    second = build_service(tmp_path, crm=crm, clock=first.clock)  # the restart
    decisions = second.service.store.current_decisions()
    assert len(decisions) == 10 and {d.epoch for d in decisions.values()} == {1}
    app = create_app(second.service, run_relay=False, run_timers=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "k-1"},
        ) as http:
            again = (await http.post("/v1/leads", json=lead(1))).json()
        assert again == answer  # the resubmitted form gets the first answer
        report = second.service.relay_pass()
        assert report.applied == 20 and report.pending == 0
        assert len(crm.writes) == 10  # each owner written once, whatever was re-sent
        assert max(crm.sent.values()) == 2  # re-sent once under the same key, never more
        demo = sum(1 for d in decisions.values() if d.lead_type == "demo")
        assert len(pending_timers(second.service.store)) == 2 * demo
        second.clock.advance(minutes=31)
        assert second.service.tick().reminders == demo
        assert second.service.tick().reminders == 0
        assert second.service.relay_pass().applied == demo
    assert len(second.service.store.current_decisions()) == 10


async def test_sla_breach_through_the_service_reassigns_to_the_backup(client, harness):
    """Demos nobody touches: reminders at 30 min; at the deadline na-1's lead moves to its
    backup na-2 (epoch 2, SLA_BREACHED); na-2 has no backup, so the queue's owner is told."""
    owners = {}
    for n in (1, 3):
        response = await client.post("/v1/leads", json=lead(n))
        owners[response.json()["owner_id"]] = f"L{n}"
    assert set(owners) == {"na-1", "na-2"}  # round robin gave one to each
    harness.clock.advance(minutes=30)
    assert harness.service.tick().reminders == 2
    harness.clock.advance(minutes=31)
    report = harness.service.tick()
    assert (report.breaches, report.moved) == (2, 1)
    moved = harness.service.store.current_decision(owners["na-1"])
    kept = harness.service.store.current_decision(owners["na-2"])
    assert moved is not None and kept is not None
    assert (moved.owner_id, moved.epoch, str(moved.step)) == ("na-2", 2, "backup")
    assert moved.reason.startswith("SLA_BREACHED")
    assert (kept.owner_id, kept.epoch) == ("na-2", 1)
    told = [
        e.payload["rep_id"]
        for e in harness.service.store.pending_effects()
        if e.kind.startswith("notify:") and e.payload["purpose"] == "breach"
    ]
    assert told == ["ops"]
