"""Writing owners: batches of at most 100, per-record outcomes of 200/207/400, read-back of the owner."""

from __future__ import annotations

import json

import attrs

from leadroute.models import Effect, EffectResult
from leadroute_hubspot.testing import FakeHubSpot, Fault, rate_limit_body
from leadroute_hubspot.writing import OwnerWriter


def effect(lead_id: str, owner: str, epoch: int = 1, status: str = "routed") -> Effect:
    decision = f"d-{lead_id}-{epoch}"
    return Effect(
        kind="owner_write",
        decision_id=decision,
        lead_id=lead_id,
        idem_key=Effect.key_for(decision, "owner_write"),
        payload={"lead_id": lead_id, "owner_id": owner, "status": status, "epoch": epoch},
    )


def unowned(fake: FakeHubSpot, n: int) -> list[str]:
    return [cid for cid, p in fake.contacts.items() if not p["hubspot_owner_id"]][:n]


def updates(fake: FakeHubSpot) -> list[dict]:
    return [
        json.loads(c.request.content)
        for c in fake.router.calls
        if c.request.url.path.endswith("/batch/update")
    ]


def test_batches_hold_at_most_100_inputs(client_for):
    """250 owner writes go out as 100 + 100 + 50 and all land on the contacts."""
    fake = FakeHubSpot.portal(contacts=250)
    ids = unowned(fake, 250)
    results = OwnerWriter(client_for(fake)).apply([effect(c, "101") for c in ids])
    assert [len(b["inputs"]) for b in updates(fake)] == [100, 100, 50]
    assert all(r.ok for r in results.values())
    assert all(fake.contacts[c]["hubspot_owner_id"] == "101" for c in ids)


def test_a_207_is_read_record_by_record(client_for):
    """In a 207, an archived owner reroutes, an invalid status is dead with its reason, the rest succeed."""
    fake = FakeHubSpot.portal(contacts=10, whole_batch_validation=False)
    a, b, c = unowned(fake, 3)
    writer = OwnerWriter(client_for(fake), on_routed={"hs_lead_status": "NEW"})
    writer.on_fallback = {"hs_lead_status": "QUEUED"}  # not an option of this portal
    effects = [effect(a, "101"), effect(b, "104"), effect(c, "900", status="fallback")]
    results = writer.apply(effects)
    ok, refused, invalid = (results[e.idem_key] for e in effects)
    assert ok == EffectResult(idem_key=effects[0].idem_key, ok=True)
    assert refused.reroute and not refused.ok and "hubspot_owner_id" in refused.detail
    assert not invalid.ok and not invalid.retryable and not invalid.reroute
    assert "VALIDATION_ERROR" in invalid.detail and "hs_lead_status" in invalid.detail
    assert fake.contacts[a]["hs_lead_status"] == "NEW"
    assert fake.contacts[b]["hubspot_owner_id"] == "" and fake.contacts[c]["hubspot_owner_id"] == ""


def test_a_whole_batch_400_is_split_to_find_the_bad_record(client_for):
    """When one invalid input fails the whole call, the batch is split and the others still land."""
    fake = FakeHubSpot.portal(contacts=10, whole_batch_validation=True)
    ids = unowned(fake, 5)
    effects = [effect(c, "102") for c in ids[:4]] + [effect(ids[4], "205")]
    results = OwnerWriter(client_for(fake)).apply(effects)
    assert [results[e.idem_key].ok for e in effects] == [True] * 4 + [False]
    assert results[effects[4].idem_key].reroute


def test_missing_contact_is_dead(client_for):
    """OBJECT_NOT_FOUND for one record is dead with HubSpot's reason; the others land."""
    fake = FakeHubSpot.portal(contacts=3)
    [known] = unowned(fake, 1)
    gone = effect("999999", "101")
    results = OwnerWriter(client_for(fake)).apply([effect(known, "101"), gone])
    assert not results[gone.idem_key].ok and not results[gone.idem_key].retryable
    assert "OBJECT_NOT_FOUND" in results[gone.idem_key].detail


SILENT = Fault(status=200, body={"status": "COMPLETE", "results": [], "errors": []})


def test_an_unmentioned_record_is_sent_once_more_in_the_same_call(client_for):
    """A record in neither results nor errors is re-sent once; the second answer counts."""
    fake = FakeHubSpot.portal(contacts=3)
    [known] = unowned(fake, 1)
    fake.fail("batch_update", attrs.evolve(SILENT))
    [result] = OwnerWriter(client_for(fake)).apply([effect(known, "102")]).values()
    assert result.ok and fake.calls("/batch/update") == 2


