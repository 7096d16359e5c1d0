"""Follow-up tasks: upserted by external id, so retries and restarts cannot duplicate them."""

from __future__ import annotations

import csv

import pytest

from leadroute_salesforce.adapter import EXCEPTIONS_FILE
from leadroute_salesforce.settings import TaskSettings
from leadroute_salesforce.tasks import task_key, task_record
from leadroute_salesforce.testing import populate


@pytest.fixture
def org(fake):
    """An org with 20 leads waiting in queues."""
    return populate(fake, leads=20, owned=0, accounts=2)


TASKS = {"priority": {"demo": "High", "default": "Low"}, "due_in_days": 2}


def test_task_fields(org, effect):
    """WhoId, OwnerId, Subject, a plain-date ActivityDate, Status and Priority by lead type."""
    e = effect(org.waiting_leads[0], org.active_users[0])
    settings = TaskSettings(enabled=True, priority={"demo": "High", "default": "Normal"})
    record = task_record(e, org.active_users[0], "Demo", settings)
    assert record == {
        "attributes": {"type": "Task"},
        "Leadroute_Key__c": task_key(e),
        "WhoId": org.waiting_leads[0],
        "OwnerId": org.active_users[0],
        "Subject": "Follow up: new lead",
        "ActivityDate": "2026-11-03",
        "Status": "Not Started",
        "Priority": "High",
        "Description": "Routed by leadroute: test",
    }


def test_applying_twice_creates_each_task_once(adapter_for, fake, org, effect):
    """A re-sent batch (a restart before the outbox was marked) updates the same tasks."""
    effects = [effect(lead, org.active_users[0]) for lead in org.waiting_leads]
    for lead in org.waiting_leads:
        fake.get("Lead", lead)["Lead_Type__c"] = "contact"
    fake.get("Lead", org.waiting_leads[0])["Lead_Type__c"] = "demo"
    fields = {"leads": {"lead_type": "Lead_Type__c"}}
    # The first adapter read the leads; the second (a later run relaying) did not.
    adapter = adapter_for(tasks=TASKS, fields=fields)
    adapter.read()
    assert all(r.ok for r in adapter.apply(effects))
    assert all(r.ok for r in adapter_for(tasks=TASKS, fields=fields).apply(effects))
    tasks = list(fake.objects["Task"].values())
    assert len(tasks) == 20
    assert {t["WhoId"] for t in tasks} == set(org.waiting_leads)
    assert fake.tasks_for(org.waiting_leads[0])[0]["Priority"] == "High"
    assert fake.tasks_for(org.waiting_leads[1])[0]["Priority"] == "Low"
    assert fake.tasks_for(org.waiting_leads[1])[0]["ActivityDate"] == "2026-11-04"
    upserts = fake.data_requests("upsert")
    assert upserts[0]["path"].endswith("/composite/sobjects/Task/Leadroute_Key__c")


def test_timeout_after_the_task_was_created_does_not_duplicate(adapter_for, fake, org, effect):
    """An upsert whose answer was lost is sent again with the same key: still one task."""
    effects = [effect(org.waiting_leads[0], org.active_users[0])]
    adapter = adapter_for(tasks=True)
    adapter.apply(effects)
    fake.fail("upsert", 504, times=5)  # Salesforce may have applied it; we never hear back
    (result,) = adapter_for(tasks=True).apply(effects)
    assert not result.ok and result.retryable  # the relay sends owner and task again later
    (again,) = adapter_for(tasks=True).apply(effects)
    assert again.ok
    assert len(fake.tasks_for(org.waiting_leads[0])) == 1


def test_task_follows_the_owner_salesforce_holds(adapter_for, fake, org, effect):
    """When automation overrode the owner, the task goes to whoever owns the lead now."""
    lead, intruder = org.waiting_leads[0], org.active_users[-1]
    fake.automation = lambda record: intruder
    (result,) = adapter_for(tasks=True).apply([effect(lead, org.active_users[0])])
    assert result.observed_owner == intruder
    assert fake.tasks_for(lead)[0]["OwnerId"] == intruder


