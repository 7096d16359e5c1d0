"""Owner writes: collections of 200, per-record results, lock retries, read-back."""

from __future__ import annotations

import csv

import pytest

from leadroute.models import Effect
from leadroute_salesforce.testing import FakeSalesforce, Org, populate, sf_id


@pytest.fixture
def org(fake: FakeSalesforce) -> Org:
    """An org with 250 leads waiting in queues."""
    return populate(fake, leads=250, owned=0, accounts=5)


def test_200_records_with_mixed_failures_are_read_one_by_one(adapter_for, fake, org, effect):
    """A 200 answer is never 'all succeeded': each failure gets its own, correct outcome."""
    leads = org.waiting_leads[:200]
    active, inactive = org.active_users, org.inactive_users
    effects = [effect(lead, active[i % len(active)], i) for i, lead in enumerate(leads)]
    effects[5] = effect(leads[5], inactive[0])
    effects[6] = effect(leads[6], inactive[1])
    fake.fail_record(leads[10], "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
    fake.fail_record(leads[11], "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
    fake.fail_record(leads[12], "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", times=10)
    fake.fail_record(leads[20], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Industry is required")
    fake.fail_record(leads[21], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone is required")
    del fake.objects["Lead"][leads[30]]

    adapter = adapter_for(lock_retries=3)
    results = adapter.apply(effects)

    by_lead = dict(zip(leads, results, strict=True))
    assert [r.idem_key for r in results] == [e.idem_key for e in effects]
    assert sum(r.ok for r in results) == 194
    for lead in (leads[5], leads[6]):
        assert by_lead[lead].reroute and not by_lead[lead].ok
        assert by_lead[lead].detail.startswith("INACTIVE_OWNER_OR_USER")
    assert by_lead[leads[10]].ok and by_lead[leads[11]].ok  # lock released on retry
    assert by_lead[leads[12]] == type(by_lead[leads[12]])(
        idem_key=effects[12].idem_key,
        ok=False,
        retryable=True,
        detail="UNABLE_TO_LOCK_ROW: unable to obtain exclusive access",
    )
    assert by_lead[leads[20]].detail == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Industry is required"
    assert not by_lead[leads[20]].retryable and not by_lead[leads[20]].reroute
    assert by_lead[leads[30]].detail.startswith("ENTITY_IS_DELETED")
    assert {(f.record_id, f.code) for f in adapter.owners.failures} == {
        (leads[20], "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        (leads[21], "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        (leads[30], "ENTITY_IS_DELETED"),
    }
    updates = fake.data_requests("update")
    assert len(updates[0]["json"]["records"]) == 200
    # Only the locked records go out again, in later rounds.
    assert [len(u["json"]["records"]) for u in updates[1:]] == [3, 1, 1]
    for lead, result in by_lead.items():
        if result.ok:
            assert (
                fake.get("Lead", lead)["OwnerId"] == effects[leads.index(lead)].payload["owner_id"]
            )


def test_more_than_200_effects_go_in_several_collections(adapter_for, fake, org, effect):
    """201 owner writes make two collection calls: 200 then 1."""
    effects = [effect(lead, org.active_users[0]) for lead in org.waiting_leads[:201]]
    results = adapter_for().apply(effects)
    assert all(r.ok for r in results)
    assert [len(u["json"]["records"]) for u in fake.data_requests("update")] == [200, 1]


def test_assignment_rule_does_not_run_because_of_the_header(adapter_for, fake, org, effect):
    """With Sforce-Auto-Assign FALSE an active assignment rule leaves our owner alone."""
    rule_owner = org.active_users[-1]
    fake.assignment_rule = lambda lead: rule_owner
    lead = org.waiting_leads[0]
    (result,) = adapter_for().apply([effect(lead, org.active_users[0])])
    assert result.ok and result.observed_owner == ""
    assert fake.get("Lead", lead)["OwnerId"] == org.active_users[0]


def test_without_the_header_the_fake_rule_overrides(adapter_for, fake, org):
    """The fake models the default (header absent = TRUE): the rule wins, which is why we send it."""
    rule_owner = org.active_users[-1]
    fake.assignment_rule = lambda lead: rule_owner
    lead = org.waiting_leads[0]
    record = {"attributes": {"type": "Lead"}, "id": lead, "OwnerId": org.active_users[0]}
    adapter_for().client.update_collection([record], headers={})
    assert fake.get("Lead", lead)["OwnerId"] == rule_owner


def test_override_detected_by_read_back(adapter_for, fake, org, effect):
    """When automation changes the owner anyway, the result carries the owner Salesforce holds."""
    lead, other = org.waiting_leads[0], org.waiting_leads[1]
    intruder = org.active_users[-1]
    fake.automation = lambda record: intruder if record["Id"] == lead else None
    results = adapter_for().apply(
        [effect(lead, org.active_users[0]), effect(other, org.active_users[0])]
    )
    assert results[0].ok and results[0].observed_owner == intruder
    assert results[1].ok and results[1].observed_owner == ""
    reads = [q["params"]["q"] for q in fake.data_requests("query")]
    assert any(q.startswith("SELECT Id, OwnerId FROM Lead WHERE Id IN") for q in reads)


def test_a_newer_epoch_supersedes_a_pending_older_write(adapter_for, fake, org, effect):
    """Two pending writes for one lead: only the newest is sent; the older is done, superseded."""
    lead = org.waiting_leads[0]
    old, new = effect(lead, org.active_users[0]), effect(lead, org.active_users[1], epoch=2)
    results = adapter_for().apply([old, new])
    assert results[0].ok and results[0].detail == "superseded by a newer decision"
    assert results[1].ok
    (update,) = fake.data_requests("update")
    assert [r["OwnerId"] for r in update["json"]["records"]] == [org.active_users[1]]


def test_ids_that_are_not_leads_or_contacts_are_refused(adapter_for, fake, org, effect):
    """An id with another key prefix is not sent; the result says why and is not retried."""
    (result,) = adapter_for().apply([effect(sf_id("001", 1), org.active_users[0])])
    assert not result.ok and not result.retryable
    assert "not a Salesforce lead or contact id" in result.detail
    assert fake.data_requests("update") == []


def test_collection_failing_transiently_is_retryable(adapter_for, fake, org, effect):
    """Server errors beyond the retry budget leave every record of the chunk retryable."""
    fake.fail("update", 503, times=50)
    results = adapter_for().apply([effect(org.waiting_leads[0], org.active_users[0])])
    assert not results[0].ok and results[0].retryable


def test_other_effect_kinds_are_refused(adapter_for, org):
    """Kinds the adapter does not implement get a clear non-retryable result."""
    notify = Effect(kind="notify", decision_id="d", lead_id="x", idem_key="k", payload={})
    (result,) = adapter_for().apply([notify])
    assert not result.ok and "does not handle 'notify'" in result.detail


def test_decision_facts_are_written_with_the_owner(adapter_for, fake, org, effect):
    """write_fields sends mapped decision facts in the same record: numbers as numbers, empty as null."""
    lead = org.waiting_leads[0]
    e = effect(lead, org.active_users[0])
    e = type(e)(
        kind=e.kind,
        decision_id=e.decision_id,
        lead_id=e.lead_id,
        idem_key=e.idem_key,
        payload={**e.payload, "score": "72.5", "priority": "1", "sla_due_at": "", "rule": "na"},
    )
    fields = {
        "score": "Score__c",
        "priority": "Priority__c",
        "sla_due_at": "SLA__c",
        "rule": "Rule__c",
    }
    (result,) = adapter_for(write_fields=fields).apply([e])
    assert result.ok
    (record,) = fake.data_requests("update")[0]["json"]["records"]
    assert record["Score__c"] == 72.5 and record["Priority__c"] == 1
    assert record["SLA__c"] is None and record["Rule__c"] == "na"
    assert fake.get("Lead", lead)["Score__c"] == 72.5


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (
            lambda user: user.update(_readable=("Contact", "Account", "Task")),
            "TRANSFER_REQUIRES_READ",
        ),
        (lambda user: user.update(UserLicense="Salesforce Platform"), "TRANSFER_REQUIRES_READ"),
        (lambda user: user.update(_visible=False), "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"),
        (lambda user: user.update(IsActive=False), "INACTIVE_OWNER_OR_USER"),
    ],
    ids=["no-read-on-lead", "no-lead-licence", "owner-not-visible", "inactive"],
)
def test_owner_refusals_reroute(adapter_for, fake, org, effect, setup, code):
    """Every way Salesforce refuses the owner itself asks the core to decide the lead again."""
    owner = org.active_users[0]
    setup(fake.get("User", owner))
    lead = org.waiting_leads[0]
    before = fake.get("Lead", lead)["OwnerId"]
    adapter = adapter_for()
    (result,) = adapter.apply([effect(lead, owner)])
    assert result.reroute and not result.ok and not result.retryable
    assert result.detail.startswith(code)
    assert fake.get("Lead", lead)["OwnerId"] == before
    assert adapter.owners.failures == []  # the core reports a refusal nobody else can take


def test_converted_lead_is_done_without_a_write_and_reported(
    adapter_for, fake, org, effect, tmp_path
):
    """A lead converted since the read: no retry, no reroute, no task; its real owner is shown."""
    lead, converter = org.waiting_leads[0], org.active_users[-1]
    fake.get("Lead", lead).update(IsConverted=True, OwnerId=converter)
    adapter = adapter_for(tasks=True)
    (result,) = adapter.apply([effect(lead, org.active_users[0])])
    assert result.ok and not result.reroute
    assert result.observed_owner == converter
    assert "converted" in result.detail
    assert fake.get("Lead", lead)["OwnerId"] == converter
    assert fake.tasks_for(lead) == []
    adapter.report_problems([])
    with (tmp_path / "salesforce-exceptions.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["record_id"], row["code"]) == (lead, "CANNOT_UPDATE_CONVERTED_LEAD")


def test_alert_only_duplicate_rule_does_not_stop_an_owner_change(adapter_for, fake, org, effect):
    """Owner writes carry allowSave=true, so an alert-only duplicate rule lets them through."""
    lead, other = org.waiting_leads[0], org.waiting_leads[1]
    fake.duplicate_rule = lambda sobject, record: (False, [other]) if record["Id"] == lead else None
    (result,) = adapter_for().apply([effect(lead, org.active_users[0])])
    assert result.ok
    assert fake.get("Lead", lead)["OwnerId"] == org.active_users[0]
    (update,) = fake.data_requests("update")
    assert update["headers"]["sforce-duplicate-rule-header"] == "allowSave=true"


def test_blocking_duplicate_rule_is_reported_with_the_matches(adapter_for, fake, org, effect):
    """A blocking duplicate rule: not retried, not rerouted, the matching records named."""
    lead, twins = org.waiting_leads[0], org.waiting_leads[1:3]
    fake.duplicate_rule = lambda sobject, record: (True, twins) if record["Id"] == lead else None
    adapter = adapter_for()
    (result,) = adapter.apply([effect(lead, org.active_users[0])])
    assert not result.ok and not result.retryable and not result.reroute
    assert result.detail == (
        f"DUPLICATES_DETECTED: Use one of these records? (matches {twins[0]}, {twins[1]})"
    )
    (failure,) = adapter.owners.failures
    assert failure.code == "DUPLICATES_DETECTED" and twins[0] in failure.message
