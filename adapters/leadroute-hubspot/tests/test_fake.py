"""The fake portal refuses what HubSpot refuses and behaves as HubSpot does in time.

Each test pins one behaviour the adapter's tests rely on, so a fake that grew lenient
would fail here first.
"""

from __future__ import annotations

import json

from leadroute_hubspot.client import Rejected
from leadroute_hubspot.testing import FakeHubSpot


def post(client, path: str, body: dict):
    return client.request("POST", path, json=body)


def test_a_write_naming_an_unknown_property_fails_the_whole_batch(client_for):
    """One input with a property the portal lacks: one 400 for all, details only in the message."""
    fake = FakeHubSpot.portal(contacts=3)
    a, b = list(fake.contacts)[:2]
    client = client_for(fake)
    answer = post(
        client,
        client.objects("contacts") + "/batch/update",
        {
            "inputs": [
                {"id": a, "properties": {"hubspot_owner_id": "101"}},
                {"id": b, "properties": {"no_such_property": "x"}},
            ]
        },
    )
    assert isinstance(answer, Rejected) and answer.status == 400
    assert "PROPERTY_DOESNT_EXIST" in answer.message and "context" not in answer.body
    assert fake.contacts[a]["hubspot_owner_id"] == ""  # nothing of the batch was applied


def test_reading_a_property_answers_its_definition_or_404(client_for):
    """GET /crm/v3/properties/{object}/{name}: the definition with hasUniqueValue, else 404."""
    fake = FakeHubSpot.portal(contacts=1)
    client = client_for(fake)
    key = client.request("GET", client.properties("tasks", "leadroute_key"))
    assert not isinstance(key, Rejected) and key.json()["hasUniqueValue"] is True
    missing = client.request("GET", client.properties("contacts", "nope"))
    assert isinstance(missing, Rejected) and missing.status == 404


def test_search_finds_a_write_only_after_the_index_lag(client_for):
    """A contact updated a moment ago is found by its old values until search_lag has passed."""
    fake = FakeHubSpot.portal(contacts=3, search_lag=5.0)
    client = client_for(fake)
    [cid] = list(fake.contacts)[:1]
    fake.change(cid, "hs_lead_status", "OPEN")
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_lead_status", "operator": "EQ", "value": "OPEN"}]}
        ]
    }
    path = client.objects("contacts") + "/search"
    assert client.call("POST", path, json=body, search=True)["total"] == 0
    fake.clock.sleep(5.0)
    assert client.call("POST", path, json=body, search=True)["total"] == 1


def test_history_batch_reads_take_at_most_fifty(client_for):
    """propertiesWithHistory with more than 50 inputs is a 400; 50 are answered with versions."""
    fake = FakeHubSpot.portal(contacts=60)
    client = client_for(fake)
    ids = [{"id": c} for c in fake.contacts]
    path = client.objects("contacts") + "/batch/read"
    body = {"inputs": ids, "properties": [], "propertiesWithHistory": ["lifecyclestage"]}
    assert isinstance(post(client, path, body), Rejected)
    fine = post(client, path, {**body, "inputs": ids[:50]})
    assert not isinstance(fine, Rejected)
    assert (
        fine.json()["results"][0]["propertiesWithHistory"]["lifecyclestage"][0]["value"] == "lead"
    )


def test_upsert_needs_a_unique_id_property(client_for):
    """A task upsert by a property without unique values is refused."""
    fake = FakeHubSpot.portal(contacts=1, task_key_unique=False)
    client = client_for(fake)
    answer = post(
        client,
        client.objects("tasks") + "/batch/upsert",
        {
            "inputs": [
                {
                    "id": "k1",
                    "idProperty": "leadroute_key",
                    "properties": {"hs_timestamp": "2026-11-02T11:00:00.000Z"},
                }
            ]
        },
    )
    assert isinstance(answer, Rejected) and "not a unique identifier" in answer.message


def test_associations_page_per_record_in_id_order(client_for):
    """v4 batch reads page each record's associations; the primary is not first by rule."""
    fake = FakeHubSpot.portal(contacts=1, association_page=2)
    [cid] = fake.contacts
    fake.contact_companies[cid] = ["5009", "5001", "5002", "5003"]  # 5009 is primary
    client = client_for(fake)
    path = client.associations("contacts", "companies")
    first = post(client, path, {"inputs": [{"id": cid}]}).json()["results"][0]
    assert [t["toObjectId"] for t in first["to"]] == [5001, 5002]
    after = first["paging"]["next"]["after"]
    rest = post(client, path, {"inputs": [{"id": cid, "after": after}]}).json()["results"][0]
    assert [t["toObjectId"] for t in rest["to"]] == [5003, 5009]
    assert rest["to"][-1]["associationTypes"][0]["typeId"] == 1 and "paging" not in rest


def test_workflows_run_after_the_write_not_inside_the_answer(client_for):
    """The update's answer holds the owner written; the workflow's owner appears later."""
    fake = FakeHubSpot.portal(contacts=2, reassign={"101": "202"}, workflow_delay=30)
    client = client_for(fake)
    [cid] = list(fake.contacts)[:1]
    answer = post(
        client,
        client.objects("contacts") + "/batch/update",
        {"inputs": [{"id": cid, "properties": {"hubspot_owner_id": "101"}}]},
    )
    assert json.loads(answer.content)["results"][0]["properties"]["hubspot_owner_id"] == "101"
    fake.clock.sleep(31)
    client.request("GET", client.owners(), params={"limit": 1})  # any later request
    assert fake.contacts[cid]["hubspot_owner_id"] == "202"
    sources = [v["sourceType"] for v in fake.history[cid]["hubspot_owner_id"]]
    assert sources == ["AUTOMATION_PLATFORM", "INTEGRATION"]
