"""The plugin host: built-ins first, entry points one at a time, broken plugins skipped."""

from __future__ import annotations

import types
from typing import Any

import pytest
from tests.conftest import lead

from leadroute.errors import PluginError
from leadroute.host import DEFAULT_PLUGINS, hookimpl, make_host
from leadroute.models import FitContribution


class FakeDist:
    name = "leadroute-fake"
    version = "9.9"


class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint: a name and a load()."""

    def __init__(self, name: str, plugin: Any = None, error: Exception | None = None) -> None:
        self.name = name
        self.value = f"fake_{name}"
        self.dist = FakeDist()
        self._plugin = plugin
        self._error = error

    def load(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._plugin


def plugin_module(name: str, **hooks: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, func in hooks.items():
        setattr(module, hook_name, hookimpl(func))
    return module


def good_plugin() -> types.ModuleType:
    def leadroute_validate_lead(lead, policy):
        return []

    return plugin_module("good", leadroute_validate_lead=leadroute_validate_lead)


def discover(*eps: FakeEntryPoint):
    return lambda: list(eps)


def test_builtins_are_plugins_through_the_same_hooks():
    """Every built-in behaviour is a registered plugin listed as builtin."""
    host = make_host(load_entrypoints=False)
    infos = {p.name: p for p in host.plugins()}
    assert set(DEFAULT_PLUGINS) <= set(infos)
    assert infos["leadroute.builtins.eligibility"].hooks == ("leadroute_exclude_reps",)
    assert all(infos[name].source == "builtin" for name in DEFAULT_PLUGINS)


def test_a_broken_plugin_is_skipped_and_reported():
    """A plugin that fails to import is listed as failed; the good one still loads."""
    host = make_host(
        env={},
        discover=discover(
            FakeEntryPoint("broken", error=ImportError("No module named 'nope'")),
            FakeEntryPoint("good", good_plugin()),
        ),
    )
    assert [f.name for f in host.failures] == ["broken"]
    assert "ImportError: No module named 'nope'" in host.failures[0].error
    assert host.pm.has_plugin("good")
    assert next(p for p in host.plugins() if p.name == "good").source == "leadroute-fake 9.9"


def test_strict_mode_raises_on_a_broken_plugin():
    """In strict mode a broken plugin stops start-up with a PluginError naming it."""
    with pytest.raises(PluginError, match="plugin 'broken' failed to load"):
        make_host(
            strict=True,
            env={},
            discover=discover(FakeEntryPoint("broken", error=RuntimeError("boom"))),
        )


def test_strict_mode_from_the_environment():
    """LEADROUTE_STRICT_PLUGINS=1 turns strict mode on."""
    with pytest.raises(PluginError):
        make_host(
            env={"LEADROUTE_STRICT_PLUGINS": "1"},
            discover=discover(FakeEntryPoint("broken", error=RuntimeError("boom"))),
        )


def test_a_misspelt_hook_fails_that_plugin_only():
    """An implementation of a hook that does not exist is caught by check_pending and skipped."""

    def leadroute_exclude_reps(lead, rep, ctx):
        return []

    typo = plugin_module("typo", leadroute_exclude_reps=leadroute_exclude_reps)
    host = make_host(
        env={},
        discover=discover(FakeEntryPoint("typo", typo), FakeEntryPoint("good", good_plugin())),
    )
    assert [f.name for f in host.failures] == ["typo"]
    assert "leadroute_exclude_reps" in host.failures[0].error
    assert not host.pm.has_plugin("typo") and host.pm.has_plugin("good")


def test_a_wrong_hook_signature_fails_that_plugin():
    """An implementation asking for an argument the hook does not have is rejected."""

    def leadroute_validate_lead(lead, policy, colour):
        return []

    bad = plugin_module("bad", leadroute_validate_lead=leadroute_validate_lead)
    host = make_host(env={}, discover=discover(FakeEntryPoint("bad", bad)))
    assert [f.name for f in host.failures] == ["bad"]
    assert "colour" in host.failures[0].error


@pytest.mark.parametrize(
    ("env", "loaded"),
    [
        ({}, {"one", "two"}),
        ({"LEADROUTE_LOAD_PLUGINS": "two"}, {"two"}),
        ({"LEADROUTE_LOAD_PLUGINS": ""}, set()),
        ({"LEADROUTE_DISABLE_PLUGINS": "one, two"}, set()),
        ({"LEADROUTE_LOAD_PLUGINS": "one,two", "LEADROUTE_DISABLE_PLUGINS": "one"}, {"two"}),
    ],
)
def test_allow_and_block_lists(env, loaded):
    """LEADROUTE_LOAD_PLUGINS allows by name, LEADROUTE_DISABLE_PLUGINS blocks by name."""
    host = make_host(
        env=env,
        discover=discover(
            FakeEntryPoint("one", good_plugin()), FakeEntryPoint("two", good_plugin())
        ),
    )
    assert {n for n in ("one", "two") if host.pm.has_plugin(n)} == loaded
    assert host.failures == []


def test_a_plugin_crash_during_a_call_names_the_hook(host):
    """An exception inside a hook implementation becomes a one-line PluginError naming the
    plugin, the hook and the lead."""

    def leadroute_validate_lead(lead, policy):
        raise ZeroDivisionError("oops")

    broken = make_host(
        load_entrypoints=False,
        plugins=[plugin_module("crashy", leadroute_validate_lead=leadroute_validate_lead)],
    )
    from tests.conftest import policy_from

    with pytest.raises(PluginError) as caught:
        broken.validate_lead(lead("L1"), policy_from())
    assert str(caught.value) == (
        "plugin 'crashy' failed in hook leadroute_validate_lead for lead L1: "
        "ZeroDivisionError: oops"
    )


def test_installed_csv_adapter_is_discovered_from_its_entry_point():
    """The real entry-point group yields the csv adapter of the workspace."""
    host = make_host(env={})
    assert "csv" in host.adapters().names()
    assert host.failures == []


def test_hook_tracing_logs_calls(capsys):
    """LEADROUTE_TRACE_HOOKS=1 installs call monitoring that logs each hook call."""
    import structlog

    with structlog.testing.capture_logs() as logs:
        host = make_host(load_entrypoints=False, env={"LEADROUTE_TRACE_HOOKS": "1"})
        from tests.conftest import policy_from

        host.validate_lead(lead("L1"), policy_from())
    assert any(e["event"] == "hook.call" and e["hook"] == "leadroute_validate_lead" for e in logs)


def test_normalize_first_answer_in_call_order_wins_per_field():
    """Two normalizers changing one field: the later-registered (called first) wins; others merge."""
    from tests.conftest import policy_from

    class Early:
        @hookimpl
        def leadroute_normalize_lead(self, lead, policy):
            return {"country": "IE", "source": "web"}

    class Late:
        @hookimpl
        def leadroute_normalize_lead(self, lead, policy):
            return {"country": "GB"}

    host = make_host(load_entrypoints=False, plugins=[Early(), Late()])
    normal = host.normalize_lead(lead("L1", country="Eire?", source="WEB "), policy_from())
    assert (normal.country, normal.source) == ("GB", "web")


def test_normalize_to_an_unknown_field_is_a_plugin_error():
    """A normalizer naming a field the lead does not have fails with the hook's name."""
    from tests.conftest import policy_from

    class Typo:
        @hookimpl
        def leadroute_normalize_lead(self, lead, policy):
            return {"countyr": "GB"}

    host = make_host(load_entrypoints=False, plugins=[Typo()])
    with pytest.raises(PluginError, match="leadroute_normalize_lead returned"):
        host.normalize_lead(lead("L1"), policy_from())


