"""Broken plugins as a user meets them on the command line: --check, --strict-plugins, --json."""

from __future__ import annotations

import functools
import json
import types
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadroute.cli import app, hosting
from leadroute.host import hookimpl, make_host
from leadroute.store import Store

runner = CliRunner()

POLICY = """
version: "t1"
regions: {NA: [US]}
pools: [{name: na, strategy: round_robin}]
routing: [{name: na, when: {region: NA}, pool: na}]
fallback: {owner: ops}
"""


class _Dist:
    name = "leadroute-third-party"
    version = "0.1"


class _EntryPoint:
    def __init__(self, name: str, plugin: Any = None, error: Exception | None = None) -> None:
        self.name, self.value, self.dist = name, name, _Dist()
        self._plugin, self._error = plugin, error

    def load(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._plugin


def _module(name: str, **functions: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for attr, function in functions.items():
        setattr(module, attr, function)
    return module


@pytest.fixture
def installed(monkeypatch):
    """Install fake entry-point plugins for the CLI's host: ``installed(ep, ...)``."""

    real = list(entry_points(group="leadroute"))  # the csv adapter among them

    def install(*eps: _EntryPoint) -> None:
        monkeypatch.setattr(
            hosting, "make_host", functools.partial(make_host, discover=lambda: [*real, *eps])
        )

    yield install
    hosting.set_strict(False)


@pytest.fixture
def folder(tmp_path) -> Path:
    """A policy and a CSV folder with two reps and two leads."""
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "reps.csv").write_text("id,pools\nr1,na\nr2,na\nops,\n", encoding="utf-8")
    (tmp_path / "leads.csv").write_text(
        "id,email,country\nL1,a@acme.com,US\nL2,b@beta.com,US\n", encoding="utf-8"
    )
    return tmp_path


def _route(folder: Path, *extra: str):
    return runner.invoke(
        app,
        [
            *extra,
            "route",
            "--init",
            "--policy",
            str(folder / "leadroute.yaml"),
            "--input",
            str(folder),
            "--store",
            str(folder / "s.db"),
            "--at",
            "2026-11-02T09:00:00Z",
            "--json",
        ],
    )


def test_check_reports_a_module_with_no_hooks_and_misspelt_names(installed):
    """plugins --check names a module with no hooks, an unmarked hook function and a misspelt
    one with the nearest hook name, and exits 1."""

    def leadroute_score_fit(lead, rep, ctx):
        return []

    def leadroute_exclude_rp(lead, rep, ctx):
        return []

    installed(
        _EntryPoint(
            "quiet",
            _module(
                "quiet",
                leadroute_score_fit=leadroute_score_fit,
                leadroute_exclude_rp=leadroute_exclude_rp,
            ),
        )
    )
    result = runner.invoke(app, ["plugins", "--check", "--json"])
    assert result.exit_code == 1
    problems = [f["problem"] for f in json.loads(result.stdout)["check"] if f["plugin"] == "quiet"]
    assert problems == [
        "leadroute_exclude_rp is not a hook (did you mean leadroute_exclude_rep?)",
        "leadroute_score_fit is not marked @leadroute.hookimpl, so it is never called",
        "implements no hooks (mark each hook function @leadroute.hookimpl)",
    ]
    human = runner.invoke(app, ["plugins", "--check"])
    assert human.exit_code == 1 and "check quiet: implements no hooks" in human.stdout


def test_check_passes_for_a_good_plugin(installed):
    """plugins --check exits 0 and says so when every plugin is well formed."""

    @hookimpl
    def leadroute_validate_lead(lead, policy):
        return None

    installed(_EntryPoint("good", _module("good", leadroute_validate_lead=leadroute_validate_lead)))
    result = runner.invoke(app, ["plugins", "--check"])
    assert result.exit_code == 0 and "check: no problems found" in result.stdout


def test_a_load_failure_is_in_route_json_and_the_runs_record(installed, folder):
    """A plugin that fails to import leaves route exiting 0, but named in --json and on the run."""
    installed(_EntryPoint("broken", error=ImportError("No module named 'requests_oauth'")))
    result = _route(folder)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plugin_failures"] == [
        {"name": "broken", "error": "ImportError: No module named 'requests_oauth'"}
    ]
    assert data["counts"]["plugins_failed"] == 1
    with Store.open(folder / "s.db") as store:
        (run,) = store.runs()
    assert run["counts"]["plugin_failures"] == [
        "broken: ImportError: No module named 'requests_oauth'"
    ]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_strict_plugins_turns_a_load_failure_into_exit_1(installed, folder, monkeypatch, how):
    """--strict-plugins (or LEADROUTE_STRICT_PLUGINS=1) stops route with one line naming the plugin."""
    installed(_EntryPoint("broken", error=ImportError("No module named 'requests_oauth'")))
    if how == "env":
        monkeypatch.setenv("LEADROUTE_STRICT_PLUGINS", "1")
    result = _route(folder, *(["--strict-plugins"] if how == "flag" else []))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: plugin 'broken' failed to load: ImportError: No module named 'requests_oauth'\n"
    )


def test_a_hook_that_raises_is_one_line_naming_plugin_hook_and_lead(installed, folder):
    """A fit hook that raises stops route with exit 1 and one line naming plugin, hook and lead."""

    @hookimpl
    def leadroute_score_fit(lead, rep, ctx):
        raise ValueError("model file missing")

    installed(_EntryPoint("scorer", _module("scorer", leadroute_score_fit=leadroute_score_fit)))
    result = _route(folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: plugin 'scorer' failed in hook leadroute_score_fit for lead L1: "
        "ValueError: model file missing\n"
    )


def test_a_hook_returning_the_wrong_type_is_one_line(installed, folder):
    """A fit hook returning a bare float stops route with one line naming plugin, hook and lead."""

    @hookimpl
    def leadroute_score_fit(lead, rep, ctx):
        return 0.7

    installed(_EntryPoint("scorer", _module("scorer", leadroute_score_fit=leadroute_score_fit)))
    result = _route(folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: plugin 'scorer': hook leadroute_score_fit returned a float for lead L1; "
        "expected a list of FitContribution or None\n"
    )


def test_the_console_script_adds_plugins_commands(monkeypatch, capsys):
    """leadroute (main) registers installed plugins' commands: the learned fit's `fit train`."""
    import sys

    from leadroute import cli

    monkeypatch.setattr(sys, "argv", ["leadroute", "fit", "train", "--help"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--store" in out and "--target" in out and "--half-life" in out
