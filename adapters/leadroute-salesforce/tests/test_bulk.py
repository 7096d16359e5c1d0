"""Large reads: Bulk API 2.0 query jobs, and query cursors that expire mid-read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadroute_salesforce.bulk import BulkQuery, csv_records
from leadroute_salesforce.client import ApiError, TransientError
from leadroute_salesforce.testing import populate


def in_org_time(adapter, fake):
    """The adapter's waits pass the fake org's clock, so jobs progress as it sleeps."""
    adapter.client.sleep = lambda seconds: fake.advance(timedelta(seconds=seconds))
    return adapter


def test_a_large_read_runs_as_a_bulk_job_and_reads_the_same(adapter_for, fake):
    """Over bulk_threshold the leads come from a query job, paged by locator, identical
    to what REST paging reads."""
    populate(fake, leads=2500, owned=0, users=6, inactive=0, accounts=2)
    rest = adapter_for(bulk_threshold=0, outcomes=False).read()
    adapter = in_org_time(adapter_for(bulk_threshold=2000, outcomes=False), fake)
    adapter.reader.bulk.max_records = 1000
    bulk = adapter.read()
    assert [lead.id for lead in bulk.leads] == [lead.id for lead in rest.leads]
    assert bulk.leads == rest.leads  # every field converted the same from CSV text
    assert len(adapter.reader.bulk.jobs) == 1
    kinds = [r["kind"] for r in fake.requests]
    assert kinds.count("bulk_create") == 1
    assert kinds.count("bulk_results") == 3  # 2,500 records in pages of 1,000
    assert kinds.count("bulk_job") >= 2  # polled while it ran
    created = next(r for r in fake.requests if r["kind"] == "bulk_create")["json"]
    assert created["operation"] == "query" and created["contentType"] == "CSV"
    assert "FROM Lead WHERE IsConverted = false" in created["query"]


def test_small_reads_and_aggregates_stay_on_rest(adapter_for, fake):
    """Below the threshold nothing changes; aggregate counts never become jobs."""
    populate(fake, leads=300, owned=0, users=6, inactive=0, accounts=2)
    in_org_time(adapter_for(bulk_threshold=2000), fake).read()
    assert not [r for r in fake.requests if r["kind"].startswith("bulk")]


def test_a_failed_job_is_an_error_naming_the_job(adapter_for, fake):
    """A job Salesforce failed stops the read with its reason."""
    populate(fake, leads=5, owned=0, users=2, inactive=0, accounts=1)
    adapter = in_org_time(adapter_for(), fake)
    adapter.client.auth.session()
    fake.jobs.startup = 3600

    def fail_soon(seconds: float) -> None:
        fake.advance(timedelta(seconds=seconds))
        for job in fake.jobs.created.values():
            job["aborted"] = True

    adapter.client.sleep = fail_soon
    with pytest.raises(ApiError, match=r"query job 750\w+ aborted"):
        list(BulkQuery(adapter.client)("SELECT Id FROM Lead"))


def test_a_job_that_never_finishes_is_aborted(adapter_for, fake):
    """Past the timeout the job is aborted (PATCH state Aborted) and the read fails."""
    populate(fake, leads=5, owned=0, users=2, inactive=0, accounts=1)
    adapter = in_org_time(adapter_for(), fake)
    adapter.client.auth.session()
    fake.jobs.startup = 10 * 3600
    bulk = BulkQuery(adapter.client, timeout=120)
    with pytest.raises(TransientError, match="aborted it"):
        list(bulk("SELECT Id FROM Lead"))
    (job,) = fake.jobs.created.values()
    assert job["aborted"]


def test_fake_refuses_aggregate_jobs_and_early_results(adapter_for, fake):
    """The fake is honest: no aggregate query jobs, and no results before JobComplete."""
    populate(fake, leads=5, owned=0, users=2, inactive=0, accounts=1)
    client = adapter_for().client
    with pytest.raises(ApiError, match="INVALIDJOB"):
        client.request(
            "POST",
            "jobs/query",
            json={
                "operation": "query",
                "query": "SELECT OwnerId, COUNT(Id) n FROM Lead GROUP BY OwnerId",
            },
        )
    job = client.request(
        "POST", "jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"}
    ).json()
    assert job["state"] == "UploadComplete"
    with pytest.raises(ApiError, match="INVALIDJOBSTATE"):
        client.request("GET", f"jobs/query/{job['id']}/results", headers={"Accept": "text/csv"})


def test_csv_cells_become_records():
    """Empty cells are null, relationship columns nest, quoted commas and newlines survive."""
    text = 'Id,Account.Name,Description\n00Q1,"Acme, Inc.","two\nlines"\n00Q2,,\n'
    assert list(csv_records(text)) == [
        {"Id": "00Q1", "Account": {"Name": "Acme, Inc."}, "Description": "two\nlines"},
        {"Id": "00Q2", "Account": {"Name": None}, "Description": None},
    ]


def test_an_expired_cursor_is_read_again_without_duplicates(adapter_for, fake):
    """A cursor older than 2 days (API 56.0+) answers INVALID_QUERY_LOCATOR; the read runs
    the query again and returns every record exactly once."""
    fake.page_size = 200
    org = populate(fake, leads=700, owned=0, users=2, inactive=0, accounts=1)
    client = adapter_for().client
    records = client.query("SELECT Id FROM Lead ORDER BY Id", batch_size=200)
    first = [next(records) for _ in range(250)]  # two pages read
    fake.advance(timedelta(days=2, minutes=1))
    rest = list(records)
    ids = [r["Id"] for r in first + rest]
    assert len(ids) == len(set(ids)) == len(fake.objects["Lead"])
    assert set(org.waiting_leads) <= set(ids)
    assert [r["kind"] for r in fake.requests].count("query") == 2  # ran once more


def test_legacy_api_versions_release_the_oldest_of_ten_cursors(adapter_for, fake):
    """Before API 56.0 an 11th open cursor releases the oldest (and 15 idle minutes expire
    one): the fake does so, and the client still reads everything."""
    fake.api_version = "55.0"
    fake.page_size = 200
    populate(fake, leads=500, owned=0, users=2, inactive=0, accounts=1)
    client = adapter_for(api_version="55.0").client
    oldest = client.query("SELECT Id FROM Lead ORDER BY Id", batch_size=200)
    next(oldest)
    others = [client.query("SELECT Id FROM Lead ORDER BY Id", batch_size=200) for _ in range(10)]
    for each in others:
        next(each)
    assert len(list(oldest)) == len(fake.objects["Lead"]) - 1
    idle = others[-1]
    fake.advance(timedelta(minutes=16))
    assert len(list(idle)) == len(fake.objects["Lead"]) - 1
    expired = [r for r in fake.requests if r["kind"] == "query_more"]
    assert expired  # pages were fetched; the restarts show as extra queries
    assert [r["kind"] for r in fake.requests].count("query") == 13
