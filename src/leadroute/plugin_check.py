"""``leadroute plugins --check``: what a plugin author got wrong that loading alone does not say.

A plugin that fails to load is already reported (``PluginHost.failures``). These are the
mistakes that load *silently*:

* a module with no ``@leadroute.hookimpl`` at all, which registers and does nothing;
* a function named like a hook but not marked ``@leadroute.hookimpl`` (pluggy ignores it);
* a function whose ``leadroute_`` name is not a hook, with the nearest hook name.

Built-in plugins are not checked: they are the project's own and tested.
"""

from __future__ import annotations

import attrs

from leadroute.host import PluginHost
from leadroute.plugin_errors import HOOK_NAMES, unknown_hook_hint

__all__ = ["PluginFinding", "check_plugins"]

_MARK = "leadroute_impl"  # the attribute pluggy's HookimplMarker("leadroute") sets


@attrs.frozen(kw_only=True)
class PluginFinding:
    """One problem with one plugin, for ``leadroute plugins --check``.

    Attributes:
        plugin: The plugin's name (entry-point name, or module name for one given in code).
        problem: One line saying what is wrong and what to do.
    """

    plugin: str
    problem: str


def _unmarked(plugin: object) -> list[str]:
    """Names of callables on ``plugin`` that start with ``leadroute_`` and carry no hookimpl mark."""
    names = []
    for name in sorted(dir(plugin)):
        if not name.startswith("leadroute_"):
            continue
        value = getattr(plugin, name, None)
        if callable(value) and not hasattr(value, _MARK):
            names.append(name)
    return names


def check_plugins(host: PluginHost) -> list[PluginFinding]:
    """Every load failure, then the silent mistakes of each third-party plugin, in name order."""
    findings = [
        PluginFinding(plugin=f.name, problem=f"failed to load: {f.error}") for f in host.failures
    ]
    for info in host.plugins():
        if info.source == "builtin":
            continue
        plugin = host.pm.get_plugin(info.name)
        for name in _unmarked(plugin):
            if name in HOOK_NAMES:
                problem = f"{name} is not marked @leadroute.hookimpl, so it is never called"
            else:
                problem = f"{name} is not a hook{unknown_hook_hint(name)}"
            findings.append(PluginFinding(plugin=info.name, problem=problem))
        if not info.hooks:
            findings.append(
                PluginFinding(
                    plugin=info.name,
                    problem="implements no hooks (mark each hook function @leadroute.hookimpl)",
                )
            )
    return findings
