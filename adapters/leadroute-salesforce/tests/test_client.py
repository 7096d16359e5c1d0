"""REST calls: retries within a budget, paging, the daily limit, pacing."""

from __future__ import annotations

import httpx
import pytest

from leadroute.errors import QuotaExhaustedError, RateLimitedError
from leadroute_salesforce.client import ApiError, TransientError
from leadroute_salesforce.testing import populate, sf_id


@pytest.fixture
def client(adapter_for):
    """A client whose retries do not sleep."""
    return adapter_for().client


def test_query_follows_next_records_url_until_done(client, fake):
    """All records come back across pages, each page fetched once, with the batch-size header."""
    populate(fake, leads=2100, owned=0)
    records = list(client.query("SELECT Id FROM Lead", batch_size=500))
    assert len(records) == 2102
    assert len({r["Id"] for r in records}) == 2102
    assert len(fake.data_requests("query_more")) == 4
    assert fake.data_requests("query")[0]["headers"]["sforce-query-options"] == "batchSize=500"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(client, fake, status):
    """A transient 5xx is retried and the call then succeeds."""
    fake.fail("query", status, times=2)
    assert list(client.query("SELECT Id FROM Lead")) == []
    assert len(fake.data_requests("query")) == 3


def test_timeouts_are_retried(client, fake):
    """A read timeout is retried like a 503."""
    fake.fail("query", exception=httpx.ReadTimeout)
    assert list(client.query("SELECT Id FROM Lead")) == []
    assert len(fake.data_requests("query")) == 2


def test_lock_error_on_a_request_is_retried(client, fake):
    """A 400 UNABLE_TO_LOCK_ROW succeeds on a later attempt."""
    fake.fail("query", 400, body=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
    assert list(client.query("SELECT Id FROM Lead")) == []


def test_retries_stop_at_the_attempt_budget(client, fake):
    """Five attempts, then a TransientError naming the last failure; never an endless loop."""
    fake.fail("query", 503, times=50)
    with pytest.raises(TransientError, match="SERVER_UNAVAILABLE"):
        list(client.query("SELECT Id FROM Lead"))
    assert len(fake.data_requests("query")) == 5


def test_persistent_429_is_a_rate_limit_error(client, fake):
    """Throttling that outlasts the budget is reported as RateLimitedError (exit code 4)."""
    fake.fail("query", 429, times=50, body=[{"errorCode": "", "message": "slow down"}])
    with pytest.raises(RateLimitedError):
        list(client.query("SELECT Id FROM Lead"))


def test_non_json_success_is_retried(client, fake):
    """A truncated 200 body is transient, as seen in production, not a crash."""
    fake.fail("query", 200, content=b'{"totalSize": 3, "records": [')
    assert list(client.query("SELECT Id FROM Lead")) == []
    assert len(fake.data_requests("query")) == 2


def test_daily_limit_stops_without_retrying(client, fake):
    """403 REQUEST_LIMIT_EXCEEDED (TotalRequests) stops at once with QuotaExhaustedError."""
    fake.allocation = 3
    client.auth.session()
    list(client.query("SELECT Id FROM Lead"))
    list(client.query("SELECT Id FROM Lead"))
    list(client.query("SELECT Id FROM Lead"))
    client.guard.reserve = 0.0  # let the 4th call reach Salesforce and hear the 403
    client.guard.latest = None
    with pytest.raises(QuotaExhaustedError, match="TotalRequests") as info:
        list(client.query("SELECT Id FROM Lead"))
    assert "run again" in str(info.value)
    assert len(fake.data_requests("query")) == 4


def test_guard_stops_before_the_allocation_runs_out(client, fake):
    """Once only the reserve is left, no further call is made: the org keeps calls for others."""
    fake.allocation = 100
    fake.used = 94
    list(client.query("SELECT Id FROM Lead"))  # reads api-usage=95/100
    with pytest.raises(QuotaExhaustedError, match="95/100"):
        list(client.query("SELECT Id FROM Lead"))
    assert len(fake.data_requests("query")) == 1


def test_guard_slows_down_near_the_allocation(adapter_for, fake):
    """Past slow_down_at of the allocation, calls are paced by the guard's sleep."""
    slept: list[float] = []
    client = adapter_for().client
    client.guard.sleep = slept.append
    fake.allocation = 1000
    fake.used = 900
    list(client.query("SELECT Id FROM Lead"))
    list(client.query("SELECT Id FROM Lead"))
    assert slept and slept[0] > 0


def test_forbidden_is_not_retried(client, fake):
    """A 403 without a limit code is a permission problem: one attempt, Salesforce's message."""
    fake.fail(
        "query", 403, body=[{"errorCode": "INSUFFICIENT_ACCESS", "message": "no access to Lead"}]
    )
    with pytest.raises(ApiError, match="INSUFFICIENT_ACCESS: no access to Lead"):
        list(client.query("SELECT Id FROM Lead"))
    assert len(fake.data_requests("query")) == 1


def test_collection_answer_of_the_wrong_length_is_not_trusted(client, fake):
    """A 200 whose results do not match the records sent is treated as transient, never as success."""
    fake.add("Lead", {"Id": sf_id("00Q", 1), "OwnerId": sf_id("00G", 1)})
    fake.fail("update", 200, body=[], times=10)
    records = [{"attributes": {"type": "Lead"}, "id": sf_id("00Q", 1), "OwnerId": sf_id("005", 1)}]
    with pytest.raises(TransientError, match="collection of 1 with 0 results"):
        client.update_collection(records, headers={})


def test_redirects_are_not_followed(client, fake):
    """A redirect to another host is refused, never followed with our bearer token."""
    fake.fail("query", 302, content=b"", headers={"Location": "https://collector.evil.example/q"})
    with pytest.raises(ApiError, match="HTTP 302"):
        list(client.query("SELECT Id FROM Lead"))
    assert all("evil" not in str(call.request.url) for call in fake.router.calls)
