"""The fake portal's property definitions, and the write refusals they imply.

Real HubSpot refuses a write naming a property the portal does not have
(``PROPERTY_DOESNT_EXIST``), a read-only one (``READ_ONLY_VALUE``) or a value that is not
one of an enumeration's options (``INVALID_OPTION``), each as a ``VALIDATION_ERROR``
(developers.hubspot.com/docs/api/crm/properties; crm-apis.md section 1.4, "Read-only or
unknown properties are errors"). ``GET /crm/v3/properties/{object}/{name}`` answers the
definition, with ``hasUniqueValue`` and ``modificationMetadata.readOnlyValue``, or 404
(developers.hubspot.com "Read a property").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["definition", "invalid_values", "standard_properties"]

# HubSpot's default lead status options (knowledge.hubspot.com "Lead status" property).
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
TASK_ENUMS = {
    "hs_task_status": ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
    "hs_task_priority": ("NONE", "LOW", "MEDIUM", "HIGH"),
    "hs_task_type": ("EMAIL", "CALL", "TODO"),
}
CONTACT_TEXT = (
    "email",
    "firstname",
    "lastname",
    "company",
    "website",
    "country",
    "state",
    "phone",
    "hs_language",
    "numemployees",
    "hs_analytics_source",
)
# HubSpot computes these; an integration cannot write them.
CONTACT_READ_ONLY = ("hs_object_id", "createdate", "lastmodifieddate", "notes_last_contacted")
TASK_TEXT = ("hs_timestamp", "hs_task_subject", "hs_task_body")


def definition(
    name: str,
    *,
    kind: str = "string",
    options: Iterable[str] = (),
    unique: bool = False,
    read_only: bool = False,
    hubspot_defined: bool = True,
) -> dict[str, Any]:
    """A property definition in HubSpot's shape."""
    values = list(options)
    return {
        "name": name,
        "label": name.replace("_", " ").title(),
        "type": "enumeration" if values else kind,
        "fieldType": "select" if values else "text",
        "groupName": "leadroute" if not hubspot_defined else "contactinformation",
        "options": [
            {"label": v.title(), "value": v, "displayOrder": i, "hidden": False}
            for i, v in enumerate(values)
        ],
        "hasUniqueValue": unique,
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
    }


def standard_properties(
    *, lead_statuses: Iterable[str] = LEAD_STATUSES
) -> dict[str, dict[str, dict[str, Any]]]:
    """HubSpot's default properties of the objects the adapter touches, by object type."""
    contacts = {n: definition(n) for n in CONTACT_TEXT}
    contacts |= {n: definition(n, read_only=True) for n in CONTACT_READ_ONLY}
    contacts["hubspot_owner_id"] = definition("hubspot_owner_id")  # options are the owners
    contacts["hs_lead_status"] = definition("hs_lead_status", options=lead_statuses)
    contacts["lifecyclestage"] = definition("lifecyclestage", options=LIFECYCLE_STAGES)
    tasks = {n: definition(n) for n in TASK_TEXT}
    tasks |= {n: definition(n, options=values) for n, values in TASK_ENUMS.items()}
    tasks["hubspot_owner_id"] = definition("hubspot_owner_id")
    tasks["hs_object_id"] = definition("hs_object_id", read_only=True)
    companies = {n: definition(n) for n in ("name", "domain", "country", "hubspot_owner_id")}
    companies["lifecyclestage"] = definition("lifecyclestage", options=LIFECYCLE_STAGES)
    return {"contacts": contacts, "tasks": tasks, "companies": companies}


def invalid_values(
    defined: Mapping[str, Mapping[str, Any]], values: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]] | None:
    """The ``VALIDATION_ERROR`` body one record's values earn and the properties to blame,
    or None when all are fine.

    As HubSpot answers a whole batch, the details (``PROPERTY_DOESNT_EXIST``,
    ``READ_ONLY_VALUE``, ``INVALID_OPTION``, each naming its property) are embedded in the
    message as JSON text: no record id, no structured field.
    """
    details: list[dict[str, Any]] = []
    for name, value in values.items():
        spec = defined.get(name)
        if spec is None:
            details.append(
                {
                    "isValid": False,
                    "message": f'Property "{name}" does not exist',
                    "error": "PROPERTY_DOESNT_EXIST",
                    "name": name,
                }
            )
        elif spec["modificationMetadata"]["readOnlyValue"]:
            details.append(
                {
                    "isValid": False,
                    "message": f"{name} is a read only property; its value cannot be set.",
                    "error": "READ_ONLY_VALUE",
                    "name": name,
                }
            )
        elif spec["options"] and value and value not in {o["value"] for o in spec["options"]}:
            details.append(
                {
                    "isValid": False,
                    "message": f"{value} was not one of the allowed options: "
                    + ", ".join(
                        f"[label: {o['label']!r} value: {o['value']!r}]" for o in spec["options"]
                    ),
                    "error": "INVALID_OPTION",
                    "name": name,
                }
            )
    if not details:
        return None
    body = {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": "Property values were not valid: " + _json(details),
        "correlationId": "5ae7ef0b-4a54-4d8a-a7d5-3b0f0bd87f11",
    }
    return body, [str(d["name"]) for d in details]


def _json(value: Any) -> str:
    return json.dumps(value)
