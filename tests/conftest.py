"""Shared builders: a small policy, reps and leads, a pipeline and a router on a temp store.

Stores come from ``store_location``, parametrized over both backends: a SQLite file in the
test's temporary folder, and a fresh schema on the PostgreSQL server named by
``LEADROUTE_TEST_POSTGRES_URL`` (``.ci/postgres start`` makes one). Without that server
the PostgreSQL cases skip; under ``LEADROUTE_REQUIRE_POSTGRES=1`` (CI) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from leadroute.host import PluginHost, make_host
from leadroute.models import Account, AccountIndex, Capacity, Lead, Rep, Snapshot
from leadroute.pipeline import Pipeline
from leadroute.policy import Policy, parse_policy
from leadroute.router import Router
from leadroute.store import Store
from leadroute.strategies import Ledger

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

BASE_POLICY = """
version: "t1"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
segments:
  - {name: smb, max_employees: 199}
  - {name: enterprise, min_employees: 200}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: round_robin, backup: emea-backup}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: ops, queue: unrouted, escalate_after: 4h}
"""


def policy_from(text: str = BASE_POLICY, **overrides: Any) -> Policy:
    """Parse a policy text (``BASE_POLICY`` by default)."""
    return parse_policy(text)


def rep(rep_id: str, *, pools: Sequence[str] = (), cap: int | None = None, **kw: Any) -> Rep:
    """A rep with sensible defaults."""
    return Rep(
        id=rep_id, name=rep_id.title(), pools=tuple(pools), capacity=Capacity(max_open=cap), **kw
    )


def lead(lead_id: str, **kw: Any) -> Lead:
    """A lead with an email at example.com and a US address unless overridden."""
    kw.setdefault("email", f"{lead_id.lower()}@example-{lead_id.lower()}.com")
    kw.setdefault("country", "US")
    return Lead(id=lead_id, **kw)


def standard_reps() -> list[Rep]:
    """Two NA reps, two EMEA reps, an EMEA backup, the ops fallback owner."""
    return [
        rep("na-1", pools=["na"], territories=("NA",)),
        rep("na-2", pools=["na"], territories=("NA",)),
        rep("emea-1", pools=["emea"], territories=("EMEA",)),
        rep("emea-2", pools=["emea"], territories=("DE",), languages=("de", "en")),
        rep("emea-backup"),
        rep("ops"),
    ]


PipelineFactory = Callable[..., Pipeline]


@pytest.fixture
def host() -> PluginHost:
    """A fresh host with only the built-in plugins."""
    return make_host(load_entrypoints=False)


@pytest.fixture
def make_pipeline(host: PluginHost) -> PipelineFactory:
    """Build a pipeline over reps and accounts with an empty ledger."""

    def build(
        reps: Sequence[Rep] | None = None,
        accounts: Sequence[Account] = (),
        policy: Policy | None = None,
        plugins: Sequence[object] = (),
    ) -> Pipeline:
        used = make_host(load_entrypoints=False, plugins=plugins) if plugins else host
        return Pipeline.build(
            used,
            policy or policy_from(),
            list(reps if reps is not None else standard_reps()),
            AccountIndex.build(list(accounts)),
            assigned={},
            ledger=Ledger({}, 0),
        )

    return build


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """An engine on the test PostgreSQL server; skips without one unless it is required."""
    url = os.environ.get("LEADROUTE_TEST_POSTGRES_URL", "")
    required = os.environ.get("LEADROUTE_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("LEADROUTE_REQUIRE_POSTGRES=1 but LEADROUTE_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL: set LEADROUTE_TEST_POSTGRES_URL (.ci/postgres start)")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL at {url} is not reachable: {exc.orig}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


def fresh_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A location where no store exists yet: a file path, or a URL on a new empty schema."""
    if backend == "sqlite":
        return str(tmp_path / f"store-{uuid.uuid4().hex[:8]}.db")
    server: sa.Engine = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))

    request.addfinalizer(drop)
    # Every connection of the store works inside the test's own schema.
    url = server.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new store goes, once per backend (SQLite file, PostgreSQL schema)."""
    return fresh_location(request.param, tmp_path, request)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    """An empty store, once on each backend."""
    with Store.open(store_location) as opened:
        yield opened


@pytest.fixture
def router(store: Store, host: PluginHost) -> Router:
    """A router over the base policy and a temporary store, clock fixed at ``AT``."""
    return Router(policy_from(), store=store, host=host, clock=lambda: AT)


def snapshot(
    leads: Sequence[Lead], reps: Sequence[Rep] | None = None, accounts: Sequence[Account] = ()
) -> Snapshot:
    """A snapshot over the standard reps by default."""
    return Snapshot(
        leads=tuple(leads), reps=tuple(reps or standard_reps()), accounts=tuple(accounts)
    )
