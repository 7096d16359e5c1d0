"""Calling plain hook implementations without pluggy's general machinery.

A real-time decision calls ``leadroute_exclude_rep`` and ``leadroute_score_fit`` once per
rep standing (about 40 hook calls per lead on a 1,000-rep team); pluggy's general call
(argument checks, defaults, the wrapper and teardown loop) was about a third of a
decision. When a hook's implementations are all plain functions, the call is just "each
implementation in pluggy's order, its arguments by name, the non-None results in a
list", which is what ``PlainCalls.call`` does.

It answers only when that is provably the same as pluggy's call: the hook has a spec with
no argument defaults, is neither ``firstresult`` nor historic, no implementation is a
wrapper or takes keyword-only arguments, and no hook-call monitoring is installed
(``LEADROUTE_TRACE_HOOKS``, ``PluginManager.enable_tracing``). Otherwise it returns
``NOT_PLAIN`` and the host calls pluggy. The plan per hook is rebuilt whenever the
registered implementations change (a plugin registered or unregistered later).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pluggy

__all__ = ["NOT_PLAIN", "PlainCalls"]

NOT_PLAIN: Any = object()

# pluggy's own executor, as a fresh plugin manager has it: hook-call monitoring replaces it
# on the manager, which turns plain calls off. None (a pluggy without it): always pluggy.
_PLUGGY_EXECUTOR = getattr(pluggy.PluginManager("leadroute.dispatch"), "_inner_hookexec", None)

# Each implementation with a getter of its arguments (a tuple of them) from the call's kwargs.
Plan = tuple[tuple[Callable[..., Any], Callable[[Mapping[str, Any]], tuple[Any, ...]]], ...]


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``kwargs -> tuple(kwargs[n] for n in names)``, in C where it can be."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        name = names[0]
        return lambda kwargs: (kwargs[name],)
    return lambda kwargs: ()


def _plan(caller: Any, impls: Sequence[Any]) -> tuple[Plan | None, frozenset[str]]:
    """The implementations in pluggy's call order with their argument names (None when the
    hook is not plain, see the module docstring), and every argument they need."""
    spec = caller.spec
    if spec is None or spec.kwargdefaults or spec.opts.get("firstresult") or caller.is_historic():
        return None, frozenset()
    plan, needed = [], set()
    for impl in reversed(impls):  # pluggy calls the last registered first
        if impl.hookwrapper or impl.wrapper or getattr(impl, "kwargnames", ()):
            return None, frozenset()
        plan.append((impl.function, _getter(impl.argnames)))
        needed.update(impl.argnames)
    return tuple(plan), frozenset(needed)


class PlainCalls:
    """Per hook, a cached call plan over its plain implementations."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._unmonitored = _PLUGGY_EXECUTOR
        self._plans: dict[str, tuple[list[Any], Plan | None, frozenset[str]]] = {}

    def call(self, caller: pluggy.HookCaller, kwargs: Mapping[str, Any]) -> Any:
        """The hook's results as ``caller(**kwargs)`` would return them, or ``NOT_PLAIN``."""
        if self._unmonitored is None or self.pm._inner_hookexec is not self._unmonitored:
            return NOT_PLAIN
        impls = caller.get_hookimpls()
        cached = self._plans.get(caller.name)
        if cached is None or cached[0] != impls:
            cached = self._plans[caller.name] = (impls, *_plan(caller, impls))
        _, plan, needed = cached
        if plan is None or not kwargs.keys() >= needed:
            return NOT_PLAIN
        results = []
        for function, args in plan:
            result = function(*args(kwargs))
            if result is not None:
                results.append(result)
        return results
