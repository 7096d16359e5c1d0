"""The client's auth: static tokens, OAuth refresh ahead of expiry and after a 401, secrets kept out."""

from __future__ import annotations

import io

import pytest
import structlog

from leadroute.errors import AuthError
from leadroute_hubspot.auth import OAuthRefresh, StaticToken, auth_from_env
from leadroute_hubspot.testing import TOKEN, FakeHubSpot, Fault


def oauth(fake: FakeHubSpot) -> OAuthRefresh:
    return OAuthRefresh(
        http=fake.http_client(),
        client_id="client-id",
        client_secret="client-secret-value",
        refresh_token=fake.refresh_token,
        clock=fake.clock.monotonic,
    )


def test_bearer_token_is_sent_on_every_call(client_for):
    """Every request carries Authorization: Bearer with the configured token."""
    fake = FakeHubSpot.portal(contacts=3)
    client = client_for(fake)
    client.call("GET", client.owners())
    client.call("POST", client.objects("contacts") + "/search", json={}, search=True)
    sent = [call.request.headers["authorization"] for call in fake.router.calls]
    assert sent == [f"Bearer {TOKEN}"] * 2


def test_paths_follow_the_configured_api_version(client_for):
    """v3 gives the legacy paths; a date version gives the date-versioned paths, and both are served."""
    fake = FakeHubSpot.portal(contacts=3)
    legacy = client_for(fake)
    dated = client_for(fake, api_version="2026-03")
    assert legacy.objects("contacts") == "/crm/v3/objects/contacts"
    assert dated.objects("contacts") == "/crm/objects/2026-03/contacts"
    assert dated.owners() == "/crm/owners/2026-03"
    assert dated.call("GET", dated.owners())["results"]
    assert (
        dated.call("POST", dated.objects("contacts") + "/search", json={}, search=True)["total"]
        == 3
    )


def test_oauth_token_is_refreshed_ahead_of_expiry(client_for):
    """An OAuth token is renewed when it is within five minutes of expiring, before any 401."""
    fake = FakeHubSpot.portal(contacts=3, token_lifetime=1800)
    client = client_for(fake, auth=oauth(fake))
    client.call("GET", client.owners())
    fake.clock.t += 1600  # 200 s left: inside the margin
    client.call("GET", client.owners())
    assert fake.calls("/token") == 2 and fake.calls("/owners") == 2  # no 401 round trip


def test_token_expiring_mid_run_is_refreshed_once_and_the_call_retried(client_for):
    """A 401 EXPIRED_AUTHENTICATION mid-run refreshes once and the same call then succeeds."""
    fake = FakeHubSpot.portal(contacts=3)
    client = client_for(fake, auth=oauth(fake))
    client.call("GET", client.owners())
    fake.expire_tokens()  # HubSpot expired it early: our clock still thinks it is valid
    assert client.call("GET", client.owners())["results"]
    assert fake.calls("/token") == 2 and fake.calls("/owners") == 3


def test_403_never_triggers_a_refresh(client_for):
    """A 403 (missing scope) is an AuthError at once; the token endpoint is not called again."""
    fake = FakeHubSpot.portal(contacts=3)
    client = client_for(fake, auth=oauth(fake))
    fake.fail("owners", Fault(status=403, body={"category": "MISSING_SCOPES", "message": "no"}))
    with pytest.raises(AuthError, match="MISSING_SCOPES"):
        client.call("GET", client.owners())
    assert fake.calls("/token") == 1


def test_a_refused_refresh_token_is_one_clear_error(client_for):
    """BAD_REFRESH_TOKEN stops with AuthError naming the variables to check, without retrying."""
    fake = FakeHubSpot.portal(contacts=3)
    auth = oauth(fake)
    auth.refresh_token = "revoked"
    client = client_for(fake, auth=auth)
    with pytest.raises(AuthError, match="HUBSPOT_REFRESH_TOKEN"):
        client.call("GET", client.owners())
    assert fake.calls("/token") == 1 and fake.calls("/owners") == 0


def test_credentials_come_from_the_environment_only(client_for):
    """A token variable gives a static token, the OAuth trio gives refresh; none is one clear error."""
    fake = FakeHubSpot.portal(contacts=3)
    http = fake.http_client()
    assert isinstance(auth_from_env({"HUBSPOT_ACCESS_TOKEN": TOKEN}, http, "u", float), StaticToken)
    trio = {
        "HUBSPOT_CLIENT_ID": "id",
        "HUBSPOT_CLIENT_SECRET": "s",
        "HUBSPOT_REFRESH_TOKEN": "r",
    }
    assert isinstance(auth_from_env(trio, http, "u", float), OAuthRefresh)
    with pytest.raises(AuthError, match="missing: HUBSPOT_REFRESH_TOKEN"):
        auth_from_env({"HUBSPOT_CLIENT_ID": "id", "HUBSPOT_CLIENT_SECRET": "s"}, http, "u", float)


def test_token_never_appears_in_errors_or_logs(client_for, capsys):
    """Even when HubSpot echoes the token in an error, neither the error nor any log line shows it."""
    buffer = io.StringIO()
    # No redaction processor here: the adapter itself must not hand the token to a logger.
    structlog.reset_defaults()
    structlog.configure(
        processors=[structlog.processors.KeyValueRenderer()],
        logger_factory=lambda *_: structlog.PrintLogger(buffer),
    )
    try:
        fake = FakeHubSpot.portal(contacts=3)
        client = client_for(fake)
        echo = {"category": "VALIDATION_ERROR", "message": f"bad token {TOKEN}"}
        fake.fail("owners", Fault(status=503, body=echo))
        fake.fail("companies", Fault(status=401, body={"message": f"token {TOKEN} invalid"}))
        client.call("GET", client.owners())
        with pytest.raises(AuthError) as caught:
            client.call("GET", client.objects("companies"))
        assert TOKEN not in str(caught.value) and "***" in str(caught.value)
        assert TOKEN not in repr(client) and TOKEN not in repr(client.auth)
        out = capsys.readouterr()
        assert TOKEN not in out.out + out.err + buffer.getvalue()
        assert "adapter.retry" in buffer.getvalue()  # the retry was logged, without the token
    finally:
        structlog.reset_defaults()


def test_concurrent_401s_refresh_once(client_for):
    """Threads that all saw the same token rejected trigger a single refresh (single flight)."""
    import threading

    fake = FakeHubSpot.portal(contacts=3)
    auth = oauth(fake)
    stale = auth.token()
    threads = [threading.Thread(target=auth.expired, args=(stale,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.calls("/token") == 2 and auth.token() != stale
