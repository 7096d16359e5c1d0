"""The long-lived routing engine: state built once from the store, updated as it decides.

``Engine`` is the entry point (``Engine.open(policy, store, reps=..., accounts=...)``);
``engine.decide(lead)`` is the live path. ``RoutingState`` is what it holds,
``CommitGroup`` how its decisions reach the store, ``leadroute.engine.writes`` what each
decision writes.
"""

from __future__ import annotations

from leadroute.engine.engine import Engine, Verdict
from leadroute.engine.group import CommitGroup, Committed
from leadroute.engine.state import RoutingState, carries_load, counts_usage
from leadroute.engine.writes import commit_unit, decision_effects, owner_write_effect

__all__ = [
    "CommitGroup",
    "Committed",
    "Engine",
    "RoutingState",
    "Verdict",
    "carries_load",
    "commit_unit",
    "counts_usage",
    "decision_effects",
    "owner_write_effect",
]