def test_a_record_never_mentioned_ends_dead_after_the_relays_attempts(client_for, tmp_path):
    """Unmentioned twice per call is a retryable attempt; after five passes it is dead and reported."""
    from datetime import UTC, datetime

    from leadroute.models import Decision, DecisionStatus, RouteStep, decision_id_for
    from leadroute.store import Store, relay, unresolved_failures

    fake = FakeHubSpot.portal(contacts=3)
    [known] = unowned(fake, 1)
    fake.fail("batch_update", attrs.evolve(SILENT, times=99))
    writer = OwnerWriter(client_for(fake))

    class Target:
        name = "hubspot-writer"

        def apply(self, effects):
            return list(writer.apply(effects).values())

    decision = Decision(
        id=decision_id_for(known, 1),
        lead_id=known,
        status=DecisionStatus.ROUTED,
        owner_id="101",
        step=RouteStep.POOL,
        policy_version="1",
        decided_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    write = effect(known, "101")
    write = attrs.evolve(write, decision_id=decision.id, idem_key=Effect.key_for(decision.id, "x"))
    with Store.open(tmp_path / "s.db") as store:
        store.record(decision, [write])
        for _ in range(6):
            relay(store, Target())  # type: ignore[arg-type]
        [failure] = unresolved_failures(store)
    assert failure.lead_id == known and "did not mention this contact" in failure.detail
    assert fake.calls("/batch/update") == 10  # two sends a pass, five passes, then never again


def test_a_workflow_acts_after_the_write_and_is_caught_by_reading_back(client_for):
    """HubSpot's answer shows the owner written; the workflow moves it later, and a read-back sees it."""
    from leadroute_hubspot.reading import PortalReader

    fake = FakeHubSpot.portal(contacts=3, reassign={"101": "202"}, workflow_delay=90)
    [cid] = unowned(fake, 1)
    client = client_for(fake)
    [result] = OwnerWriter(client).apply([effect(cid, "101")]).values()
    assert result.ok and result.observed_owner == ""  # nothing changed yet
    assert PortalReader(client).owners_of([cid]) == {cid: "101"}
    fake.clock.sleep(91)
    assert PortalReader(client).owners_of([cid, "999999"]) == {cid: "202"}


def test_owners_known_archived_at_read_are_rerouted_without_a_call(client_for):
    """An owner the read saw archived is refused locally; nothing is sent for it."""
    fake = FakeHubSpot.portal(contacts=3)
    [cid] = unowned(fake, 1)
    writer = OwnerWriter(client_for(fake), refused_owners={"104": "owner 104 is deactivated"})
    [result] = writer.apply([effect(cid, "104")]).values()
    assert result.reroute and updates(fake) == []


def test_two_decisions_for_one_contact_in_a_batch_write_the_latest(client_for):
    """HubSpot refuses duplicate ids in a batch, so the later decision wins and the earlier is superseded."""
    fake = FakeHubSpot.portal(contacts=3)
    [cid] = unowned(fake, 1)
    old, new = effect(cid, "101", epoch=1), effect(cid, "102", epoch=2)
    results = OwnerWriter(client_for(fake)).apply([old, new])
    assert results[old.idem_key].ok and results[new.idem_key].ok
    assert [len(b["inputs"]) for b in updates(fake)] == [1]
    assert fake.contacts[cid]["hubspot_owner_id"] == "102"


def test_daily_limit_mid_write_stops_and_leaves_the_rest_pending(client_for):
    """A DAILY 429 stops writing at once; unwritten effects are retryable (the outbox keeps them)."""
    fake = FakeHubSpot.portal(contacts=250)
    ids = unowned(fake, 250)
    client = client_for(fake)
    writer = OwnerWriter(client)
    first = writer.apply([effect(c, "101") for c in ids[:100]])
    fake.fail("batch_update", Fault(status=429, body=rate_limit_body("DAILY")))
    rest = writer.apply([effect(c, "101") for c in ids[100:]])
    assert all(r.ok for r in first.values())
    assert all(not r.ok and r.quota and "daily" in r.detail for r in rest.values())
    assert len(updates(fake)) == 2 and fake.clock.slept == []


def test_revoked_credentials_during_a_write_stop_the_run(client_for):
    """A 401 while writing (a static token revoked) is an AuthError, not a silently retried write."""
    import pytest

    from leadroute.errors import AuthError

    fake = FakeHubSpot.portal(contacts=3)
    [cid] = unowned(fake, 1)
    fake.expire_tokens()
    with pytest.raises(AuthError, match="HTTP 401"):
        OwnerWriter(client_for(fake)).apply([effect(cid, "101")])
