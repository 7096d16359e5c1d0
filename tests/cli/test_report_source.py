"""``leadroute report --source NAME`` reads outcomes through the adapter, recorded once each."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import AT, BASE_POLICY, lead, snapshot, standard_reps
from typer.testing import CliRunner

from leadroute import hookimpl
from leadroute.adapters import AdapterFactory
from leadroute.host import make_host
from leadroute.models import Effect, EffectResult, InputProblem, Outcome, OutcomeKind, Snapshot

runner = CliRunner()


class Crm:
    """A CRM stand-in whose reads carry what its reps did (outcomes)."""

    name = "crm"

    def __init__(self) -> None:
        self.snap = snapshot([lead("L1"), lead("L2")], reps=standard_reps())
        self.recorded: list[str] = []

    def read(self) -> Snapshot:
        return self.snap

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Crm:
    """The ``crm`` adapter registered for the CLI, in a working directory with the policy."""
    adapter = Crm()

    class Plugin:
        @hookimpl
        def leadroute_register_adapters(
            self, register: Callable[[str, AdapterFactory], None]
        ) -> None:
            register("crm", lambda config: adapter)

        @hookimpl
        def leadroute_record_outcome(self, outcome: Outcome, store: object) -> None:
            adapter.recorded.append(outcome.lead_id)

    monkeypatch.setattr(
        "leadroute.cli.hosting.make_host",
        lambda **_: make_host(load_entrypoints=False, plugins=[Plugin()]),
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leadroute.yaml").write_text(BASE_POLICY, encoding="utf-8")
    return adapter


def test_report_records_the_sources_outcomes_before_computing(crm: Crm):
    """First touches and meetings read by the adapter reach the hook once and the metrics."""
    at = AT.isoformat()
    assert runner.invoke(app(), ["route", "--init", "--source", "crm", "--at", at]).exit_code == 0
    touch = AT + timedelta(minutes=20)
    crm.snap = Snapshot(
        reps=crm.snap.reps,
        outcomes=(
            Outcome(kind=OutcomeKind.FIRST_TOUCH, lead_id="L1", rep_id="na-1", at=touch),
            Outcome(kind=OutcomeKind.MEETING_BOOKED, lead_id="L1", rep_id="na-1", at=touch),
        ),
    )
    later = (AT + timedelta(hours=2)).isoformat()
    args = ["report", "--source", "crm", "--at", later, "--format", "json", "--json"]
    first = runner.invoke(app(), args)
    assert first.exit_code == 0, first.output
    report = json.loads(Path("leadroute-report.json").read_text(encoding="utf-8"))
    overall = report["summary"]["overall"]
    assert overall["touch_median_s"] == 20 * 60 and overall["meetings"] == 1
    assert overall["sla_met"] == 1
    assert runner.invoke(app(), args).exit_code == 0
    assert crm.recorded == ["L1", "L1"]  # each outcome once, however often the report runs


def app():
    from leadroute.cli import app as cli_app

    return cli_app
