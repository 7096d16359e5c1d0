"""The adapter as the core sees it: registration, the daily limit mid-run, the report."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from leadroute.errors import QuotaExhaustedError
from leadroute.host import make_host
from leadroute.models import InputProblem
from leadroute_salesforce.adapter import EXCEPTIONS_FILE, QUOTA_PAUSE, SalesforceAdapter
from leadroute_salesforce.testing import populate


def test_registered_under_salesforce():
    """The entry point makes the adapter available to the CLI as --source salesforce."""
    registry = make_host().adapters()
    assert "salesforce" in registry.names()
    assert registry.get("salesforce") == SalesforceAdapter.from_config


def test_daily_limit_mid_apply_checkpoints_and_stops(adapter_for, fake, effect):
    """Hitting the allocation mid-batch: done writes stay done, the rest wait, no further call."""
    org = populate(fake, leads=450, owned=0, accounts=1)
    effects = [effect(lead, org.active_users[0]) for lead in org.waiting_leads]
    adapter = adapter_for()
    adapter.client.auth.session()
    fake.allocation = fake.used + 2  # two collections of 200, then the allocation is gone
    adapter.client.guard.reserve = 0.0
    results = adapter.apply(effects)
    assert [r.ok for r in results].count(True) == 400  # written, read-back skipped
    # The rest get the quota verdict: pending, no attempt spent.
    assert all(r.quota and not r.ok and not r.retryable for r in results[400:])
    assert "daily API allocation reached" in results[-1].detail
    calls = len(fake.requests)
    with pytest.raises(QuotaExhaustedError, match="run again"):
        adapter.apply(effects[400:])
    assert len(fake.requests) == calls  # stopped: nothing more was sent
    adapter.report_problems([])  # the report is still written, and does not raise
    assert (adapter.exceptions_path).exists()


def test_a_long_lived_relay_tries_again_after_the_pause(adapter_for, fake, effect):
    """The stop lasts QUOTA_PAUSE; then one call finds out whether the allocation recovered."""
    org = populate(fake, leads=5, owned=0, accounts=1)
    effects = [effect(lead, org.active_users[0]) for lead in org.waiting_leads]
    adapter = adapter_for()
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    adapter.reader.clock = lambda: now
    adapter.client.auth.session()
    fake.allocation = fake.used  # nothing left
    adapter.client.guard.reserve = 0.0
    assert all(r.quota for r in adapter.apply(effects))
    fake.allocation = 1_000  # the rolling 24 hours moved on
    with pytest.raises(QuotaExhaustedError):
        adapter.apply(effects)  # still inside the pause: no call
    now += QUOTA_PAUSE
    assert all(r.ok for r in adapter.apply(effects))
    assert all(fake.get("Lead", e.lead_id)["OwnerId"] == org.active_users[0] for e in effects)


def test_daily_limit_during_read_stops_before_any_decision(adapter_for, fake):
    """A read that meets the allocation stops with QuotaExhaustedError (exit code 4) and the usage."""
    populate(fake, leads=10, owned=0, accounts=1)
    fake.allocation = 2
    with pytest.raises(QuotaExhaustedError) as info:
        adapter_for().read()
    assert info.value.exit_code == 4
    assert "2/2 API calls used" in str(info.value)


def test_exception_report_has_the_core_rows_and_refused_tasks(adapter_for, fake, tmp_path, effect):
    """The core's rows and the tasks Salesforce refused share one formula-safe CSV."""
    org = populate(fake, leads=3, owned=0, accounts=1)
    lead = org.waiting_leads[0]
    fake.fail_record(f"task:{lead}", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "=HYPERLINK(1)")
    adapter = adapter_for(tasks=True)
    adapter.apply([effect(lead, org.active_users[0])])
    problem = InputProblem(
        file="salesforce:Lead",
        line=None,
        record_id="00Qx",
        kind="lead",
        field="email",
        code="MISSING_FIELD",
        message="email is required",
    )
    adapter.report_problems([problem])
    with (tmp_path / EXCEPTIONS_FILE).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["code"] for r in rows] == ["MISSING_FIELD", "FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert rows[1]["source"] == "salesforce:write:task" and rows[1]["record_id"] == lead
    assert rows[1]["message"] == "'=HYPERLINK(1)"


def test_limit_between_owner_write_and_task_keeps_the_write_pending(adapter_for, fake, effect):
    """Owners written but tasks not yet created stay pending; the retry makes each task once."""
    org = populate(fake, leads=50, owned=0, accounts=1)
    effects = [effect(lead, org.active_users[0]) for lead in org.waiting_leads]
    adapter = adapter_for(tasks=True)
    adapter.client.auth.session()
    fake.allocation = fake.used + 2  # the collection and its read-back, then nothing
    adapter.client.guard.reserve = 0.0
    results = adapter.apply(effects)
    assert all(not r.ok and r.quota for r in results)
    assert all(fake.get("Lead", e.lead_id)["OwnerId"] == org.active_users[0] for e in effects)
    assert fake.objects["Task"] == {}
    fake.allocation = 1_000
    again = adapter_for(tasks=True).apply(effects)
    assert all(r.ok for r in again)
    assert len(fake.objects["Task"]) == 50
