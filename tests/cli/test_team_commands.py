"""``leadroute reassign`` and ``leadroute shares`` as a user drives them, on the demo."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def demo(tmp_path) -> tuple[Path, list[str]]:
    """A routed demo and the common options that point at it."""
    assert invoke("demo", "--out", str(tmp_path), "--json").exit_code == 0
    common = [
        "--policy",
        str(tmp_path / "leadroute.yaml"),
        "--input",
        str(tmp_path),
        "--store",
        str(tmp_path / ".leadroute" / "leadroute.db"),
        "--at",
        "2026-11-02T10:00:00Z",
    ]
    return tmp_path, common


def busiest_pool_rep(folder: Path) -> str:
    with (folder / "assignments.csv").open(newline="", encoding="utf-8") as fh:
        owners = Counter(r["owner_id"] for r in csv.DictReader(fh) if r["step"] == "pool")
    return owners.most_common(1)[0][0]


def test_reassign_dry_run_then_apply(demo):
    """A dry run prints the diff and writes none; applying moves every lead once."""
    folder, common = demo
    leaving = busiest_pool_rep(folder)
    dry = invoke("reassign", "--from", leaving, "--dry-run", "--json", *common)
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["counts"]["moves"] > 0 and planned["counts"]["applied"] == 0
    assert all(m["to_owner"] != leaving for m in planned["moves"])
    with (folder / "reassign-diff.csv").open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == planned["counts"]["moves"]
    applied = json.loads(invoke("reassign", "--from", leaving, "--json", *common).stdout)
    assert applied["counts"]["applied"] == planned["counts"]["moves"]
    again = json.loads(invoke("reassign", "--from", leaving, "--json", *common).stdout)
    assert again["counts"]["owned"] == 0
    text = invoke("reassign", "--from", leaving, "--dry-run", *common)
    assert f"{leaving} owns 0 leads" in text.stdout


def test_reassign_to_an_unknown_target_is_one_line(demo):
    """``--to`` naming nothing exits 2 with one line on stderr."""
    _, common = demo
    result = runner.invoke(app, ["reassign", "--from", "x", "--to", "nowhere", *common])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --to: 'nowhere' is neither a pool in the policy nor a known rep"
    ]


def test_reassign_from_an_unknown_rep_is_one_line(demo):
    """``--from`` naming no rep and no owner exits 2 (a typo must not pass for "0 moved")."""
    _, common = demo
    result = runner.invoke(app, ["reassign", "--from", "rep-nobody", "--dry-run", *common])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --from: no rep 'rep-nobody' in the source's reps, and no lead owned by them"
    ]


def test_shares_reports_each_pool(demo):
    """``shares --json`` lists each pool's reps with received and intended shares."""
    _, common = demo
    result = invoke("shares", "--json", "--since", "7d", *common)
    assert result.exit_code == 0, result.output
    pools = json.loads(result.stdout)["pools"]
    assert pools and all(p["total"] == sum(r["received"] for r in p["reps"]) for p in pools)
    used = [p for p in pools if p["total"]]
    assert used and all(abs(sum(r["intended"] for r in p["reps"]) - 1) < 0.01 for p in used)
    table = invoke("shares", "--since", "7d", *common)
    assert "intended" in table.stdout


def test_shares_with_a_bad_period_is_one_line(demo):
    """An unreadable ``--since`` exits 2 naming the option."""
    _, common = demo
    result = runner.invoke(app, ["shares", "--since", "a while", *common])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --since: expected a duration")


def test_demo_fallbacks_are_counted_and_in_the_exception_report(tmp_path):
    """Every fallback of the demo run is a counted code and a ``fallback`` row in exceptions.csv."""
    result = invoke("demo", "--out", str(tmp_path), "--json")
    counts = json.loads(result.stdout)["counts"]
    assert sum(counts["fallback_by_code"].values()) == counts["fallback"] > 0
    with (tmp_path / "exceptions.csv").open(newline="", encoding="utf-8") as fh:
        queued = [r for r in csv.DictReader(fh) if r["kind"] == "fallback"]
    assert len(queued) == counts["fallback"]
    assert all(r["code"].startswith("FALLBACK_") and "escalate by" in r["message"] for r in queued)


def test_shares_without_a_store_is_one_line(demo, tmp_path):
    """``shares`` on a store that does not exist exits 2 and says how to create one."""
    _, common = demo
    missing = str(tmp_path / "nowhere.db")
    args = [a if a != common[5] else missing for a in common]
    result = runner.invoke(app, ["shares", *args])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --store: {missing} does not exist (`leadroute route --init` creates a store)"
    )
