"""``--store``: a SQLite path or a PostgreSQL URL; a store is created only under ``--init``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import fresh_location
from typer.testing import CliRunner

from leadroute.cli import DEMO_NOW, app
from leadroute.demo.generate import write_demo
from leadroute.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company's policy and CSVs, not routed yet."""
    folder = tmp_path_factory.mktemp("company")
    write_demo(folder, now=DEMO_NOW)
    return folder


def route(company: Path, store: str, *extra: str):
    return runner.invoke(
        app,
        [
            "route",
            "--policy",
            str(company / "leadroute.yaml"),
            "--input",
            str(company),
            "--out",
            str(company / "out"),
            "--store",
            store,
            "--at",
            "2026-11-02T09:00:00Z",
            "--json",
            *extra,
        ],
    )


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_mistyped_path_exits_2_with_one_line_and_creates_nothing(company: Path, tmp_path: Path):
    """route on a store path that does not exist, without --init, is one line, exit 2, no file."""
    typo = tmp_path / "stores" / "leadrouet.db"
    result = route(company, str(typo))
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"error: --store: {typo} does not exist (`leadroute route --init` creates a store)"
    )
    assert not typo.exists() and not typo.parent.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["explain", "L-0001"],
        ["report", "--format", "json"],
        ["rebalance", "--dry-run"],
        ["reassign", "--from", "rep-01", "--dry-run"],
        ["shares"],
    ],
)
def test_no_command_starts_an_empty_store_by_itself(company: Path, tmp_path: Path, command):
    """Every command that reads a store refuses a missing one in one line, exit 2."""
    typo = tmp_path / "typo.db"
    args = [*command, "--store", str(typo)]
    if command[0] != "explain":
        args += ["--policy", str(company / "leadroute.yaml"), "--input", str(company)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "does not exist" in one_error_line(result)
    assert not typo.exists()


def test_init_creates_the_store_and_a_rerun_needs_no_init(company: Path, tmp_path: Path):
    """--init creates the store (and its folder); the next run opens it and replays."""
    where = tmp_path / "new" / "leadroute.db"
    first = route(company, str(where), "--init")
    assert first.exit_code == 0, first.output
    again = route(company, str(where))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counts"]["new"] == 0


def test_a_postgres_url_reaches_postgres(company: Path, tmp_path: Path, request):
    """route --store postgresql://... writes its decisions to PostgreSQL, not to a SQLite file
    named after the URL; the password never appears in the output."""
    url = fresh_location("postgresql", tmp_path, request)
    with_password = url.replace("://leadroute@", "://leadroute:canary-pw@")  # trust: ignored
    result = route(company, with_password, "--init")
    assert result.exit_code == 0, result.output
    assert "canary-pw" not in result.output
    report = json.loads(result.stdout)
    assert report["outputs"]["audit store"].startswith("postgresql+psycopg://leadroute:***@")
    with Store.open(url, create=False) as store:
        assert store.backend == "postgresql"
        assert (
            len(store.current_decisions())
            == report["counts"]["routed"] + report["counts"]["fallback"]
        )
    assert not list(Path.cwd().glob("postgresql*")) and not list(tmp_path.glob("postgresql*"))


def test_a_database_without_the_schema_is_refused_without_init(
    company: Path, tmp_path: Path, request
):
    """A PostgreSQL database with no leadroute tables is one line, exit 2, and stays empty."""
    url = fresh_location("postgresql", tmp_path, request)
    result = route(company, url)
    assert result.exit_code == 2
    assert "holds no leadroute store" in one_error_line(result)
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_the_store_can_come_from_the_environment(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """LEADROUTE_STORE stands in for --store, so a URL with a password stays off the command line."""
    where = tmp_path / "env.db"
    monkeypatch.setenv("LEADROUTE_STORE", str(where))
    result = runner.invoke(
        app,
        [
            "route",
            "--init",
            "--policy",
            str(company / "leadroute.yaml"),
            "--input",
            str(company),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert where.exists()


def test_another_database_is_refused_in_one_line(company: Path):
    """--store mysql://... is one line, exit 2, without the password."""
    result = route(company, "mysql://app:canary-pw@localhost/routing", "--init")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "not mysql" in line and "canary-pw" not in line
