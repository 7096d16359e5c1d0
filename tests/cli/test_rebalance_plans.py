"""``leadroute rebalance`` on the demo: the same plan every time, no bounce-back, caps held."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.adapters import AdapterConfig
from leadroute.cli import app
from leadroute.engine import Engine
from leadroute.policy import load_policy
from leadroute.store import Store
from leadroute_csv.adapter import CsvAdapter

runner = CliRunner()
# The operator settings: no stay bonus, a budget of 60 moves.
TUNED = "\nrebalance: {stay_bonus: 0.0, max_moves: 60}\n"
NIGHTS = ("2026-11-06T02:00:00Z", "2026-11-07T02:00:00Z", "2026-11-08T02:00:00Z")
FORCED = {"OWNER_INACTIVE", "OWNER_ON_LEAVE", "QUALIFIED"}


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def routed_demo(tmp_path_factory) -> Path:
    """The demo, routed once, with the tuned rebalance settings in its policy."""
    out = tmp_path_factory.mktemp("demo")
    assert invoke("demo", "--out", str(out), "--json").exit_code == 0
    with (out / "leadroute.yaml").open("a", encoding="utf-8") as fh:
        fh.write(TUNED)
    return out


def copy_of(demo: Path, folder: Path) -> Path:
    shutil.copytree(demo, folder)
    return folder


def rebalance(folder: Path, at: str, *extra: str) -> dict:
    result = invoke(
        "rebalance",
        "--policy",
        str(folder / "leadroute.yaml"),
        "--input",
        str(folder),
        "--store",
        str(folder / ".leadroute" / "leadroute.db"),
        "--at",
        at,
        "--json",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def diff_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_identical_inputs_give_byte_identical_diffs(routed_demo, tmp_path):
    """Three dry runs and three real runs (each on its own copy of the store) of the same
    plan write the same diff file, byte for byte."""
    diffs = []
    dry = copy_of(routed_demo, tmp_path / "dry")
    for i in range(3):
        out = rebalance(dry, NIGHTS[0], "--dry-run", "--diff", str(tmp_path / f"dry-{i}.csv"))
        assert out["counts"]["moves"] > 0
        diffs.append((tmp_path / f"dry-{i}.csv").read_bytes())
    for i in range(3):
        real = copy_of(routed_demo, tmp_path / f"real-{i}")
        out = rebalance(real, NIGHTS[0], "--diff", str(tmp_path / f"real-{i}.csv"))
        assert out["counts"]["applied"] == out["counts"]["moves"]
        diffs.append((tmp_path / f"real-{i}.csv").read_bytes())
    assert all(d == diffs[0] for d in diffs)
    moves = [r for r in diff_rows(tmp_path / "dry-0.csv") if not r["reasons"].startswith("FOLLOWS")]
    assert len(moves) <= 60  # the budget holds


def over_cap(folder: Path, receivers: set[str]) -> list[str]:
    """Reps among ``receivers`` whose open leads, as the store now counts them, pass their cap."""
    policy = load_policy(folder / "leadroute.yaml")
    snap = CsvAdapter.from_config(
        AdapterConfig(policy=policy, options={"input_dir": str(folder)}, workdir=folder)
    ).read()
    with Store.open(folder / ".leadroute" / "leadroute.db", create=False) as store:
        engine = Engine.open(policy, store, reps=snap.reps, accounts=snap.accounts)
        loads = engine.state.loads
    return [
        f"{r.id} {loads.get(r.id, 0)}/{r.capacity.max_open}"
        for r in snap.reps
        if r.id in receivers
        and r.capacity.max_open is not None
        and loads.get(r.id, 0) > r.capacity.max_open
    ]


def test_three_nights_move_no_lead_twice_and_break_no_cap(routed_demo, tmp_path):
    """Three nights in a row on the demo: no lead (or follower) moves twice unless its owner
    became unavailable, a rerun the same night moves nothing, and every rep that receives
    leads ends within its open-lead cap."""
    folder = copy_of(routed_demo, tmp_path / "nights")
    moved: dict[str, list[str]] = {}
    for night in NIGHTS:
        rebalance(folder, night, "--diff", str(tmp_path / "night.csv"))
        rows = diff_rows(tmp_path / "night.csv")
        for row in rows:
            moved.setdefault(row["lead_id"], []).append(row["reasons"])
        assert over_cap(folder, {r["to_owner"] for r in rows}) == []
        rerun = rebalance(folder, night, "--diff", str(tmp_path / "again.csv"))
        assert rerun["counts"]["moves"] == 0
    twice = {
        lead: history
        for lead, history in moved.items()
        if len(history) > 1 and not any(FORCED & set(r.split(";")) for r in history[1:])
    }
    assert moved and twice == {}
