"""Output places are checked before a command decides anything: one line, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.cli.outputs import check_file, check_folder
from leadroute.errors import UserInputError

runner = CliRunner()

# Nobody, root included, can create a folder under /proc.
UNWRITABLE = Path("/proc/leadroute-no-such-place/out")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo's input files (policy, leads, reps, accounts), without a store."""
    folder = tmp_path_factory.mktemp("demo")
    assert runner.invoke(app, ["demo", "--out", str(folder), "--json"]).exit_code == 0
    shutil.rmtree(folder / ".leadroute")
    return folder


def test_a_missing_folder_is_created(tmp_path):
    """A folder that does not exist yet is made, as the run would make it."""
    check_folder(tmp_path / "a" / "b", "--out")
    assert (tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("out", "is a file, not a folder"),
        ("out/sub", "cannot create folder"),
        (str(UNWRITABLE), "cannot create folder /proc/leadroute-no-such-place/out"),
    ],
)
def test_a_folder_that_cannot_take_files_is_one_line(tmp_path, where, message):
    """A file, a path under a file or an unwritable place is a user error naming the option."""
    (tmp_path / "out").write_text("a file")
    with pytest.raises(UserInputError) as info:
        check_folder(tmp_path / where, "--out")
    assert str(info.value).startswith("--out: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_file_output_must_not_be_a_folder(tmp_path):
    """A file option naming a folder is refused; a file in a writable folder is fine."""
    with pytest.raises(UserInputError, match="is a folder; give a file name"):
        check_file(tmp_path, "--diff")
    check_file(tmp_path / "new" / "diff.csv", "--diff")


def _store_has_decisions(path: Path) -> bool:
    from leadroute.store import Store

    if not path.exists():
        return False
    with Store.open(path) as store:
        return bool(store.current_decisions())


@pytest.mark.parametrize("where", ["file", "unwritable"])
def test_route_checks_out_before_deciding(demo, tmp_path, where):
    """route --out at a file or an unwritable place exits 2 with one line and decides nothing."""
    out = tmp_path / "results.csv" if where == "file" else UNWRITABLE
    if where == "file":
        out.write_text("not a folder")
    store = tmp_path / "s.db"
    result = runner.invoke(
        app,
        [
            "route",
            "--policy",
            str(demo / "leadroute.yaml"),
            "--input",
            str(demo),
            "--out",
            str(out),
            "--store",
            str(store),
            "--at",
            "2026-11-02T09:00:00Z",
        ],
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: --out: ")
    assert not _store_has_decisions(store)


def test_rebalance_checks_its_diff_before_moving(demo, tmp_path):
    """rebalance --diff naming a folder exits 2 before planning or moving anything."""
    result = runner.invoke(
        app,
        [
            "rebalance",
            "--policy",
            str(demo / "leadroute.yaml"),
            "--input",
            str(demo),
            "--out",
            str(tmp_path),
            "--store",
            str(tmp_path / "s.db"),
            "--diff",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --diff: {tmp_path} is a folder; give a file name"
    assert not _store_has_decisions(tmp_path / "s.db")


def test_demo_out_at_a_file_is_one_line(tmp_path):
    """demo --out naming a file exits 2 with one line, before generating anything."""
    target = tmp_path / "demo"
    target.write_text("x")
    result = runner.invoke(app, ["demo", "--out", str(target)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --out: {target} is a file, not a folder"


def test_report_out_at_a_folder_is_one_line(demo, tmp_path):
    """report --out naming a folder exits 2 with one line instead of a traceback."""
    runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "--json"])
    result = runner.invoke(
        app,
        [
            "report",
            "--policy",
            str(tmp_path / "d" / "leadroute.yaml"),
            "--store",
            str(tmp_path / "d" / ".leadroute" / "leadroute.db"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --out: {tmp_path} is a folder; give a file name"
