"""One rebalance or reassign at a time per store: the second run exits 5 with one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import DEMO_NOW, app
from leadroute.demo.generate import write_demo
from leadroute.store import Store
from leadroute.store.locks import run_lock

runner = CliRunner()
LATER = "2026-11-05T02:00:00Z"


@pytest.fixture
def routed(tmp_path: Path, store_location: str) -> tuple[Path, str]:
    """The demo company routed into a new store (SQLite file or PostgreSQL schema)."""
    folder = tmp_path / "company"
    write_demo(folder, now=DEMO_NOW)
    result = runner.invoke(app, ["route", "--init", *options(folder, store_location), "--json"])
    assert result.exit_code == 0, result.output
    return folder, store_location


def options(folder: Path, store: str) -> list[str]:
    return [
        "--policy",
        str(folder / "leadroute.yaml"),
        "--input",
        str(folder),
        "--store",
        store,
        "--at",
        "2026-11-02T09:00:00Z",
    ]


def later(folder: Path, store: str) -> list[str]:
    return [*options(folder, store)[:-1], LATER]


@pytest.mark.parametrize(
    "command", [["rebalance"], ["reassign", "--from", "rep-001"]], ids=["rebalance", "reassign"]
)
def test_a_run_while_another_holds_the_lock_exits_5_and_moves_nothing(routed, command):
    """rebalance or reassign while another run holds the store's lock: one line, exit 5,
    no decision written; a dry run (which writes nothing) still plans."""
    folder, store = routed
    with Store.open(store, create=False) as opened:
        before = len(opened.current_decisions())
        with run_lock(opened, command="rebalance"):
            result = runner.invoke(app, [*command, *later(folder, store), "--json"])
            assert result.exit_code == 5, result.output
            [line] = result.stderr.strip().splitlines()
            assert line.startswith("error: store ") and "holds its moves lock" in line
            dry = runner.invoke(app, [*command, *later(folder, store), "--dry-run", "--json"])
            assert dry.exit_code == 0, dry.output
        assert len(opened.current_decisions()) == before


RUN_WAITING_INSIDE = """
import os, sys, time
from pathlib import Path
import structlog
structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
import leadroute_csv.adapter as csv_adapter
marker, go = Path(sys.argv[1]), Path(sys.argv[2])
original = csv_adapter.CsvAdapter.read
def read(self):
    # Inside the run (the lock is held): wait until the test has seen the other run end.
    marker.write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return original(self)
csv_adapter.CsvAdapter.read = read
from leadroute.cli import main
sys.argv = ["leadroute", *sys.argv[3:]]
main()
"""


def test_two_rebalances_started_together_one_runs_the_other_exits_5(routed, tmp_path: Path):
    """Two `leadroute rebalance` processes started at once on one store: one holds the lock
    and runs to the end (exit 0); the other exits 5 with one line while the first runs."""
    folder, store = routed
    marker, go = tmp_path / "inside", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = ["rebalance", *later(folder, store), "--json"]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_WAITING_INSIDE, str(marker), str(go), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and any(r.poll() is not None for r in runs)):
            assert time.monotonic() < deadline, "neither run took the lock and the other ended"
            time.sleep(0.05)
        inside = int(marker.read_text())
        [winner] = [r for r in runs if r.pid == inside]
        [loser] = [r for r in runs if r.pid != inside]
        _, loser_err = loser.communicate(timeout=60)
        assert winner.poll() is None  # still running, holding the lock
        go.write_text("go")
        winner_out, winner_err = winner.communicate(timeout=120)
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
                r.communicate()
    assert loser.returncode == 5, loser_err
    [line] = loser_err.strip().splitlines()
    assert line.startswith("error: store ") and "rebalance on host" in line
    assert winner.returncode == 0, winner_err
    assert '"command": "rebalance"' in winner_out
