"""The error table and the limits: every row acted on, Retry-After in both forms, pacing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadroute.errors import AuthError, QuotaExhaustedError, RateLimitedError
from leadroute_hubspot.client import Rejected
from leadroute_hubspot.limits import ERROR_TABLE, Action, ErrorRule, Pacer, classify, retry_after
from leadroute_hubspot.testing import FakeHubSpot, Fault, rate_limit_body

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _body(rule: ErrorRule) -> dict[str, str]:
    if rule.status == 429 and rule.key != "*":
        return rate_limit_body(rule.key)
    if rule.key != "*":
        return {"status": "error", "message": "bad", "category": rule.key}
    return {"status": "error", "message": "boom"}


@pytest.mark.parametrize("rule", ERROR_TABLE, ids=lambda r: f"{r.status}-{r.key}")
def test_every_row_of_the_error_table_is_acted_on(rule: ErrorRule, client_for):
    """Each row's response makes the client do exactly what the row says."""
    fake = FakeHubSpot.portal(contacts=3)
    assert classify(rule.status, _body(rule)) == rule
    if rule.status == 0:
        fake.fail("owners", Fault(status=0))
    else:
        fake.fail("owners", Fault(status=rule.status, body=_body(rule)))
    client = client_for(fake, max_wait=30)
    path = client.owners()
    if rule.action in {Action.WAIT, Action.BACKOFF}:
        response = client.request("GET", path)
        assert not isinstance(response, Rejected) and response.status_code == 200
        assert fake.calls(path) == 2 and len(fake.clock.slept) >= 1
        if rule.action is Action.WAIT:
            assert fake.clock.slept[0] == rule.wait
    elif rule.action is Action.REFRESH:
        with pytest.raises(AuthError, match="HTTP 401"):
            client.request("GET", path)  # a static token cannot be refreshed
        assert fake.calls(path) == 1
    elif rule.action is Action.AUTH:
        with pytest.raises(AuthError, match="scopes"):
            client.request("GET", path)
        assert fake.calls(path) == 1
    elif rule.action is Action.QUOTA:
        with pytest.raises(QuotaExhaustedError, match="daily"):
            client.request("GET", path)
        assert fake.calls(path) == 1 and fake.clock.slept == []
    else:
        response = client.request("GET", path)
        assert isinstance(response, Rejected) and response.status == rule.status
        assert fake.calls(path) == 1


def test_unknown_statuses_fall_back_by_class():
    """A status the table does not list retries when it is 5xx and is rejected when it is 4xx."""
    assert classify(599, {}).action is Action.BACKOFF
    assert classify(418, {}).action is Action.REJECT
    assert classify(200, {}).action is Action.OK


def test_search_secondly_message_without_policy_name_is_secondly():
    """A search 429 that only says 'secondly limit' in its message waits one second."""
    body = {"status": "error", "message": "You have reached your secondly limit."}
    assert classify(429, body).key == "SECONDLY"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "Mon, 02 Nov 2026 09:00:30 GMT"}, 30.0),
        ({"retry-after": "Mon, 02 Nov 2026 08:59:00 GMT"}, 0.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, expected):
    """Retry-After as seconds, as an HTTP date (past dates mean now), missing or unreadable."""
    assert retry_after(header, NOW) == expected


def test_429_without_retry_after_waits_the_policy_window(client_for):
    """A TEN_SECONDLY_ROLLING 429 with no Retry-After waits the window's length, then succeeds."""
    fake = FakeHubSpot.portal(contacts=3)
    fake.fail(
        "owners",
        Fault(
            status=429,
            body=rate_limit_body("TEN_SECONDLY_ROLLING"),
            headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
        ),
    )
    client = client_for(fake)
    assert client.call("GET", client.owners())["results"]
    assert fake.clock.slept == [10.0]


