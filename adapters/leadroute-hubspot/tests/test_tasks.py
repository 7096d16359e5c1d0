"""Follow-up tasks: the fields HubSpot needs, priority by lead type, and never a duplicate."""

from __future__ import annotations

from datetime import timedelta

from leadroute.models import Effect
from leadroute_hubspot.mapping import TaskSettings
from leadroute_hubspot.tasks import TaskWriter, task_key
from leadroute_hubspot.testing import FakeHubSpot, Fault

SETTINGS = TaskSettings(
    enabled=True,
    due_after=timedelta(hours=2),
    priority={"default": "MEDIUM", "demo": "HIGH"},
)


def effect(lead_id: str, owner: str = "101") -> Effect:
    decision = f"d-{lead_id}"
    return Effect(
        kind="owner_write",
        decision_id=decision,
        lead_id=lead_id,
        idem_key=Effect.key_for(decision, "owner_write"),
        payload={
            "lead_id": lead_id,
            "owner_id": owner,
            "status": "routed",
            "step": "pool",
            "rule": "na",
            "pool": "na",
            "reason": "next in rotation.",
            "policy_version": "hs1@abc",
            "decided_at": "2026-11-02T09:00:00+00:00",
            "decision_id": decision,
        },
    )


def test_task_has_due_time_subject_body_owner_priority_and_contact_association(client_for):
    """A task is due after the decision, names the route, has the owner, priority and association 204."""
    fake = FakeHubSpot.portal(contacts=3)
    writer = TaskWriter(
        client_for(fake), SETTINGS, lead_types={"1": "Demo"}, names={"1": "Ann Lee"}
    )
    assert writer.create([effect("1"), effect("2")]) == {}
    tasks = {t["properties"]["leadroute_key"]: t for t in fake.tasks.values()}
    demo = tasks[task_key(effect("1"))]
    props = demo["properties"]
    assert props["hs_timestamp"] == "2026-11-02T11:00:00.000Z"
    assert props["hs_task_subject"] == "Follow up: new lead Ann Lee"
    assert "rule na" in props["hs_task_body"] and "pool na" in props["hs_task_body"]
    assert (props["hubspot_owner_id"], props["hs_task_priority"]) == ("101", "HIGH")
    assert demo["associations"][0]["to"] == {"id": "1"}
    assert demo["associations"][0]["types"][0]["associationTypeId"] == 204
    assert tasks[task_key(effect("2"))]["properties"]["hs_task_priority"] == "MEDIUM"


def test_retry_after_an_ambiguous_timeout_creates_no_duplicate(client_for):
    """A create that timed out after HubSpot applied it is found by key on retry, not made twice."""
    fake = FakeHubSpot.portal(contacts=3)
    fake.fail("task_create", Fault(status=0, after_commit=True))
    writer = TaskWriter(client_for(fake), SETTINGS)
    failed = writer.create([effect("1")])
    assert len(fake.tasks) == 1 and fake.calls("/tasks/batch/create") == 1
    assert "outcome unknown: ReadTimeout" in failed[effect("1").idem_key]
    assert writer.create([effect("1")]) == {}  # the relay's retry finds the first task
    assert len(fake.tasks) == 1


def test_a_restart_creates_no_second_task(client_for):
    """Creating the same decision's task again (a re-run after a crash) finds it and adds nothing."""
    fake = FakeHubSpot.portal(contacts=3)
    TaskWriter(client_for(fake), SETTINGS).create([effect("1"), effect("2")])
    TaskWriter(client_for(fake), SETTINGS).create([effect("1"), effect("2"), effect("3")])
    keys = sorted(t["properties"]["leadroute_key"] for t in fake.tasks.values())
    assert keys == sorted(task_key(effect(i)) for i in "123")