def test_a_crash_under_pluggy_names_the_plugin_too():
    """A crash in a firstresult hook (called through pluggy, not the plain path) names the plugin."""
    from tests.conftest import policy_from

    from leadroute.models import AccountIndex

    def leadroute_match_account(lead, accounts, policy):
        raise KeyError("acme")

    host = make_host(
        load_entrypoints=False,
        plugins=[plugin_module("matcher", leadroute_match_account=leadroute_match_account)],
    )
    with pytest.raises(PluginError) as caught:
        host.match_account(lead("L7"), AccountIndex.build([]), policy_from())
    assert str(caught.value) == (
        "plugin 'matcher' failed in hook leadroute_match_account for lead L7: KeyError: 'acme'"
    )


def _fit_ctx():
    from tests.conftest import AT, policy_from

    from leadroute.context import RoutingContext

    return RoutingContext(at=AT, policy=policy_from(), loads={}, constraints=())


@pytest.mark.parametrize(
    ("returned", "shape"),
    [
        (lambda: FitContribution(name="x", value=1.0), "a FitContribution"),
        (lambda: {"x": 1.0}, "a dict"),
        (lambda: [("x", 1.0)], "a list holding a tuple"),
        (lambda: "x", "a str"),
    ],
)
def test_a_hook_returning_the_wrong_type_is_one_line_naming_the_plugin(returned, shape):
    """A fit hook returning a lone model, a dict, tuples or text is a PluginError of one line
    naming the plugin, the hook, the lead and the expected type."""
    from tests.conftest import rep

    def leadroute_score_fit(lead, rep, ctx):
        return returned()

    host = make_host(
        load_entrypoints=False,
        plugins=[plugin_module("sloppy", leadroute_score_fit=leadroute_score_fit)],
    )
    with pytest.raises(PluginError) as caught:
        host.score_fit(lead("L9"), rep("r1"), _fit_ctx())
    assert str(caught.value) == (
        f"plugin 'sloppy': hook leadroute_score_fit returned {shape} for lead L9; "
        "expected a list of FitContribution or None"
    )


def test_a_wrong_mapping_and_a_wrong_single_result_name_the_plugin():
    """Enrichment must return a mapping and account matching an AccountMatch; each names the plugin."""
    from tests.conftest import policy_from

    from leadroute.models import AccountIndex

    def leadroute_enrich_lead(lead, policy):
        return [("region", "NA")]

    def leadroute_match_account(lead, accounts, policy):
        return "ACC-1"

    host = make_host(
        load_entrypoints=False,
        plugins=[
            plugin_module(
                "enricher",
                leadroute_enrich_lead=leadroute_enrich_lead,
                leadroute_match_account=leadroute_match_account,
            )
        ],
    )
    with pytest.raises(
        PluginError,
        match=r"^plugin 'enricher': hook leadroute_enrich_lead "
        r"returned a list holding a tuple for lead L2; expected a Mapping or None$",
    ):
        host.enrich_lead(lead("L2"), policy_from())
    with pytest.raises(
        PluginError,
        match=r"^plugin 'enricher': hook leadroute_match_account "
        r"returned a str for lead L2; expected an AccountMatch or None$",
    ):
        host.match_account(lead("L2"), AccountIndex.build([]), policy_from())


def test_a_misspelt_hook_suggests_the_nearest_name():
    """A hookimpl named leadroute_score_fitt fails to load with 'did you mean leadroute_score_fit?'."""

    def leadroute_score_fitt(lead, rep, ctx):
        return []

    typo = plugin_module("typo", leadroute_score_fitt=leadroute_score_fitt)
    host = make_host(env={}, discover=discover(FakeEntryPoint("typo", typo)))
    (failure,) = host.failures
    assert failure.name == "typo" and "\n" not in failure.error
    assert failure.error.endswith("(did you mean leadroute_score_fit?)")