@pytest.mark.parametrize(("retry", "waited"), [("3", 3.0), ("Mon, 02 Nov 2026 09:00:05 GMT", 5.0)])
def test_429_with_retry_after_waits_what_it_says(client_for, retry, waited):
    """A 429 with Retry-After in seconds or as an HTTP date waits exactly that long."""
    fake = FakeHubSpot.portal(contacts=3)
    body = rate_limit_body("TEN_SECONDLY_ROLLING")
    fake.fail("owners", Fault(status=429, body=body, headers={"Retry-After": retry}))
    client = client_for(fake)
    client.call("GET", client.owners())
    assert fake.clock.slept == [waited]


def test_a_long_retry_after_stops_instead_of_sleeping(client_for):
    """A Retry-After beyond max_wait stops with RateLimitedError rather than sleeping for it."""
    fake = FakeHubSpot.portal(contacts=3)
    fake.fail("owners", Fault(status=429, body={}, headers={"Retry-After": "3600"}))
    client = client_for(fake, max_wait=60)
    with pytest.raises(RateLimitedError, match="3600s"):
        client.call("GET", client.owners())
    assert fake.clock.slept == []


def test_burst_limit_that_never_lifts_ends_within_the_budget(client_for):
    """Endless 429s give up after the retry budget with RateLimitedError, not forever."""
    fake = FakeHubSpot.portal(contacts=3)
    fake.fail("owners", Fault(status=429, body=rate_limit_body("SECONDLY"), times=1000))
    client = client_for(fake, budget=20, max_attempts=100)
    with pytest.raises(RateLimitedError, match="outlasted"):
        client.call("GET", client.owners())
    assert sum(fake.clock.slept) <= 21


def test_server_errors_back_off_with_jitter_inside_the_budget(client_for):
    """Repeated 503s back off with growing, bounded waits and end in one AdapterError line."""
    fake = FakeHubSpot.portal(contacts=3)
    fake.fail("owners", Fault(status=503, times=1000))
    client = client_for(fake, budget=30, max_attempts=6)
    with pytest.raises(Exception, match="HubSpot kept failing: HTTP 503"):
        client.call("GET", client.owners())
    assert 1 <= len(fake.clock.slept) <= 5 and all(0 <= s <= 30 for s in fake.clock.slept)


def test_daily_limit_from_headers_stops_before_the_next_call(client_for):
    """When the daily-remaining header reaches zero, the next call stops cleanly without sending."""
    fake = FakeHubSpot.portal(contacts=3, daily_limit=1)
    client = client_for(fake)
    client.call("GET", client.owners())
    with pytest.raises(QuotaExhaustedError, match="stopped cleanly"):
        client.call("GET", client.owners())
    assert len(fake.requests) == 1


def test_search_is_paced_at_four_per_second(client_for):
    """Back-to-back searches are spaced so the portal's search limit is never hit."""
    fake = FakeHubSpot.portal(contacts=3)
    client = client_for(fake)
    for _ in range(12):
        client.call("POST", client.objects("contacts") + "/search", json={}, search=True)
    assert fake.search_429s == 0 and fake.clock.t >= 11 * 0.25 - 1e-9


def test_pacer_spreads_calls_when_the_window_runs_low():
    """With few requests left in the window, the pacer waits before the next call."""
    slept: list[float] = []
    pacer = Pacer(clock=lambda: 0.0, sleep=slept.append, reserve=10)
    pacer.observe({"x-hubspot-ratelimit-remaining": "50", "x-hubspot-ratelimit-max": "100"})
    pacer.before(search=False)
    assert slept == []
    pacer.observe({"x-hubspot-ratelimit-remaining": "2", "x-hubspot-ratelimit-max": "100"})
    pacer.before(search=False)
    assert slept and slept[0] == pytest.approx(0.1 * 9)


def test_pacing_from_headers_keeps_a_run_under_the_burst_limit(client_for):
    """Many calls against a small 10-second limit never draw a 429: the pacer slows down first."""
    fake = FakeHubSpot.portal(contacts=3, rate_max=20)
    client = client_for(fake)
    for _ in range(60):
        client.call("GET", client.owners())
    assert fake.burst_429s == 0 and fake.clock.t > 10
