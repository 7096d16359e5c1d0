"""Checking, once per run, that every property the adapter writes exists and takes its values.

Real HubSpot refuses a write naming a property the portal lacks (or a value outside an
enumeration's options) with a 400 for the whole batch; every owner write would then die
the same way. So before the first write (and at the start of a read), the adapter reads
each property it will write with ``GET /crm/v3/properties/{object}/{name}``
(developers.hubspot.com "Read a property") and stops with a ``ConfigurationError`` naming
the property, which an admin must create. The same read tells whether the task key
property holds unique values (``hasUniqueValue``): tasks are then upserted by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from leadroute.errors import ConfigurationError
from leadroute.logs import get_logger
from leadroute_hubspot.client import HubSpotClient, Rejected
from leadroute_hubspot.mapping import HubSpotSettings

__all__ = ["TASK_PROPERTIES", "PropertyCheck", "written_properties"]

log = get_logger(__name__)

# Task properties every follow-up task writes (the key property comes from the settings).
TASK_PROPERTIES = (
    "hs_timestamp",
    "hs_task_subject",
    "hs_task_body",
    "hubspot_owner_id",
    "hs_task_status",
    "hs_task_priority",
    "hs_task_type",
)


def written_properties(settings: HubSpotSettings) -> list[tuple[str, str, str]]:
    """Every (object type, property, fixed value) the adapter writes; value "" when it varies."""
    found = [("contacts", "hubspot_owner_id", "")]
    for values in (settings.on_routed, settings.on_fallback):
        found += [("contacts", name, str(value)) for name, value in values.items()]
    if settings.tasks.enabled:
        names = (*TASK_PROPERTIES, settings.tasks.key_property)
        found += [("tasks", name, "") for name in names]
    return list(dict.fromkeys(found))


@attrs.define
class PropertyCheck:
    """The run's property check: done once, remembered.

    Attributes:
        client: The HubSpot client.
        settings: What the adapter writes.
        checked: Whether the check has run (it runs once per adapter).
        unique_task_key: Whether ``tasks.key_property`` holds unique values.
    """

    client: HubSpotClient
    settings: HubSpotSettings
    checked: bool = False
    unique_task_key: bool = False

    def ensure(self) -> None:
        """Read every written property's definition once; raise ``ConfigurationError`` on a gap."""
        if self.checked:
            return
        specs: dict[tuple[str, str], Mapping[str, Any]] = {}
        for kind, name, value in written_properties(self.settings):
            if (kind, name) not in specs:
                specs[kind, name] = self._definition(kind, name)
            _check_value(kind, name, specs[kind, name], value)
        key = specs.get(("tasks", self.settings.tasks.key_property), {})
        self.unique_task_key = bool(key.get("hasUniqueValue"))
        self.checked = True
        log.info("hubspot.properties_checked", unique_task_key=self.unique_task_key)

    def _definition(self, kind: str, name: str) -> Mapping[str, Any]:
        path = self.client.properties(kind, name)
        result = self.client.request("GET", path)
        if isinstance(result, Rejected):
            if result.status == 404:
                raise ConfigurationError(
                    f"HubSpot has no {_singular(kind)} property {name!r}: create it "
                    f"(Settings > Properties > {kind.title()}), or change the policy's "
                    "adapters.hubspot section; nothing was written"
                )
            raise ConfigurationError(
                f"HubSpot refused to read the {_singular(kind)} property {name!r}: "
                f"HTTP {result.status} {result.category}: {result.message}"
            )
        body: Mapping[str, Any] = result.json()
        return body


def _check_value(kind: str, name: str, spec: Mapping[str, Any], value: str) -> None:
    metadata = spec.get("modificationMetadata") or {}
    if metadata.get("readOnlyValue"):
        raise ConfigurationError(
            f"the {_singular(kind)} property {name!r} is read-only in HubSpot: leadroute "
            "cannot write it; remove it from the policy"
        )
    options = [str(o.get("value")) for o in spec.get("options") or []]
    if value and options and value not in options:
        raise ConfigurationError(
            f"{value!r} is not an option of the {_singular(kind)} property {name!r} "
            f"(options: {', '.join(options)}); add it in HubSpot or change the policy"
        )


def _singular(kind: str) -> str:
    return kind.removesuffix("s")
