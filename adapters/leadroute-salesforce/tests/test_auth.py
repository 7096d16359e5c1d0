"""Logging in: JWT bearer and client credentials, instance checks, expiry, single-flight."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from datetime import UTC, datetime

import httpx
import jwt
import pytest

from leadroute.errors import AuthError
from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.auth import (
    Authenticator,
    ClientCredentialsGrant,
    JwtBearerGrant,
    check_instance_url,
)
from leadroute_salesforce.settings import load_settings
from leadroute_salesforce.testing import FakeSalesforce, populate


def token_forms(fake) -> list[dict[str, str]]:
    calls = [c.request for c in fake.router.calls if c.request.url.path.endswith("/oauth2/token")]
    return [{k: v[0] for k, v in urllib.parse.parse_qs(r.content.decode()).items()} for r in calls]


def test_jwt_bearer_token_request(adapter_for, fake, key_pair):
    """The JWT is RS256, signed by our key, with iss/sub/aud and exp under 3 minutes away."""
    adapter = adapter_for()
    before = datetime.now(UTC).timestamp()
    session = adapter.client.auth.session()
    (form,) = token_forms(fake)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header = json.loads(base64.urlsafe_b64decode(form["assertion"].split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    claims = jwt.decode(
        form["assertion"],
        key_pair[1],
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
    )
    assert claims["iss"] == fake.client_id and claims["sub"] == fake.username
    assert before < claims["exp"] <= datetime.now(UTC).timestamp() + 180
    assert session.instance_url == fake.instance_url
    assert (
        str(fake.router.calls[0].request.url)
        == "https://login.salesforce.com/services/oauth2/token"
    )


SANDBOX = "https://acme--uat.sandbox.my.salesforce.com"


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        (SANDBOX, "https://test.salesforce.com"),
        ("https://acme--dev.scratch.my.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.cs42.my.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.develop.my.salesforce.com", "https://login.salesforce.com"),
    ],
)
def test_default_audience_follows_the_login_host(settings_for, login_url, audience):
    """Sandbox and scratch hosts (enhanced or legacy) get the test audience; others login."""
    settings = settings_for(login_url=login_url)
    assert isinstance(settings.grant, JwtBearerGrant)
    assert settings.grant.audience == audience


def test_sandbox_my_domain_login_succeeds_against_a_sandbox_org(key_pair, jwt_env, tmp_path):
    """Logging in at a sandbox's My Domain sends aud=test.salesforce.com, which the org accepts."""
    fake = FakeSalesforce(public_key=key_pair[1], instance_url=SANDBOX)
    settings = load_settings({"login_url": SANDBOX}, workdir=tmp_path, env=jwt_env)
    adapter = SalesforceAdapter.build(settings, http=fake.http(), sleep=lambda _: None)
    session = adapter.client.auth.session()
    assert session.instance_url == SANDBOX
    assert fake.assertions[-1]["aud"] == "https://test.salesforce.com"


def test_production_audience_is_refused_by_a_sandbox(key_pair, jwt_env, tmp_path):
    """As Salesforce does, a sandbox refuses aud=login.salesforce.com: invalid_grant, audience."""
    fake = FakeSalesforce(public_key=key_pair[1], instance_url=SANDBOX)
    options = {"login_url": SANDBOX, "audience": "https://login.salesforce.com"}
    settings = load_settings(options, workdir=tmp_path, env=jwt_env)
    adapter = SalesforceAdapter.build(settings, http=fake.http(), sleep=lambda _: None)
    with pytest.raises(AuthError, match="audience is invalid"):
        adapter.client.auth.session()
    assert fake.token_requests == 1


def test_sandbox_audience_is_refused_by_production(adapter_for, fake):
    """A production org refuses aud=test.salesforce.com, so a wrong override fails at login."""
    adapter = adapter_for(audience="https://test.salesforce.com")
    with pytest.raises(AuthError, match="audience is invalid"):
        adapter.client.auth.session()


def test_explicit_audience_overrides_the_default(settings_for):
    """The audience option (an Experience Cloud site) wins over the host's default."""
    settings = settings_for(audience="https://acme.my.site.com/partners/")
    assert isinstance(settings.grant, JwtBearerGrant)
    assert settings.grant.audience == "https://acme.my.site.com/partners"


def test_the_generic_host_of_the_other_environment_has_no_such_user(adapter_for, fake):
    """A production org's user cannot log in at test.salesforce.com (invalid_grant)."""
    adapter = adapter_for(login_url="https://test.salesforce.com")
    with pytest.raises(AuthError, match="invalid_grant"):
        adapter.client.auth.session()


