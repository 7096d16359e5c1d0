"""Plain hook calls: the same results as pluggy's call, or pluggy's call itself."""

from __future__ import annotations

import types
from typing import Any

import pytest
from tests.conftest import AT, lead, policy_from, rep

from leadroute.context import RoutingContext
from leadroute.dispatch import NOT_PLAIN, PlainCalls
from leadroute.errors import PluginError
from leadroute.host import hookimpl, make_host
from leadroute.models import Exclusion, FitContribution

POLICY = policy_from()


def _ctx(loads: dict[str, int] | None = None) -> RoutingContext:
    return RoutingContext(
        at=AT, policy=POLICY, loads=loads or {}, constraints=("capacity", "hours"), rule="r"
    )


def _module(name: str, **hooks: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, func in hooks.items():
        setattr(module, hook_name, hookimpl(func))
    return module


def _both(host: Any, hook_name: str, **kwargs: Any) -> tuple[Any, Any]:
    caller = getattr(host.pm.hook, hook_name)
    return PlainCalls(host.pm).call(caller, kwargs), caller(**kwargs)


@pytest.mark.parametrize(
    "subject",
    [
        rep("a"),
        rep("b", active=False),
        rep("c", cap=2, languages=("de",), products=("crm",)),
    ],
)
def test_builtin_per_rep_hooks_answer_as_pluggy_does(subject):
    """The per-rep exclusion and fit hooks give pluggy's results, exclusions and all."""
    host = make_host(load_entrypoints=False)
    ctx, who = _ctx({"c": 2}), lead("L1", language="de", product="crm")
    for hook_name in ("leadroute_exclude_rep", "leadroute_score_fit"):
        plain, pluggy_result = _both(host, hook_name, lead=who, rep=subject, ctx=ctx)
        assert plain is not NOT_PLAIN
        assert plain == pluggy_result


def test_a_plugin_registered_later_is_called_in_pluggys_order():
    """The call plan is rebuilt when plugins change: a new plugin's answer comes first, as in
    pluggy (last registered, first called), and is gone once it is unregistered."""
    host = make_host(load_entrypoints=False)
    subject, who, ctx = rep("a", cap=1), lead("L1"), _ctx({"a": 1})
    before = host.exclude_rep(who, subject, ctx)
    extra = Exclusion(rep_id="a", code="CUSTOM", detail="plugin says no")
    host.register(
        _module("late", leadroute_exclude_rep=lambda rep: [extra]), name="late", source="test"
    )
    host.register(_module("quiet", leadroute_exclude_rep=lambda: None), name="quiet", source="test")
    plain, pluggy_result = _both(host, "leadroute_exclude_rep", lead=who, rep=subject, ctx=ctx)
    assert plain == pluggy_result
    assert plain[0] == [extra]
    host.unregister("quiet")
    assert host.exclude_rep(who, subject, ctx) == [extra, *before]
    host.unregister("late")
    assert host.exclude_rep(who, subject, ctx) == before


def test_a_wrapper_is_left_to_pluggy():
    """A hook with a wrapper implementation is not plain: pluggy runs it, wrapper included."""
    seen: list[str] = []

    def leadroute_score_fit(lead, rep, ctx):
        seen.append(rep.id)
        return (yield)

    wrapper = types.ModuleType("wrapping")
    wrapper.leadroute_score_fit = hookimpl(wrapper=True)(leadroute_score_fit)  # type: ignore[attr-defined]
    host = make_host(load_entrypoints=False, plugins=[wrapper])
    caller = host.pm.hook.leadroute_score_fit
    kwargs = {"lead": lead("L1"), "rep": rep("a"), "ctx": _ctx()}
    assert PlainCalls(host.pm).call(caller, kwargs) is NOT_PLAIN
    contributions = host.score_fit(**kwargs)
    assert seen == ["a"]
    assert {c.name for c in contributions} >= {"language", "headroom"}
    assert all(isinstance(c, FitContribution) for c in contributions)


def test_first_result_hooks_are_left_to_pluggy():
    """``firstresult`` hooks (account matching) stop at the first answer: pluggy's call."""
    host = make_host(load_entrypoints=False)
    caller = host.pm.hook.leadroute_match_account
    from leadroute.models import AccountIndex

    kwargs = {"lead": lead("L1"), "accounts": AccountIndex.build([]), "policy": POLICY}
    assert PlainCalls(host.pm).call(caller, kwargs) is NOT_PLAIN


def test_hook_monitoring_turns_plain_calls_off():
    """With call monitoring installed (tracing), every call goes through pluggy so the
    monitor sees it."""
    host = make_host(load_entrypoints=False)
    called: list[str] = []
    host.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: called.append(name), lambda *a: None
    )
    host.exclude_rep(lead("L1"), rep("a"), _ctx())
    assert called == ["leadroute_exclude_rep"]


def test_a_crash_in_a_plain_implementation_names_the_hook():
    """An exception raised on the plain path becomes a PluginError naming plugin, hook and lead."""

    def leadroute_exclude_rep(lead, rep, ctx):
        raise ZeroDivisionError("oops")

    host = make_host(
        load_entrypoints=False,
        plugins=[_module("crashy", leadroute_exclude_rep=leadroute_exclude_rep)],
    )
    with pytest.raises(PluginError) as caught:
        host.exclude_rep(lead("L1"), rep("a"), _ctx())
    assert str(caught.value) == (
        "plugin 'crashy' failed in hook leadroute_exclude_rep for lead L1: ZeroDivisionError: oops"
    )
