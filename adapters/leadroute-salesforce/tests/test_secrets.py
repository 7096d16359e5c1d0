"""Secrets (private key, its path, client secret, access tokens) never reach logs, errors or files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute_salesforce.testing import FakeSalesforce, populate

runner = CliRunner()
SECRET = "canary-secret-3f9d1c"
POLICY = """
version: "sf-secrets"
regions: {{NA: [US, CA]}}
pools: [{{name: na, strategy: round_robin}}]
routing: [{{name: na, when: {{region: NA}}, pool: na}}]
fallback: {{owner: "{owner}"}}
adapters:
  salesforce:
    auth: {auth}
    login_url: {login_url}
    fields: {{users: {{pools: Leadroute_Pools__c}}}}
    tasks: true
    output_dir: "{out}"
"""


def everything_written(result, folder: Path) -> str:
    """Every output channel of a run: stdout, stderr, and every file it left behind."""
    parts = [result.output, getattr(result, "stderr", "") or ""]
    if result.exception is not None:
        parts.append(repr(result.exception))
    for path in folder.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def invoke(fake: FakeSalesforce, policy: Path, store: Path):
    with fake.router:
        return runner.invoke(
            app,
            [
                "-vv",
                "--log-json",
                "route",
                "--init",
                "--source",
                "salesforce",
                "--policy",
                str(policy),
                "--store",
                str(store),
                "--json",
            ],
        )


def setup_org(fake: FakeSalesforce, tmp_path: Path, auth: str) -> tuple[Path, Path]:
    org = populate(fake, leads=120, owned=20, users=6, inactive=1, accounts=5)
    out = tmp_path / "run"
    out.mkdir()
    policy = tmp_path / "leadroute.yaml"
    login_url = fake.instance_url if auth == "client_credentials" else fake.login_url
    policy.write_text(
        POLICY.format(owner=org.active_users[0], auth=auth, login_url=login_url, out=out),
        encoding="utf-8",
    )
    return policy, out


def test_client_secret_never_appears(fake, tmp_path, monkeypatch):
    """A full client-credentials run logs at debug level, and the secret and tokens appear nowhere."""
    fake.client_secret = SECRET
    policy, out = setup_org(fake, tmp_path, "client_credentials")
    monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_SECRET", SECRET)
    result = invoke(fake, policy, out / "audit.db")
    assert result.exit_code == 0, result.output
    written = everything_written(result, out)
    assert "salesforce.auth.logged_in" in written  # the logs were really captured
    assert SECRET not in written
    assert fake.tokens and not any(token in written for token in fake.tokens)


def test_private_key_and_its_path_never_appear(fake, key_pair, tmp_path, monkeypatch):
    """A JWT run with the key in a file leaks neither the key nor where it lives."""
    secret_dir = tmp_path / "canary-keydir-77e2"
    secret_dir.mkdir()
    (secret_dir / "key.pem").write_text(key_pair[0], encoding="utf-8")
    policy, out = setup_org(fake, tmp_path, "jwt")
    monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_USERNAME", fake.username)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE", str(secret_dir / "key.pem"))
    result = invoke(fake, policy, out / "audit.db")
    assert result.exit_code == 0, result.output
    written = everything_written(result, out)
    key_lines = [line for line in key_pair[0].splitlines() if "PRIVATE KEY" not in line]
    assert not any(line in written for line in key_lines)
    assert "canary-keydir-77e2" not in written


@pytest.mark.parametrize("wrong", ["secret", "key-path"])
def test_login_failures_are_one_line_without_secrets(fake, tmp_path, monkeypatch, wrong):
    """A refused secret or an unreadable key file exits 3 with one line that quotes no secret."""
    if wrong == "secret":
        fake.client_secret = "the-right-one"
        policy, out = setup_org(fake, tmp_path, "client_credentials")
        monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_SECRET", SECRET)
    else:
        policy, out = setup_org(fake, tmp_path, "jwt")
        monkeypatch.setenv("LEADROUTE_SALESFORCE_USERNAME", fake.username)
        monkeypatch.setenv("LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE", f"/nonexistent/{SECRET}/k.pem")
    monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_ID", fake.client_id)
    result = invoke(fake, policy, out / "audit.db")
    assert result.exit_code == 3
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert SECRET not in everything_written(result, out)
