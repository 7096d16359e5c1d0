"""Per-plugin settings in the policy: checked against the plugin's schema, part of the digest."""

from __future__ import annotations

import attrs
import pytest
from tests.conftest import BASE_POLICY, policy_from

from leadroute.errors import PolicyError
from leadroute.host import hookimpl, make_host


@attrs.frozen(kw_only=True)
class GuardConfig:
    max_employees: int = 1000
    reps: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class KeyedConfig:
    api_url: str


class Declares:
    @hookimpl
    def leadroute_declare_config(self, register):
        register("guard", GuardConfig)
        register("keyed", KeyedConfig)


def host():
    return make_host(load_entrypoints=False, plugins=[Declares()])


def with_plugins(section: str):
    return policy_from(BASE_POLICY + section + "\n")


def test_a_declared_section_is_structured_into_its_schema():
    """plugins.guard becomes a GuardConfig; an absent section with defaults gets the defaults."""
    configured = host().configure(with_plugins("plugins: {guard: {max_employees: 50}}"))
    assert configured.plugin_config("guard") == GuardConfig(max_employees=50)
    defaults = host().configure(policy_from())
    assert defaults.plugin_config("guard") == GuardConfig()


def test_a_section_with_required_settings_absent_leaves_the_plugin_unconfigured():
    """A schema with a required field and no section gives None, not an error."""
    assert host().configure(policy_from()).plugin_config("keyed") is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "plugins: {guard: {max_employees: lots}}",
            "leadroute.yaml: plugins.guard.max_employees: expected a whole number, got 'lots'",
        ),
        (
            "plugins: {guard: {colour: red}}",
            "leadroute.yaml: plugins.guard: unknown key(s): colour",
        ),
        ("plugins: {keyed: {}}", "leadroute.yaml: plugins.keyed.api_url: required key missing"),
        (
            "plugins: {guard: [1, 2]}",
            "leadroute.yaml: plugins.guard: expected a mapping (key: value), got a list",
        ),
        (
            "plugins: {gaurd: {}}",
            "leadroute.yaml: plugins.gaurd: no loaded plugin declares this section "
            "(declared: guard, keyed)",
        ),
    ],
)
def test_a_bad_section_is_one_path_precise_policy_error(section, message):
    """Each mistake in a plugin's section names its path inside plugins.<name>."""
    with pytest.raises(PolicyError) as caught:
        host().configure(with_plugins(section))
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_a_section_of_a_plugin_that_failed_to_load_is_not_an_error():
    """The section of a plugin that failed to load waits; the failure is reported on its own."""
    failing = host()
    failing.failures.append(_failure("guardian"))
    configured = failing.configure(with_plugins("plugins: {guardian: {x: 1}}"))
    assert configured.plugin_config("guardian") is None


def _failure(name: str):
    from leadroute.host import PluginFailure

    return PluginFailure(name=name, error="ImportError: boom")


def test_plugin_settings_are_part_of_the_digest():
    """Changing a plugin's settings changes the policy's version tag."""
    one = with_plugins("plugins: {guard: {max_employees: 50}}")
    two = with_plugins("plugins: {guard: {max_employees: 60}}")
    assert one.version_tag != two.version_tag


def test_plugin_settings_cannot_be_written_in_the_file():
    """plugin_settings is computed; writing it in YAML is a policy error naming it."""
    with pytest.raises(PolicyError, match="'plugin_settings' is computed by leadroute"):
        with_plugins("plugin_settings: {guard: {}}")
