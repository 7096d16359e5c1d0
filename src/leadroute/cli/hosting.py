"""The plugin host every command uses, with ``--strict-plugins`` applied.

``leadroute --strict-plugins COMMAND`` (or ``LEADROUTE_STRICT_PLUGINS=1``) makes a plugin
that fails to load stop the command with exit 1 and one line naming it, instead of a
warning, a ``plugin_failures`` entry in ``--json`` and a note on the run's record.
"""

from __future__ import annotations

from leadroute.host import PluginHost, make_host

__all__ = ["cli_host", "set_strict"]

_strict: list[bool] = [False]


def set_strict(on: bool) -> None:
    """Turn strict plugin loading on for this process's commands (the root option)."""
    _strict[0] = on


def cli_host() -> PluginHost:
    """A host with built-ins and entry points; strict when ``--strict-plugins`` was given."""
    return make_host(strict=True if _strict[0] else None)
