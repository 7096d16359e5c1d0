"""Opening a store: create only when asked, migrate on both backends, fail in one line."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from tests.conftest import BACKENDS, fresh_location

from leadroute.errors import StoreError, StoreFileError, StoreNotFoundError
from leadroute.store import Store, schema
from leadroute.store.database import MIGRATIONS


@pytest.fixture(params=BACKENDS)
def empty_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where no store exists: a missing SQLite file, or an empty PostgreSQL schema."""
    return fresh_location(request.param, tmp_path, request)


def _tables(location: str) -> set[str]:
    engine = sa.create_engine(_url(location))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _url(location: str) -> str:
    return location if "://" in location else f"sqlite:///{location}"


def test_no_store_is_created_unless_asked(empty_location: str):
    """Without ``create`` a missing store is one line naming --store, and nothing is created."""
    with pytest.raises(StoreNotFoundError) as caught:
        Store.open(empty_location, create=False)
    message = str(caught.value)
    assert message.startswith("--store: ") and "\n" not in message
    assert "leadroute route --init" in message
    if "://" in empty_location:
        assert _tables(empty_location) == set()
    else:
        assert not Path(empty_location).exists()


def test_a_created_store_opens_without_create(empty_location: str):
    """Once created, the same location opens without ``create`` and keeps its data."""
    with Store.open(empty_location) as store:
        run = store.begin_run("route", "csv")
    with Store.open(empty_location, create=False) as store:
        assert [r["id"] for r in store.runs()] == [run]


def test_migrations_produce_exactly_the_schema(store: Store):
    """The Alembic migrations create exactly what schema.py declares: tables, columns, types,
    nullability, indexes and unique constraints, on SQLite and on PostgreSQL."""

    def compare_type(_ctx, _inspected, _declared, inspected_type, declared_type):
        # SQLite stores every string as TEXT: VARCHAR(n) from an older migration is the same.
        sqlite_text = store.backend == "sqlite" and isinstance(declared_type, sa.Text)
        return False if sqlite_text and isinstance(inspected_type, sa.String) else None

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        assert compare_metadata(context, schema.metadata) == []


def test_migrations_go_down_and_up_again(store_location: str):
    """Every migration's downgrade runs on both backends, and the upgrade after it too."""
    with Store.open(store_location) as store:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(sa.inspect(store.engine).get_table_names()) <= {"alembic_version"}
    with Store.open(store_location) as store:
        assert set(sa.inspect(store.engine).get_table_names()) >= set(schema.metadata.tables)


def test_workers_opening_a_new_store_together_migrate_it_once(empty_location: str):
    """Several processes creating the same store at once all open it; it is migrated once."""

    def open_one(_: int) -> int:
        with Store.open(empty_location) as store, store.engine.connect() as conn:
            return len(conn.execute(sa.text("SELECT version_num FROM alembic_version")).all())

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_one, range(4))) == [1, 1, 1, 1]


def test_a_file_that_is_not_a_store_is_the_users_mistake(tmp_path: Path):
    """A --store path naming some other file (a CSV) is one line, exit 2, and is left intact."""
    leads = tmp_path / "leads.csv"
    leads.write_text("id,email\n" * 200, encoding="utf-8")
    with pytest.raises(
        StoreFileError, match=r"^cannot open store .*leads\.csv: file is not a database"
    ):
        Store.open(leads, create=False)
    assert leads.read_text(encoding="utf-8") == "id,email\n" * 200


def test_a_folder_is_not_a_store(tmp_path: Path):
    """A --store path naming a folder is one line, exit 2."""
    with pytest.raises(StoreFileError, match="is a folder, not a store file"):
        Store.open(tmp_path)


def test_an_unreachable_server_is_one_line_without_the_password():
    """A PostgreSQL URL nobody answers is a StoreError of one line, the password hidden."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    with pytest.raises(StoreError) as caught:
        Store.open(f"postgresql://app:canary-pw@127.0.0.1:{port}/routing?connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("cannot open store postgresql+psycopg://app:***@127.0.0.1")
    assert "canary-pw" not in message and "\n" not in message
