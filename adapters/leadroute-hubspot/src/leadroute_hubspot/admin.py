"""What a HubSpot admin must grant and create for the adapter, as data the docs are checked against.

``docs/adapters/hubspot.md`` lists every scope, property and option here; a test fails
when the code uses one the page does not name.
"""

from __future__ import annotations

import attrs

from leadroute_hubspot.adapter import COMPANY_PROPERTIES
from leadroute_hubspot.mapping import BASE_PROPERTIES, DEFAULT_PROPERTIES, OPTIONS, TASK_KEYS
from leadroute_hubspot.outcomes import ACTIVITIES, KEYS
from leadroute_hubspot.properties import TASK_PROPERTIES
from leadroute_hubspot.reps import USER_PROPERTIES

__all__ = ["PROPERTIES_READ", "SCOPES", "SETTINGS", "Scope"]


@attrs.frozen
class Scope:
    """One OAuth scope (or private-app / service-key permission) and why it is needed.

    Attributes:
        name: The scope.
        why: What the adapter does with it.
        when: The option that needs it (``""``: always).
    """

    name: str
    why: str
    when: str = ""


SCOPES = (
    Scope(
        "crm.objects.contacts.read",
        "search contacts; read owners back after a write; read contact property history; "
        "search calls, emails, meetings, notes and tasks; read property definitions",
    ),
    Scope(
        "crm.objects.contacts.write",
        "write hubspot_owner_id and on_routed/on_fallback; create, upsert and associate tasks",
    ),
    Scope("crm.objects.companies.read", "companies, their owners and contact associations"),
    Scope("crm.objects.owners.read", "owners, active and deactivated, with their teams"),
    Scope("crm.objects.users.read", "each user's time zone, hours, out-of-office...", "users"),
)

# Object -> every property the adapter reads (besides the policy's own mappings).
PROPERTIES_READ: dict[str, tuple[str, ...]] = {
    "contacts": (
        *BASE_PROPERTIES,
        *DEFAULT_PROPERTIES.values(),
        "lastmodifieddate",
    ),
    "companies": COMPANY_PROPERTIES,
    "users": USER_PROPERTIES,
    "activities": ("hs_timestamp", "hubspot_owner_id", "hs_createdate", "hs_email_direction"),
    "tasks": TASK_PROPERTIES,
}

# Every key of adapters.hubspot, of its tasks table and of its outcomes table.
SETTINGS: dict[str, frozenset[str]] = {
    "adapters.hubspot": OPTIONS,
    "adapters.hubspot.tasks": TASK_KEYS,
    "adapters.hubspot.outcomes": KEYS,
}
ACTIVITY_OBJECTS = ACTIVITIES
