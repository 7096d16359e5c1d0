"""Writing owners: batches of at most 100, per-record outcomes of 200/207/400, read-back of the owner."""

from __future__ import annotations

import json

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
    fake = FakeHubSpot.portal(contacts=10)
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


def test_missing_contact_is_dead_and_unmentioned_contact_is_retried(client_for):
    """OBJECT_NOT_FOUND is dead; a record HubSpot's answer does not mention is retryable."""
    fake = FakeHubSpot.portal(contacts=3)
    [known] = unowned(fake, 1)
    gone = effect("999999", "101")
    results = OwnerWriter(client_for(fake)).apply([effect(known, "101"), gone])
    assert not results[gone.idem_key].ok and not results[gone.idem_key].retryable
    assert "OBJECT_NOT_FOUND" in results[gone.idem_key].detail
    fake.fail(
        "batch_update",
        Fault(status=200, body={"status": "COMPLETE", "results": [], "errors": []}),
    )
    again = OwnerWriter(client_for(fake)).apply([effect(known, "102", epoch=2)])
    [silent] = again.values()
    assert not silent.ok and silent.retryable


def test_an_owner_changed_by_a_workflow_is_reported(client_for):
    """When the returned owner differs from the one written, the result carries the observed owner."""
    fake = FakeHubSpot.portal(contacts=3, reassign={"101": "202"})
    [cid] = unowned(fake, 1)
    [result] = OwnerWriter(client_for(fake)).apply([effect(cid, "101")]).values()
    assert result.ok and result.observed_owner == "202"


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
