"""The plugin host: a factory for the plugin manager and a typed facade over its hooks.

Nothing happens at import time. ``make_host()`` registers the built-in plugins, then loads
third-party plugins from the ``leadroute`` entry-point group one at a time, so one broken
plugin is reported and skipped (``strict=True`` raises instead). Core code calls hooks
only through ``PluginHost`` methods, never ``pm.hook.*``.

Environment:
    LEADROUTE_LOAD_PLUGINS: comma-separated entry-point names; when set, only these load
        (set it to an empty string to load none).
    LEADROUTE_DISABLE_PLUGINS: comma-separated entry-point names never to load.
    LEADROUTE_STRICT_PLUGINS: ``1`` makes a broken plugin an error instead of a warning.
    LEADROUTE_TRACE_HOOKS: ``1`` logs every hook call at debug level (``hook.call``).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from leadroute import hookspecs, models
from leadroute.adapters import AdapterRegistry
from leadroute.dispatch import NOT_PLAIN, PlainCalls
from leadroute.errors import PluginError
from leadroute.logs import get_logger
from leadroute.plugin_errors import call_failure, unknown_hook_hint, wrong_type

if TYPE_CHECKING:
    import typer

    from leadroute.context import RoutingContext
    from leadroute.models import (
        AccountIndex,
        AccountMatch,
        Decision,
        Exclusion,
        ExclusionGroup,
        FitContribution,
        Lead,
        Outcome,
        Problem,
        Rep,
        ScoreContribution,
    )
    from leadroute.policy import Policy
    from leadroute.solver import BatchProblem, Solution
    from leadroute.store import Store
    from leadroute.team import Team

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "hookimpl",
    "make_host",
]

log = get_logger(__name__)

hookimpl = pluggy.HookimplMarker("leadroute")

ENTRY_POINT_GROUP = "leadroute"

# The core dogfoods its own contract: built-in behaviour is these plugins, nothing more.
# pluggy calls the last registered first, so exclusions list availability, then capacity,
# then hard constraints.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "leadroute.builtins.enrich",
    "leadroute.builtins.validate",
    "leadroute.builtins.normalize",
    "leadroute.builtins.score",
    "leadroute.builtins.matching",
    "leadroute.builtins.eligibility",
    "leadroute.builtins.capacity",
    "leadroute.builtins.availability",
    "leadroute.builtins.fit",
    "leadroute.builtins.solver",
    "leadroute.builtins.outcomes",
)


@attrs.frozen(kw_only=True)
class PluginInfo:
    """A registered plugin, for ``leadroute plugins``.

    Attributes:
        name: Registration name (module name for built-ins, entry-point name otherwise).
        source: ``builtin``, or the distribution name and version that shipped it.
        hooks: The hooks it implements, sorted.
    """

    name: str
    source: str
    hooks: tuple[str, ...]


@attrs.frozen(kw_only=True)
class PluginFailure:
    """A plugin that was skipped, and why.

    Attributes:
        name: Entry-point name.
        error: One line: the exception type and message.
    """

    name: str
    error: str


def _csv_env(env: Mapping[str, str], key: str) -> set[str] | None:
    raw = env.get(key)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


class PluginHost:
    """The typed facade over the plugin manager: one method per hook."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.failures: list[PluginFailure] = []
        self._sources: dict[str, str] = {}
        self._plain = PlainCalls(pm)

    # ----------------------------------------------------------------- registration

    def register(self, plugin: object, *, name: str, source: str) -> None:
        """Register one plugin object and check its hooks; raise ``PluginError`` if invalid."""
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {name!r}: {exc}") from exc
        try:
            # Run per plugin so a misspelt hook is pinned on the plugin that has it.
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            unknown = re.search(r"unknown hook '([^']+)'", str(exc))
            hint = unknown_hook_hint(unknown.group(1)) if unknown else ""
            raise PluginError(f"plugin {name!r}: {exc}{hint}") from exc
        self._sources[name] = source

    def unregister(self, name: str) -> None:
        """Remove a plugin registered under ``name`` (a no-op when there is none)."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self._sources.pop(name, None)

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with the hooks it implements."""
        result = []
        for name, plugin in self.pm.list_name_plugin():
            callers = self.pm.get_hookcallers(plugin) or []
            result.append(
                PluginInfo(
                    name=name,
                    source=self._sources.get(name, "registered in code"),
                    hooks=tuple(sorted(c.name for c in callers)),
                )
            )
        return sorted(result, key=lambda p: (p.source != "builtin", p.name))

    # ----------------------------------------------------------------- hooks

    def adapters(self) -> AdapterRegistry:
        """Collect adapter factories from ``leadroute_register_adapters``."""
        registry = AdapterRegistry()
        self._call("leadroute_register_adapters", {"register": registry.register})
        return registry

    def configure(self, policy: Policy, *, source: str = "leadroute.yaml") -> Policy:
        """The policy with each plugin's ``plugins.<name>`` settings checked and structured.

        :raises PolicyError: a section breaks its plugin's schema, or no plugin declares it.
        """
        from leadroute.plugin_config import configure  # noqa: PLC0415 - policy imports models

        declared: dict[str, type] = {}

        def register(name: str, schema: type) -> None:
            declared.setdefault(name, schema)

        self._call("leadroute_declare_config", {"register": register})
        failed = {f.name for f in self.failures}
        return configure(policy, declared, failed=failed, source=source)

    def register_commands(self, cli: typer.Typer) -> None:
        """Let plugins add commands to the command line."""
        self._call("leadroute_register_commands", {"cli": cli})

    def validate_lead(self, lead: Lead, policy: Policy) -> list[Problem]:
        """Every problem every validator found."""
        kwargs = {"lead": lead, "policy": policy}
        return self._items("leadroute_validate_lead", kwargs, models.Problem)

    def enrich_lead(self, lead: Lead, policy: Policy) -> Lead:
        """The lead with derived attributes merged in; input attributes are never overwritten."""
        merged = dict(lead.attributes)
        kwargs = {"lead": lead, "policy": policy}
        for derived in self._mappings("leadroute_enrich_lead", kwargs):
            for key, value in derived.items():
                if value and not merged.get(key):
                    merged[key] = str(value)
        return attrs.evolve(lead, attributes=merged)

    def normalize_lead(self, lead: Lead, policy: Policy) -> Lead:
        """The lead with normalized fields; the first implementation in call order wins."""
        changes: dict[str, Any] = {}
        kwargs = {"lead": lead, "policy": policy}
        for result in self._mappings("leadroute_normalize_lead", kwargs):
            for field, value in result.items():
                if field in _FIXED_LEAD_FIELDS:
                    raise PluginError(
                        f"hook leadroute_normalize_lead may not change the lead's {field!r} "
                        f"(lead {lead.id})"
                    )
                changes.setdefault(field, value)
        if not changes:
            return lead
        try:
            return attrs.evolve(lead, **changes)
        except TypeError as exc:
            raise PluginError(
                f"hook leadroute_normalize_lead returned {exc} (lead {lead.id})"
            ) from exc

    def score_lead(self, lead: Lead, policy: Policy, at: datetime) -> list[ScoreContribution]:
        """Every score contribution, before caps."""
        kwargs = {"lead": lead, "policy": policy, "at": at}
        return self._items("leadroute_score_lead", kwargs, models.ScoreContribution)

    def match_account(
        self, lead: Lead, accounts: AccountIndex, policy: Policy
    ) -> AccountMatch | None:
        """The first matcher's answer."""
        kwargs = {"lead": lead, "accounts": accounts, "policy": policy}
        result = self._call("leadroute_match_account", kwargs)
        if result is not None and not isinstance(result, models.AccountMatch):
            raise self._wrong_type("leadroute_match_account", kwargs, models.AccountMatch)
        return result

    def exclude_rep(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Exclusion]:
        """Every exclusion any plugin raised for this rep."""
        kwargs = {"lead": lead, "rep": rep, "ctx": ctx}
        return self._items("leadroute_exclude_rep", kwargs, models.Exclusion)

    def exclude_reps(
        self, lead: Lead, team: Team, rep_ids: Sequence[str], ctx: RoutingContext
    ) -> list[ExclusionGroup]:
        """Every exclusion group any plugin raised for these reps."""
        kwargs = {"lead": lead, "team": team, "rep_ids": rep_ids, "ctx": ctx}
        return self._items("leadroute_exclude_reps", kwargs, models.ExclusionGroup)

    def score_fit(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> list[FitContribution]:
        """Every fit contribution, unweighted."""
        kwargs = {"lead": lead, "rep": rep, "ctx": ctx}
        return self._items("leadroute_score_fit", kwargs, models.FitContribution)

    def solve(self, problem: BatchProblem) -> Solution:
        """The first solver's solution (the built-in flow solver answers last)."""
        from leadroute.solver import Solution  # noqa: PLC0415 - numpy/OR-Tools only when solving

        kwargs = {"problem": problem}
        solution = self._call("leadroute_solve", kwargs)
        if not isinstance(solution, Solution):
            raise self._wrong_type("leadroute_solve", kwargs, Solution)
        return solution

    def decision_made(self, decision: Decision) -> None:
        """Broadcast a committed decision."""
        self._call("leadroute_decision_made", {"decision": decision})

    def record_outcome(self, outcome: Outcome, store: Store) -> None:
        """Broadcast an outcome the store has not seen (the built-in plugin stores it)."""
        self._call("leadroute_record_outcome", {"outcome": outcome, "store": store})

    def _call(self, hook_name: str, kwargs: Mapping[str, Any]) -> Any:
        caller = getattr(self.pm.hook, hook_name)
        try:
            # Plain implementations are called directly (``leadroute.dispatch``).
            results = self._plain.call(caller, kwargs)
            if results is not NOT_PLAIN:
                return results
            return caller(**kwargs)
        except PluginError:
            raise
        except Exception as exc:
            # A plugin bug must not look like a routing decision: name the plugin, the hook
            # and the lead, in one line. Worked out only now, so calls that succeed pay nothing.
            raise PluginError(call_failure(caller, kwargs, exc)) from exc

    def _items(self, hook_name: str, kwargs: Mapping[str, Any], kind: type) -> list[Any]:
        """A collect hook's results flattened, each item checked to be a ``kind``."""
        items: list[Any] = []
        append = items.append
        try:
            for result in self._call(hook_name, kwargs):
                if result:
                    for item in result:  # a lone model (not a list) raises TypeError here
                        if item.__class__ is not kind and not isinstance(item, kind):
                            raise TypeError(hook_name)
                        append(item)
        except TypeError:
            raise self._wrong_type(hook_name, kwargs, kind) from None
        return items

    def _mappings(self, hook_name: str, kwargs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """A collect hook's mapping results (``None`` results dropped), each checked."""
        results = [r for r in self._call(hook_name, kwargs) if r]
        if any(not isinstance(r, Mapping) for r in results):
            raise self._wrong_type(hook_name, kwargs, Mapping)
        return results

    def _wrong_type(self, hook_name: str, kwargs: Mapping[str, Any], kind: type) -> PluginError:
        """The error for a hook that returned something its contract forbids, naming the
        plugin that did (found by asking each implementation again: this path ends the run)."""
        caller = getattr(self.pm.hook, hook_name)
        return PluginError(wrong_type(caller, kwargs, kind))


# Identity and provenance are the adapter's; derived attributes belong to enrichment.
_FIXED_LEAD_FIELDS = frozenset({"id", "attributes", "origin"})


def _entry_points() -> Sequence[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        log.debug("hook.call", hook=hook_name, plugins=[i.plugin_name for i in impls])

    def after(outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Any) -> None:
        log.debug("hook.return", hook=hook_name, failed=outcome.exception is not None)

    pm.add_hookcall_monitoring(before, after)


def make_host(
    *,
    strict: bool | None = None,
    load_entrypoints: bool = True,
    plugins: Sequence[object] = (),
    env: Mapping[str, str] | None = None,
    discover: Callable[[], Sequence[EntryPoint]] = _entry_points,
) -> PluginHost:
    """Build a plugin host: built-ins, then entry points, then ``plugins`` given in code.

    :param strict: Raise on the first broken plugin instead of skipping it (default from
        ``LEADROUTE_STRICT_PLUGINS``).
    :param load_entrypoints: Load third-party plugins from the ``leadroute`` group.
    :param plugins: Extra plugin objects or modules (tests, library users).
    :param env: Environment to read the allow/deny lists from (default ``os.environ``).
    :param discover: Entry-point discovery (tests inject fakes).
    """
    env = os.environ if env is None else env
    strict = env.get("LEADROUTE_STRICT_PLUGINS") == "1" if strict is None else strict
    pm = pluggy.PluginManager("leadroute")
    pm.add_hookspecs(hookspecs)
    if env.get("LEADROUTE_TRACE_HOOKS") == "1":
        _trace(pm)
    host = PluginHost(pm)
    for module_name in DEFAULT_PLUGINS:
        host.register(importlib.import_module(module_name), name=module_name, source="builtin")
    if load_entrypoints:
        _load_entrypoints(host, discover(), env, strict=strict)
    for index, plugin in enumerate(plugins):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
        host.register(plugin, name=str(name), source="registered in code")
    return host


def _load_entrypoints(
    host: PluginHost, eps: Sequence[EntryPoint], env: Mapping[str, str], *, strict: bool
) -> None:
    allow = _csv_env(env, "LEADROUTE_LOAD_PLUGINS")
    deny = _csv_env(env, "LEADROUTE_DISABLE_PLUGINS") or set()
    for ep in sorted(eps, key=lambda e: e.name):
        if (allow is not None and ep.name not in allow) or ep.name in deny:
            log.info("plugin.skipped", plugin=ep.name, reason="disabled by environment")
            continue
        if host.pm.has_plugin(ep.name):
            continue
        try:
            plugin: ModuleType | object = ep.load()
            dist = ep.dist
            source = f"{dist.name} {dist.version}" if dist else ep.value
            host.register(plugin, name=ep.name, source=source)
        except Exception as exc:  # a broken third-party plugin can raise anything on import
            message = (
                exc.args[0] if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
            )
            # pluggy's validation messages span lines; the report is one line, all of it kept.
            failure = PluginFailure(name=ep.name, error=" ".join(str(message).split()))
            if strict:
                raise PluginError(f"plugin {ep.name!r} failed to load: {failure.error}") from exc
            host.failures.append(failure)
            log.warning("plugin.load_failed", plugin=ep.name, error=failure.error)
