"""Every one-line CLI error goes through the same redaction as the logs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from leadroute.cli import app

runner = CliRunner()
POLICY = 'version: "1"\nfallback: {owner: ops}\n'


def test_error_line_masks_an_email_and_a_phone(tmp_path):
    """A policy error quoting a person's email or phone number prints them masked."""
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(POLICY + "canary.person@canary-mail.example: 1\n'+1 415 555 0134': 2\n")
    result = runner.invoke(app, ["check-policy", str(policy)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "[redacted]" in result.stderr
    assert "canary.person" not in result.stderr and "555 0134" not in result.stderr


def test_json_error_is_redacted_too(tmp_path):
    """check-policy --json reports the same redacted line."""
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(POLICY + "pat-na1-canarytoken-0000: 1\n")
    result = runner.invoke(app, ["check-policy", str(policy), "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "[redacted]" in error and "canarytoken" not in error
