"""``login_url`` and ``allowed_domains``: the JWT and the client secret go only to Salesforce."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import httpx
import pytest
import respx

from leadroute.adapters import AdapterConfig
from leadroute.errors import LeadrouteError, PolicyError
from leadroute.policy import parse_policy
from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.settings import load_settings

POLICY = parse_policy(
    'version: "d1"\npools: [{name: p, strategy: round_robin}]\n'
    "routing: [{name: r, pool: p}]\nfallback: {owner: '0050000000000AAA'}\n"
)
CRAFTED = [
    "https://attacker.example",
    "http://login.salesforce.com",
    "http://acme.my.salesforce.com",
    "https://login.salesforce.com.attacker.example",
    "https://acme.my.salesforce.com.attacker.example",
    "https://login.salesforce.com@attacker.example",
    "https://attacker.example/login.salesforce.com",
    "https://attacker.example?x=.my.salesforce.com",
    "https://attacker.example#.my.salesforce.com",
    "https://login.salesforce.com\\@attacker.example",
    "https://acme.my.salesforce.com:8443",
    "https://my.salesforce.com",
    "https://a.b.c.my.salesforce.com",
    "https://evilmy.salesforce.com",
    "https://acme.force.com",
    "https://acme.salesforce.com",
    "https://login.salesforce.com/services/oauth2",
]


@pytest.fixture
def cc_env(fake) -> dict[str, str]:
    """Environment for the client-credentials flow (the consumer secret is a canary)."""
    return {
        "LEADROUTE_SALESFORCE_CLIENT_ID": fake.client_id,
        "LEADROUTE_SALESFORCE_CLIENT_SECRET": "canary-consumer-secret",
    }


def attempt(env: dict[str, str], options: dict[str, object], tmp_path: Path) -> list[str]:
    """Build the adapter from the policy and read; every request that left is returned."""
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(599)

    with respx.mock(assert_all_called=False) as router, pytest.MonkeyPatch.context() as mp:
        router.route().mock(side_effect=record)
        for name in list(os.environ):
            if name.startswith("LEADROUTE_SALESFORCE_"):
                mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        adapter = SalesforceAdapter.from_config(
            AdapterConfig(policy=POLICY, options=options, workdir=tmp_path, purpose="route")
        )
        adapter.client.auth.sleep = lambda _: None
        with contextlib.suppress(LeadrouteError):
            adapter.read()
    return sent


@pytest.mark.parametrize("flow", ["jwt", "client_credentials"])
@pytest.mark.parametrize("login_url", CRAFTED)
def test_crafted_login_url_sends_no_request(jwt_env, cc_env, tmp_path, flow, login_url):
    """A login URL off Salesforce's hosts (or not https) is refused before the secret leaves."""
    env = jwt_env if flow == "jwt" else cc_env
    sent: list[str] = []
    with pytest.raises(PolicyError, match=r"adapters\.salesforce\.login_url: ") as caught:
        sent = attempt(env, {"auth": flow, "login_url": login_url}, tmp_path)
    assert sent == []
    assert "attacker" not in str(caught.value)


@pytest.mark.parametrize("flow", ["jwt", "client_credentials"])
def test_crafted_login_url_from_the_environment_is_refused_too(jwt_env, cc_env, tmp_path, flow):
    """LEADROUTE_SALESFORCE_LOGIN_URL is checked the same way: only the trust list widens it."""
    env = {**(jwt_env if flow == "jwt" else cc_env)}
    env["LEADROUTE_SALESFORCE_LOGIN_URL"] = "https://attacker.example"
    with pytest.raises(PolicyError, match="LEADROUTE_SALESFORCE_TRUSTED_ORIGINS"):
        attempt(env, {"auth": flow}, tmp_path)


@pytest.mark.parametrize(
    ("flow", "login_url"),
    [
        ("jwt", "https://login.salesforce.com"),
        ("jwt", "https://test.salesforce.com/"),
        ("jwt", "https://acme.my.salesforce.com"),
        ("jwt", "https://acme--uat.sandbox.my.salesforce.com"),
        ("client_credentials", "https://ACME.my.salesforce.com"),
        ("client_credentials", "https://acme--uat.sandbox.my.salesforce.com"),
        ("client_credentials", "https://acme-dev-ed.develop.my.salesforce.com"),
    ],
)
def test_salesforce_login_hosts_are_accepted(jwt_env, cc_env, tmp_path, flow, login_url):
    """Login and test hosts (JWT) and My Domains, sandboxes included, are where the token call goes."""
    env = jwt_env if flow == "jwt" else cc_env
    sent = attempt(env, {"auth": flow, "login_url": login_url}, tmp_path)
    expected = login_url.lower().rstrip("/") + "/services/oauth2/token"
    assert sent and set(sent) == {expected}


def test_environment_can_trust_another_login_origin(cc_env, tmp_path):
    """An origin in LEADROUTE_SALESFORCE_TRUSTED_ORIGINS (an SSO proxy) may receive the login."""
    env = {**cc_env, "LEADROUTE_SALESFORCE_TRUSTED_ORIGINS": "https://sso.acme.example"}
    sent = attempt(
        env, {"auth": "client_credentials", "login_url": "https://sso.acme.example"}, tmp_path
    )
    assert sent and set(sent) == {"https://sso.acme.example/services/oauth2/token"}


@pytest.mark.parametrize(
    "domains", [["attacker.example"], [".salesforce.com", ".attacker.example"], ["com"]]
)
def test_policy_cannot_widen_allowed_domains(jwt_env, tmp_path, domains):
    """allowed_domains in the policy may only narrow Salesforce's domains, never add another."""
    with pytest.raises(PolicyError, match=r"allowed_domains\[\d\]: .* may only narrow"):
        load_settings({"allowed_domains": domains}, workdir=tmp_path, env=jwt_env)


def test_policy_can_narrow_allowed_domains(jwt_env, tmp_path):
    """A policy that keeps instance URLs to My Domains only is accepted as written."""
    settings = load_settings(
        {"allowed_domains": [".my.salesforce.com"]}, workdir=tmp_path, env=jwt_env
    )
    assert settings.allowed_domains == (".my.salesforce.com",)


def test_environment_widens_allowed_domains(jwt_env, tmp_path):
    """A domain in LEADROUTE_SALESFORCE_TRUSTED_ORIGINS is allowed for instance URLs."""
    env = {**jwt_env, "LEADROUTE_SALESFORCE_TRUSTED_ORIGINS": ".salesforce-gov.example"}
    settings = load_settings({}, workdir=tmp_path, env=env)
    assert ".salesforce-gov.example" in settings.allowed_domains
    narrowed = load_settings(
        {"allowed_domains": ["acme.salesforce-gov.example"]}, workdir=tmp_path, env=env
    )
    assert narrowed.allowed_domains[0] == "acme.salesforce-gov.example"
