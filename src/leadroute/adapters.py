"""The contract between the core and a backend (CSV, HubSpot, Salesforce).

An adapter distribution registers a factory under a name through the
``leadroute_register_adapters`` hook; the core builds the adapter with an
``AdapterConfig`` and then only ever calls the three methods of ``Adapter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs

from leadroute.models import Effect, EffectResult, InputProblem, Snapshot

if TYPE_CHECKING:
    from leadroute.policy import Policy

__all__ = ["Adapter", "AdapterConfig", "AdapterFactory", "AdapterRegistry", "OwnerReader"]


@attrs.frozen(kw_only=True)
class AdapterConfig:
    """Everything an adapter factory may use to build an adapter.

    Attributes:
        policy: The loaded policy (column/property mappings live in ``policy.adapters``).
        options: The adapter's own settings: the policy's ``adapters.<name>`` table merged
            with command-line overrides (for CSV: ``input_dir`` and ``output_dir``).
        workdir: Directory for checkpoints and outputs when the options name none.
        purpose: What the run reads for: ``route`` (leads waiting for an owner) or
            ``rebalance`` (owned leads, with their last activity, that may move). A CRM
            adapter queries differently for each; a file adapter may ignore it.
    """

    policy: Policy
    options: Mapping[str, Any] = attrs.field(factory=dict)
    workdir: Path = attrs.field(factory=Path.cwd)
    purpose: Literal["route", "rebalance"] = "route"


@runtime_checkable
class Adapter(Protocol):
    """A backend the core reads from and applies decisions to."""

    name: str

    def read(self) -> Snapshot:
        """Read leads to route, reps and accounts; unusable records go in ``problems``."""
        ...

    def apply(self, effects: Sequence[Effect]) -> Sequence[EffectResult]:
        """Apply side effects idempotently (re-applying a key changes nothing); one result each."""
        ...

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        """Publish the exception report for this run (every record that was not routed)."""
        ...


@runtime_checkable
class OwnerReader(Protocol):
    """An adapter that can read back the owners it wrote (an optional capability).

    A CRM's workflows and assignment rules may change an owner after the write that
    triggered them, on their own schedule; the relay re-reads each owner write once,
    ``owner_settle`` after it was applied, and records what the CRM holds then.
    """

    owner_settle: timedelta

    def current_owners(self, lead_ids: Sequence[str]) -> Mapping[str, str]:
        """The owner each lead holds now (``""``: none); a lead the target lost is absent."""
        ...


AdapterFactory = Callable[[AdapterConfig], Adapter]


class AdapterRegistry:
    """Adapter factories by name, filled through ``leadroute_register_adapters``."""

    def __init__(self) -> None:
        self._factories: dict[str, AdapterFactory] = {}

    def register(self, name: str, factory: AdapterFactory) -> None:
        """Register ``factory`` under ``name``; the first registration of a name wins."""
        self._factories.setdefault(name, factory)

    def names(self) -> list[str]:
        """Registered adapter names, sorted."""
        return sorted(self._factories)

    def get(self, name: str) -> AdapterFactory | None:
        """The factory registered under ``name``."""
        return self._factories.get(name)