def test_refused_task_keeps_the_owner_write_and_is_reported(
    adapter_for, fake, org, tmp_path, effect
):
    """A task Salesforce refuses for good does not undo the owner; it goes to the report."""
    lead = org.waiting_leads[0]
    fake.fail_record(f"task:{lead}", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Type is required")
    adapter = adapter_for(tasks=True)
    (result,) = adapter.apply([effect(lead, org.active_users[0])])
    assert result.ok
    assert result.detail == (
        "owner written; follow-up task refused: FIELD_CUSTOM_VALIDATION_EXCEPTION: Type is required"
    )
    adapter.report_problems([])
    with (tmp_path / EXCEPTIONS_FILE).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {
            "source": "salesforce:write:task",
            "record_id": lead,
            "kind": "lead",
            "field": "Task",
            "code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Type is required",
        }
    ]


def test_missing_external_id_field_is_reported_clearly(adapter_for, fake, org, effect):
    """If the admin has not created the field, the owner stands and the detail says what to fix."""
    fake.task_external_id_field = "Other__c"
    (result,) = adapter_for(tasks=True).apply([effect(org.waiting_leads[0], org.active_users[0])])
    assert result.ok
    assert "No such column 'Leadroute_Key__c' on entity 'Task'" in result.detail
    assert "is Leadroute_Key__c an External ID field on Task?" in result.detail
    assert len(fake.data_requests("upsert")) == 1  # a refused request is not retried


def test_sla_deadline_and_payload_lead_type_drive_the_task(org, effect):
    """With an SLA deadline the task is due that day; the decision's lead type sets priority."""
    e = effect(org.waiting_leads[0], org.active_users[0])
    payload = {**e.payload, "sla_due_at": "2026-11-02T23:30:00-05:00", "lead_type": "demo"}
    e = type(e)(
        kind=e.kind,
        decision_id=e.decision_id,
        lead_id=e.lead_id,
        idem_key=e.idem_key,
        payload=payload,
    )
    record = task_record(
        e, org.active_users[0], "demo", TaskSettings(enabled=True, priority={"demo": "High"})
    )
    assert record["ActivityDate"] == "2026-11-03"  # 04:30 UTC on the 3rd
    assert record["Priority"] == "High"


def test_no_task_for_a_lead_that_automation_moved_to_a_queue(
    adapter_for, fake, org, tmp_path, effect
):
    """A queue cannot own a Task: the owner write stands, the task is skipped with a reason."""
    lead, queue = org.waiting_leads[0], org.queues[1]
    fake.automation = lambda record: queue
    adapter = adapter_for(tasks=True)
    (result,) = adapter.apply([effect(lead, org.active_users[0])])
    assert result.ok and result.observed_owner == queue
    assert fake.tasks_for(lead) == []
    assert fake.data_requests("upsert") == []  # nothing Salesforce would refuse was sent
    adapter.report_problems([])
    with (tmp_path / EXCEPTIONS_FILE).open(newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["record_id"], row["code"]) == (lead, "TASK_OWNER_NOT_A_USER")
    assert queue in row["message"]


def test_fake_org_refuses_a_queue_as_task_owner(adapter_for, fake, org, effect):
    """The fake is honest: a Task upsert owned by a queue is refused on OwnerId."""
    adapter = adapter_for(tasks=True)
    adapter.client.auth.session()
    record = task_record(
        effect(org.waiting_leads[0], org.queues[0]), org.queues[0], "demo", TaskSettings()
    )
    (saved,) = adapter.client.upsert_collection("Task", "Leadroute_Key__c", [record])
    assert saved["success"] is False
    assert saved["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert saved["errors"][0]["fields"] == ["OwnerId"]
