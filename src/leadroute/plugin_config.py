"""Per-plugin settings in the policy (``plugins: {NAME: {...}}``), checked against the schema
each plugin declares.

A plugin declares its section with ``leadroute_declare_config(register)``:
``register("training_guard", TrainingGuardConfig)``, where the schema is an attrs class.
The section is structured with the policy's own converter, so a mistake reads like any
other policy error (``plugins.training_guard.max_employees: expected an integer``) and
exits 2. The raw section is part of the policy file, hence of the digest every decision
records: changing a plugin's settings changes the policy version tag.

* A declared section that is absent is built from its schema's defaults; when the schema
  has required fields, the plugin is unconfigured (``policy.plugin_config(name)`` is
  ``None``) and should do nothing.
* A section no loaded plugin declares is an error (a typo, or a plugin not installed),
  unless that plugin failed to load, which is reported on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import transform_error

from leadroute.errors import PluginError, PolicyError
from leadroute.policy import Policy, _format_exception, _path, policy_converter

__all__ = ["configure"]


def _structure(name: str, schema: type, section: Mapping[str, Any], source: str) -> Any:
    if not isinstance(section, Mapping):
        raise PolicyError("expected a mapping", path=f"plugins.{name}", source=source)
    try:
        return policy_converter().structure(dict(section), schema)
    except (ClassValidationError, IterableValidationError) as exc:
        messages = transform_error(exc, format_exception=_format_exception)
        message, _, at = messages[0].rpartition(" @ ")
        more = f" (and {len(messages) - 1} more problem(s))" if len(messages) > 1 else ""
        where = ".".join(part for part in ("plugins", name, _path(at)) if part)
        raise PolicyError(message + more, path=where, source=source) from None


def configure(
    policy: Policy,
    declared: Mapping[str, type],
    *,
    failed: Collection[str] = (),
    source: str = "leadroute.yaml",
) -> Policy:
    """The policy with each declared plugin's settings structured (``plugin_settings``).

    :raises PolicyError: a section breaks its schema, or no loaded plugin declares it.
    """
    for name in policy.plugins:
        if name not in declared and name not in failed:
            known = ", ".join(sorted(declared)) or "none"
            raise PolicyError(
                f"no loaded plugin declares this section (declared: {known})",
                path=f"plugins.{name}",
                source=source,
            )
    settings: dict[str, Any] = {}
    for name, schema in declared.items():
        if not attrs.has(schema):
            raise PluginError(
                f"plugin config {name!r}: the schema must be an attrs class, got {schema!r}"
            )
        if name in policy.plugins:
            settings[name] = _structure(name, schema, policy.plugins[name], source)
            continue
        try:
            settings[name] = policy_converter().structure({}, schema)
        except (ClassValidationError, IterableValidationError):
            continue  # required settings absent: the plugin stays unconfigured
    return attrs.evolve(policy, plugin_settings=settings)