def test_client_credentials_token_request(fake, tmp_path):
    """Client credentials post id and secret to the My Domain token URL and get a session."""
    grant = ClientCredentialsGrant(
        token_url=f"{fake.instance_url}/services/oauth2/token",
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    auth = Authenticator(fake.http(), grant, sleep=lambda _: None)
    session = auth.session()
    (form,) = token_forms(fake)
    assert form == {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    assert session.access_token in fake.tokens


def test_client_credentials_refused_on_the_generic_login_host(fake):
    """As in production, client credentials against login.salesforce.com are refused."""
    grant = ClientCredentialsGrant(
        token_url="https://login.salesforce.com/services/oauth2/token",
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    with pytest.raises(AuthError, match="invalid_grant"):
        Authenticator(fake.http(), grant, sleep=lambda _: None).session()


def test_invalid_grant_fails_fast_with_a_hint(adapter_for, fake):
    """invalid_grant is final: one token request, no data call, a message saying what to check."""
    fake.username = "someone-else@acme.example"
    adapter = adapter_for()
    with pytest.raises(AuthError, match=r"invalid_grant.*pre-authorized"):
        adapter.read()
    assert fake.token_requests == 1
    assert fake.requests == []


def test_token_endpoint_rate_limit_is_retried(adapter_for, fake):
    """A 429 (or 503) from the token endpoint is retried, then the login succeeds."""
    fake.fail("token", 429, times=2, body={"error": "rate_limited"})
    adapter = adapter_for()
    adapter.client.auth.session()
    assert fake.token_requests == 3


def test_token_endpoint_that_keeps_failing_gives_up(adapter_for, fake):
    """The token retries are bounded: after the attempts, a clear AuthError."""
    fake.fail("token", 503, times=10, body={"error": "unavailable"})
    with pytest.raises(AuthError, match="kept failing"):
        adapter_for().client.auth.session()
    assert fake.token_requests == 4


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.my.salesforce.com.evil.example",
        "http://acme.my.salesforce.com",
        "https://evil.example",
        "https://acme.my.salesforce.com/steal",
    ],
)
def test_instance_url_must_be_https_on_a_salesforce_domain(url):
    """A token response pointing anywhere else is refused before the token is ever sent there."""
    with pytest.raises(AuthError, match="not an https URL on an allowed domain"):
        check_instance_url(url, (".salesforce.com", ".force.com"))


def test_instance_url_check_applies_to_the_token_response(adapter_for, fake):
    """A login whose instance_url is off-domain fails; no data call goes out."""
    fake.token_instance_url = "https://collector.evil.example"
    with pytest.raises(AuthError, match="evil"):
        adapter_for().read()
    assert fake.requests == []


def test_allowed_domains_extend_the_check():
    """A domain listed by the policy (a government cloud, a proxy) is accepted."""
    assert (
        check_instance_url("https://acme.example.gov/", ("example.gov",))
        == "https://acme.example.gov"
    )


def test_session_expiry_mid_run_reauthenticates_once(adapter_for, fake):
    """A session that expires between query pages is renewed once and the read completes."""
    populate(fake, leads=1200, owned=0)
    fake.page_size = 200
    adapter = adapter_for()
    pages = adapter.client.query("SELECT Id FROM Lead")
    first = [next(pages) for _ in range(250)]
    fake.expire_sessions()
    rest = list(pages)
    assert len(first) + len(rest) == 1202
    assert adapter.client.auth.logins == 2
    assert fake.token_requests == 2


def test_session_refused_after_reauthentication_is_an_auth_error(adapter_for, fake):
    """If the fresh session is refused too, stop with an AuthError instead of looping."""
    adapter = adapter_for()
    adapter.client.auth.session()
    fake.fail("query", 401, times=5)
    with pytest.raises(AuthError, match="INVALID_SESSION_ID"):
        list(adapter.client.query("SELECT Id FROM Lead"))
    assert fake.token_requests == 2


def test_reauthentication_is_single_flight_across_threads(adapter_for, fake):
    """Sixteen workers that see the same expired session cause one login, not sixteen."""
    adapter = adapter_for()
    auth = adapter.client.auth
    stale = auth.session()
    fake.expire_sessions()
    sessions = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        sessions.append(auth.refresh(stale))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len({s.number for s in sessions}) == 1
    assert fake.token_requests == 2  # the first login and one refresh


def test_bad_private_key_is_reported_without_its_content(settings_for, jwt_env):
    """A key that is not PEM fails with a message naming the variable, not quoting the key."""
    env = {**jwt_env, "LEADROUTE_SALESFORCE_PRIVATE_KEY": "not-a-key-canary-5521"}
    grant = settings_for(env=env).grant
    with pytest.raises(AuthError) as info:
        grant.form(datetime.now(UTC))
    assert "LEADROUTE_SALESFORCE_PRIVATE_KEY" in str(info.value)
    assert "canary-5521" not in str(info.value)


def test_timeouts_on_the_token_endpoint_are_retried(adapter_for, fake):
    """A timed-out token request is retried like a 503."""
    fake.fail("token", exception=httpx.ReadTimeout)
    adapter_for().client.auth.session()
    assert fake.token_requests == 2
