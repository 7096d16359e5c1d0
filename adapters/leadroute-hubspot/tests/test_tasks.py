"""Follow-up tasks: the fields HubSpot needs, priority by lead type, and never a duplicate.

The fake's search lags writes (HubSpot's search is eventually consistent) and the task
key property requires unique values unless a test says otherwise.
"""

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


def contacts(fake: FakeHubSpot, n: int) -> list[str]:
    return list(fake.contacts)[:n]


def keys(fake: FakeHubSpot) -> list[str]:
    return sorted(t["properties"]["leadroute_key"] for t in fake.tasks.values())


def test_task_has_due_time_subject_body_owner_priority_and_contact_association(client_for):
    """An upserted task is due after the decision, names the route, has owner, priority and type 204."""
    fake = FakeHubSpot.portal(contacts=3)
    a, b = contacts(fake, 2)
    writer = TaskWriter(
        client_for(fake), SETTINGS, upsert=True, lead_types={a: "Demo"}, names={a: "Ann Lee"}
    )
    assert writer.create([effect(a), effect(b)]) == {}
    tasks = {t["properties"]["leadroute_key"]: t for t in fake.tasks.values()}
    demo = tasks[task_key(effect(a))]
    props = demo["properties"]
    assert props["hs_timestamp"] == "2026-11-02T11:00:00.000Z"
    assert props["hs_task_subject"] == "Follow up: new lead Ann Lee"
    assert "rule na" in props["hs_task_body"] and "pool na" in props["hs_task_body"]
    assert (props["hubspot_owner_id"], props["hs_task_priority"]) == ("101", "HIGH")
    assert props["hs_task_status"] == "NOT_STARTED"
    assert demo["associations"][0]["to"] == {"id": a}
    assert demo["associations"][0]["types"][0]["associationTypeId"] == 204
    assert tasks[task_key(effect(b))]["properties"]["hs_task_priority"] == "MEDIUM"


def test_an_upsert_retried_after_an_ambiguous_timeout_updates_the_same_task(client_for):
    """With a unique key property, a timed-out upsert sent again finds its task: one task, no search."""
    fake = FakeHubSpot.portal(contacts=3)
    [a] = contacts(fake, 1)
    fake.fail("task_upsert", Fault(status=0, after_commit=True))
    writer = TaskWriter(client_for(fake), SETTINGS, upsert=True)
    assert writer.create([effect(a)]) == {}  # the client retried the upsert itself
    assert len(fake.tasks) == 1 and fake.calls("/tasks/batch/upsert") == 2
    assert fake.calls("/tasks/search") == 0


def test_a_retried_upsert_never_reopens_a_completed_task(client_for):
    """A task the rep completed stays completed when the same decision's task is upserted again."""
    fake = FakeHubSpot.portal(contacts=3)
    [a] = contacts(fake, 1)
    writer = TaskWriter(client_for(fake), SETTINGS, upsert=True)
    writer.create([effect(a)])
    [task] = fake.tasks.values()
    task["properties"]["hs_task_status"] = "COMPLETED"
    writer.create([effect(a)])
    assert [t["properties"]["hs_task_status"] for t in fake.tasks.values()] == ["COMPLETED"]


def test_without_unique_values_an_unsure_create_waits_for_the_index(client_for):
    """A create that timed out after HubSpot applied it is searched for only after the index lag."""
    fake = FakeHubSpot.portal(contacts=3, task_key_unique=False, search_lag=1.0)
    [a] = contacts(fake, 1)
    fake.fail("task_create", Fault(status=0, after_commit=True))
    writer = TaskWriter(client_for(fake), SETTINGS, index_lag=1.5)
    failed = writer.create([effect(a)])
    assert "outcome unknown: ReadTimeout" in failed[effect(a).idem_key]
    assert writer.create([effect(a)]) == {}  # the relay's next pass
    assert keys(fake) == [task_key(effect(a))]
    assert fake.clock.slept and sum(fake.clock.slept) >= 1.0


def test_without_unique_values_created_keys_are_remembered(client_for):
    """A task created a moment ago (not searchable yet) is not created again by the same writer."""
    fake = FakeHubSpot.portal(contacts=3, task_key_unique=False, search_lag=30.0)
    a, b = contacts(fake, 2)
    writer = TaskWriter(client_for(fake), SETTINGS)
    writer.create([effect(a)])
    writer.create([effect(a), effect(b)])
    assert keys(fake) == sorted([task_key(effect(a)), task_key(effect(b))])


def test_a_restart_after_the_lag_creates_no_second_task(client_for):
    """A new writer (a restarted run) finds the first run's tasks once the index has them."""
    fake = FakeHubSpot.portal(contacts=3, task_key_unique=False)
    a, b, c = contacts(fake, 3)
    TaskWriter(client_for(fake), SETTINGS).create([effect(a), effect(b)])
    fake.clock.sleep(fake.search_lag)
    TaskWriter(client_for(fake), SETTINGS).create([effect(a), effect(b), effect(c)])
    assert keys(fake) == sorted(task_key(effect(i)) for i in (a, b, c))


def test_thousands_of_contacts_with_two_unsure_batches_get_no_duplicate(client_for):
    """3,000 tasks, two creates timing out after HubSpot made them, 1 s of index lag: 0 duplicates.

    The batch the relay retries (in its next pass) waits for the index, then searches.
    """
    fake = FakeHubSpot.portal(
        contacts=3_000, task_key_unique=False, search_lag=1.0, rate_max=10_000
    )
    ids = contacts(fake, 3_000)
    fake.fail("task_create", Fault(status=0, after_commit=True, skip=3))
    fake.fail("task_create", Fault(status=0, after_commit=True, skip=10))
    writer = TaskWriter(client_for(fake), SETTINGS)
    effects = [effect(i) for i in ids]
    failed: dict[str, str] = {}
    for start in range(0, len(effects), 500):  # the relay's batches
        failed |= writer.create(effects[start : start + 500])
    assert len(failed) == 200  # two ambiguous batches of 100
    retry = [e for e in effects if e.idem_key in failed]
    assert writer.create(retry) == {}
    assert len(fake.tasks) == 3_000 and len(set(keys(fake))) == 3_000
