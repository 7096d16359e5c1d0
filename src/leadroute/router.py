"""``Router``: the compatibility facade over the engine and the use cases.

The library entry point is ``leadroute.engine.Engine`` (state built once, ``decide`` for
one lead) with the use cases in ``leadroute.usecases`` (``route``, ``rebalance``,
``reassign``, ``explain_decision``). ``Router`` keeps the earlier one-object interface:
each call opens an engine on the store for the snapshot's team and runs the use case, so
a ``Router`` sees everything committed before the call, by any process.

    with Router.from_files("leadroute.yaml", ".leadroute/leadroute.db") as router:
        result = router.route(snapshot)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from leadroute import usecases
from leadroute.adapters import Adapter
from leadroute.clock import Clock, utcnow
from leadroute.engine import Engine, owner_write_effect
from leadroute.host import PluginHost, make_host
from leadroute.models import Decision, Lead, Snapshot
from leadroute.policy import Policy, load_policy
from leadroute.store import Store
from leadroute.usecases import (
    MAX_REROUTE_ROUNDS,
    ReassignResult,
    RebalanceResult,
    RunResult,
    explain_decision,
)
from leadroute.usecases.route import Progress

__all__ = [
    "MAX_REROUTE_ROUNDS",
    "ReassignResult",
    "RebalanceResult",
    "Router",
    "RunResult",
    "explain_decision",
    "owner_write_effect",
    "utcnow",
]


class Router:
    """Route leads under a policy, with an audit store and the plugin host."""

    def __init__(
        self,
        policy: Policy,
        *,
        store: Store,
        host: PluginHost | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.policy = policy
        self.store = store
        self.host = host or make_host()
        self.clock = clock

    @classmethod
    def from_files(cls, policy_path: str | Path, store_path: str | Path, **kwargs: Any) -> Router:
        """Load the policy file and open (or create) the store."""
        return cls(load_policy(policy_path), store=Store.open(store_path), **kwargs)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def engine(self, snapshot: Snapshot) -> Engine:
        """An engine on this router's store, for the snapshot's team."""
        return Engine.open(
            self.policy,
            self.store,
            reps=snapshot.reps,
            accounts=snapshot.accounts,
            host=self.host,
            clock=self.clock,
        )

    def route(
        self,
        snapshot: Snapshot,
        *,
        adapter: Adapter | None = None,
        source: str = "library",
        progress: Progress | None = None,
        batch: bool = False,
        arrival: Callable[[Lead], datetime] | None = None,
    ) -> RunResult:
        """Route every lead of a snapshot (``leadroute.usecases.route``)."""
        return usecases.route(
            self.engine(snapshot),
            snapshot,
            adapter=adapter,
            source=source,
            progress=progress,
            batch=batch,
            arrival=arrival,
        )

    def rebalance(
        self,
        snapshot: Snapshot,
        *,
        adapter: Adapter | None = None,
        dry_run: bool = False,
        source: str = "library",
        progress: Progress | None = None,
    ) -> RebalanceResult:
        """Move owned-but-unworked leads (``leadroute.usecases.rebalance``)."""
        return usecases.rebalance(
            self.engine(snapshot),
            snapshot,
            adapter=adapter,
            dry_run=dry_run,
            source=source,
            progress=progress,
        )

    def reassign(
        self,
        snapshot: Snapshot,
        *,
        from_rep: str,
        to: str = "",
        only_unworked: bool = False,
        dry_run: bool = False,
        adapter: Adapter | None = None,
        source: str = "library",
    ) -> ReassignResult:
        """Move a departing rep's leads (``leadroute.usecases.reassign``)."""
        return usecases.reassign(
            self.engine(snapshot),
            snapshot,
            from_rep=from_rep,
            to=to,
            only_unworked=only_unworked,
            dry_run=dry_run,
            adapter=adapter,
            source=source,
        )

    def explain(self, lead_id: str) -> Decision:
        """The current decision for a lead, as recorded."""
        return explain_decision(self.store, lead_id)
