"""``leadroute relay`` and exit code 4: quota stops, dead effects queued again or closed by hand."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import AT, BASE_POLICY, lead, snapshot
from typer.testing import CliRunner

from leadroute import hookimpl
from leadroute.adapters import AdapterFactory
from leadroute.host import make_host
from leadroute.models import Effect, EffectResult, InputProblem, Snapshot
from leadroute.store import Store

runner = CliRunner()


class Target:
    """A CRM stand-in: refuses writes for ``invalid`` leads, stops after ``room`` writes."""

    name = "target"

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.invalid: set[str] = set()
        self.room = 10_000
        self.owners: dict[str, str] = {}

    def read(self) -> Snapshot:
        return self.snap

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results = []
        for e in effects:
            if self.room <= 0:
                results.append(
                    EffectResult(idem_key=e.idem_key, ok=False, quota=True, detail="daily limit")
                )
            elif e.lead_id in self.invalid:
                results.append(EffectResult(idem_key=e.idem_key, ok=False, detail="bad status"))
            else:
                self.room -= 1
                self.owners[e.lead_id] = str(e.payload["owner_id"])
                results.append(EffectResult(idem_key=e.idem_key, ok=True))
        return results

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Target:
    """The ``target`` adapter, registered for the CLI, over three NA leads and the usual reps."""
    from tests.conftest import standard_reps

    crm = Target(snapshot([lead("L1"), lead("L2"), lead("L3")], reps=standard_reps()))

    class Plugin:
        @hookimpl
        def leadroute_register_adapters(
            self, register: Callable[[str, AdapterFactory], None]
        ) -> None:
            register("target", lambda config: crm)

    monkeypatch.setattr(
        "leadroute.cli.hosting.make_host",
        lambda **_: make_host(load_entrypoints=False, plugins=[Plugin()]),
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leadroute.yaml").write_text(BASE_POLICY, encoding="utf-8")
    return crm


def cli(*args: str) -> tuple[int, dict, str]:
    result = runner.invoke(app_(), [*args, "--source", "target", "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def app_():
    from leadroute.cli import app

    return app


def test_route_stopped_by_a_quota_prints_its_result_and_exits_4(target: Target):
    """A quota stop mid-write: decisions stored, the JSON printed, one line on stderr, exit 4."""
    target.room = 1
    code, data, err = cli("route", "--init", "--at", AT.isoformat())
    assert code == 4
    assert data["counts"]["new"] == 3 and data["relay"]["quota"] == "daily limit"
    assert data["relay"]["pending"] == 2 and data["relay"]["dead"] == 0
    assert "writes stopped: daily limit (2 effect(s) pending" in err
    target.room = 10
    code, data, _ = cli("route", "--init", "--at", AT.isoformat())
    assert code == 0 and data["relay"]["applied"] == 2 and len(target.owners) == 3


def test_rebalance_stopped_inside_a_relay_batch_exits_4(target: Target):
    """A nightly move whose write hits the quota exits non-zero with the writes pending."""
    target.snap = snapshot(
        [lead(f"M{i}", owner_id="gone", created_at=AT - timedelta(days=3)) for i in range(3)],
        reps=list(target.snap.reps),
    )
    target.room = 0
    code, data, err = cli("rebalance", "--init", "--at", AT.isoformat())
    assert code == 4 and data["counts"]["applied"] == 3
    assert data["relay"]["pending"] == 3 and "writes stopped" in err
    with Store.open(Path(".leadroute/leadroute.db")) as store:
        assert store.outbox_counts() == {"pending": 3}


def test_relay_applies_what_is_pending(target: Target):
    """``relay`` alone sends the pending effects a quota-stopped run left behind."""
    target.room = 0
    assert cli("route", "--init", "--at", AT.isoformat())[0] == 4
    target.room = 10
    code, data, _ = cli("relay")
    assert code == 0 and data["relay"]["applied"] == 3 and data["unresolved"] == []


def test_relay_retry_dead_queues_dead_effects_again(target: Target):
    """A dead write stays listed until --retry-dead queues it again and it is applied."""
    target.invalid = {"L2"}
    assert cli("route", "--init", "--at", AT.isoformat())[0] == 0
    code, data, _ = cli("relay")
    assert [u["lead_id"] for u in data["unresolved"]] == ["L2"]
    target.invalid = set()
    code, data, _ = cli("relay", "--retry-dead")
    assert code == 0 and [r["lead_id"] for r in data["retried"]] == ["L2"]
    assert data["relay"]["applied"] == 1 and data["unresolved"] == []
    assert target.owners["L2"]


def test_relay_resolve_closes_a_dead_effect_fixed_by_hand(target: Target):
    """--resolve --lead closes a dead effect without sending it; it leaves every report."""
    target.invalid = {"L2", "L3"}
    cli("route", "--init", "--at", AT.isoformat())
    code, data, _ = cli("relay", "--resolve", "--lead", "L2")
    assert code == 0 and [r["lead_id"] for r in data["resolved"]] == ["L2"]
    assert data["relay"] is None and [u["lead_id"] for u in data["unresolved"]] == ["L3"]
    shown = runner.invoke(app_(), ["report", "exceptions", "--at", AT.isoformat(), "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)["exceptions"]
    assert [(r["lead_id"], r["reason_code"]) for r in rows] == [("L3", "EFFECT_FAILED")]


def test_relay_refuses_contradictory_or_incomplete_options(target: Target):
    """--resolve without --lead, or with --retry-dead, is one line and exit 2."""
    cli("route", "--init", "--at", AT.isoformat())
    code, _, err = cli("relay", "--resolve")
    assert code == 2 and "--resolve: name the leads with --lead" in err
    code, _, err = cli("relay", "--resolve", "--retry-dead", "--lead", "L1")
    assert code == 2 and "choose one" in err


def test_relay_without_a_store_is_one_line(target: Target):
    """Relaying before any run names the missing store and exits 2."""
    code, _, err = cli("relay")
    assert code == 2 and "does not exist" in err
