"""``adapters.hubspot.base_url``: the token and the OAuth secrets go only to HubSpot over https."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
import respx

from leadroute.adapters import AdapterConfig
from leadroute.errors import LeadrouteError, PolicyError
from leadroute.policy import Policy
from leadroute_hubspot.adapter import HubSpotAdapter, Runtime, use_runtime
from leadroute_hubspot.mapping import settings_from_options

TOKEN_ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-canary-token-0000"}
OAUTH_ENV = {
    "HUBSPOT_CLIENT_ID": "client-id",
    "HUBSPOT_CLIENT_SECRET": "canary-client-secret",
    "HUBSPOT_REFRESH_TOKEN": "canary-refresh-token",
}

CRAFTED = [
    "http://attacker.example",
    "https://attacker.example",
    "http://api.hubapi.com",
    "https://api.hubapi.com.attacker.example",
    "https://api.hubapi.com@attacker.example",
    "https://attacker.example@api.hubapi.com",
    "https://attacker.example/api.hubapi.com",
    "https://attacker.example?api.hubapi.com",
    "https://attacker.example#api.hubapi.com",
    "https://api.hubapi.com\\@attacker.example",
    "https://api.hubapi.com:8443",
    "https://api.hubapi.com/proxy/crm",
    "https://xn--pi-hubapi-1ya.com",
    "//attacker.example",
    "attacker.example",
    "https://api.hubapi.com.",
    "https:///api.hubapi.com",
]


def _build(policy: Policy, tmp_path: Path, env: dict[str, str], base_url: str) -> list[str]:
    """Build the adapter and read; every request that left is returned (none is answered)."""
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(599)

    router = respx.MockRouter(assert_all_called=False)
    router.route().mock(side_effect=record)
    runtime = Runtime(
        http=lambda: httpx.Client(transport=httpx.MockTransport(router.handler)),
        env=env,
        sleep=lambda _: None,
    )
    with use_runtime(runtime):
        adapter = HubSpotAdapter.from_config(
            AdapterConfig(
                policy=policy, options={"base_url": base_url}, workdir=tmp_path, purpose="route"
            )
        )
        with contextlib.suppress(LeadrouteError):  # the recorder answers nothing useful
            adapter.read()
    return sent


@pytest.mark.parametrize("env", [TOKEN_ENV, OAUTH_ENV], ids=["token", "oauth"])
@pytest.mark.parametrize("base_url", CRAFTED)
def test_crafted_base_url_sends_no_request(policy, tmp_path, env, base_url):
    """A base_url that is not https://api.hubapi.com is refused before any credential leaves."""
    sent: list[str] = []
    with pytest.raises(PolicyError, match=r"adapters\.hubspot\.base_url: credentials") as caught:
        sent = _build(policy, tmp_path, env, base_url)
    assert sent == []
    assert "HUBSPOT_TRUSTED_ORIGINS" in str(caught.value)
    assert "attacker" not in str(caught.value)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.hubapi.com", "https://api.hubapi.com"),
        ("https://API.HubAPI.com/", "https://api.hubapi.com"),
        ("https://api.hubapi.com:443", "https://api.hubapi.com"),
    ],
)
def test_hubspot_api_host_is_accepted(base_url, expected):
    """HubSpot's own API host passes in any harmless spelling and is normalised."""
    assert settings_from_options({"base_url": base_url}, {}).base_url == expected


def test_policy_cannot_trust_an_origin():
    """The allow-list is not a policy option: a policy naming it is refused as unknown."""
    with pytest.raises(PolicyError, match=r"adapters\.hubspot\.trusted_origins: unknown option"):
        settings_from_options({"trusted_origins": ["https://attacker.example"]}, {})


def test_environment_can_trust_another_origin(policy, tmp_path):
    """An origin listed in HUBSPOT_TRUSTED_ORIGINS (a local mock, a proxy) is where calls go."""
    env = {
        **TOKEN_ENV,
        "HUBSPOT_TRUSTED_ORIGINS": "https://proxy.internal:8443, http://127.0.0.1:4010",
    }
    sent = _build(policy, tmp_path, env, "http://127.0.0.1:4010")
    assert sent and all(url.startswith("http://127.0.0.1:4010/") for url in sent)
    settings = settings_from_options({"base_url": "https://proxy.internal:8443/hubspot"}, env)
    assert settings.base_url == "https://proxy.internal:8443/hubspot"


def test_environment_trust_is_exact():
    """Trusting one origin does not trust its scheme's sibling, another port or a longer host."""
    env = {"HUBSPOT_TRUSTED_ORIGINS": "https://proxy.internal:8443"}
    for url in (
        "http://proxy.internal:8443",
        "https://proxy.internal",
        "https://proxy.internal:8443.attacker.example",
    ):
        with pytest.raises(PolicyError, match="base_url"):
            settings_from_options({"base_url": url}, env)


def test_malformed_trusted_origin_is_one_clear_error():
    """A typo in the environment variable is named, not silently ignored."""
    with pytest.raises(PolicyError, match=r"HUBSPOT_TRUSTED_ORIGINS: 'proxy\.internal'"):
        settings_from_options({}, {"HUBSPOT_TRUSTED_ORIGINS": "proxy.internal"})
