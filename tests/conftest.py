"""Shared builders: a small policy, reps and leads, a pipeline and a router on a temp store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a temporary directory."""
    with Store.open(tmp_path / "store.db") as opened:
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
