"""A server or proxy that echoes the request: its words never carry a secret or a person out.

An echoing endpoint put the live session id into the ``error:`` line. Salesforce's error
text is now scrubbed of every secret the adapter sent or holds (session ids, the client
secret, signed assertions) and of emails and phone numbers, in the client, at login, and
again in the CLI's one-line error.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.errors import AuthError
from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.client import ApiError
from leadroute_salesforce.testing import FakeSalesforce, populate

CANARY_EMAIL = "canary.person@canary-mail.example"
CANARY_PHONE = "+1 415 555 0134"


def echo_data_calls(fake: FakeSalesforce):
    """A handler: the fake answers logins; every data call is refused quoting the request."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/services/oauth2/token"):
            return fake.router.handler(request)
        echoed = (
            f"bad request from {CANARY_EMAIL} ({CANARY_PHONE}): "
            f"Authorization: {request.headers.get('authorization', '')}"
        )
        return httpx.Response(400, json=[{"errorCode": "INVALID_FIELD", "message": echoed}])

    return handle


def echo_logins(request: httpx.Request) -> httpx.Response:
    """A token endpoint that refuses the login quoting the whole form it received."""
    form = urllib.parse.parse_qs(request.content.decode())
    quoted = "; ".join(f"{key}={values[0]}" for key, values in form.items())
    return httpx.Response(400, json={"error": "invalid_client", "error_description": quoted})


def test_echoed_session_id_never_reaches_the_error(fake, settings_for):
    """A data call refused with the request echoed: the error keeps the code, not the token."""
    populate(fake, leads=5, owned=0)
    http = httpx.Client(transport=httpx.MockTransport(echo_data_calls(fake)))
    adapter = SalesforceAdapter.build(settings_for(), http=http, sleep=lambda _: None)
    with pytest.raises(ApiError) as caught:
        adapter.read()
    message = str(caught.value)
    assert "INVALID_FIELD" in message and "[redacted]" in message
    tokens = adapter.client.auth.secrets()
    assert tokens and not any(token in message for token in tokens)
    assert "Bearer" not in message and CANARY_EMAIL not in message and CANARY_PHONE not in message


@pytest.mark.parametrize("flow", ["jwt", "client_credentials"])
def test_echoed_login_form_never_reaches_the_error(fake, settings_for, jwt_env, flow):
    """A token endpoint that quotes the form: neither the secret nor the assertion is repeated."""
    env = dict(jwt_env)
    options: dict[str, str] = {}
    if flow == "client_credentials":
        env["LEADROUTE_SALESFORCE_CLIENT_SECRET"] = "canary-consumer-secret-9d2"
        options = {"auth": flow, "login_url": fake.instance_url}
    http = httpx.Client(transport=httpx.MockTransport(echo_logins))
    adapter = SalesforceAdapter.build(settings_for(env, **options), http=http, sleep=lambda _: None)
    with pytest.raises(AuthError, match="invalid_client") as caught:
        adapter.client.auth.session()
    sent = adapter.client.auth.secrets()
    assert sent and not any(value in str(caught.value) for value in sent)
    assert "canary-consumer-secret" not in str(caught.value)


POLICY = """
version: "sf-echo"
pools: [{{name: na, strategy: round_robin}}]
routing: [{{name: na, pool: na}}]
fallback: {{owner: "{owner}"}}
adapters:
  salesforce:
    login_url: {login_url}
    output_dir: "{out}"
"""


def test_cli_error_line_is_scrubbed(fake, jwt_env, tmp_path: Path, monkeypatch):
    """route --source salesforce against an echoing server: one error line, no token, no person."""
    org = populate(fake, leads=5, owned=0, users=6, inactive=1, accounts=2)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(
        POLICY.format(owner=org.active_users[0], login_url=fake.login_url, out=tmp_path),
        encoding="utf-8",
    )
    for name, value in jwt_env.items():
        monkeypatch.setenv(name, value)
    router = respx.MockRouter(assert_all_called=False)
    router.route().mock(side_effect=echo_data_calls(fake))
    with router:
        result = CliRunner().invoke(
            app,
            [
                "route",
                "--init",
                "--source",
                "salesforce",
                "--policy",
                str(policy),
                "--store",
                str(tmp_path / "audit.db"),
            ],
        )
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "INVALID_FIELD" in line
    assert fake.tokens and not any(token in result.output for token in fake.tokens)
    assert CANARY_EMAIL not in result.output and "555 0134" not in result.output
