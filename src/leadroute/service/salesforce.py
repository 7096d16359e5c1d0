"""Salesforce without code: a record-triggered Flow's HTTP callout, or an Outbound Message.

Both are set up by an admin in Setup, without Apex (docs/service.md walks through it):

* **Flow HTTP callout** (JSON): the Flow posts ``{"organization_id", "event_id", "lead":
  {...fields...}}`` with the shared secret in the ``X-Leadroute-Secret`` header, which
  the admin stores in an External Credential (never in the Flow itself).
* **Outbound Message** (SOAP XML, parsed with defusedxml): the endpoint URL carries the
  shared secret as ``?secret=...``; each ``Notification`` holds the Lead's chosen fields.
  Salesforce retries until it receives ``<Ack>true</Ack>`` and may deliver twice or out
  of order, so each notification ``Id`` is handled once (Salesforce API guide,
  "Outbound Messaging Notifications").

Either way the secret is compared in constant time, and when the service knows the org
(``LEADROUTE_SALESFORCE_ORG_ID``), the request must name that org. Nothing is parsed
before the secret has been checked.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

import attrs
import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

from leadroute.service.problems import ProblemError

__all__ = [
    "ACK",
    "ORG_ENV",
    "SECRET_ENV",
    "SalesforceLead",
    "parse_flow",
    "parse_outbound",
    "verify_secret",
]

SECRET_ENV = "LEADROUTE_SALESFORCE_SECRET"  # noqa: S105 - the variable's name
ORG_ENV = "LEADROUTE_SALESFORCE_ORG_ID"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)
# Salesforce Lead field -> leadroute lead field; other fields become attributes.
SF_FIELDS = {
    "Id": "id",
    "Email": "email",
    "Company": "company",
    "Website": "website",
    "Country": "country",
    "CountryCode": "country",
    "State": "state",
    "StateCode": "state",
    "NumberOfEmployees": "employees",
    "LeadSource": "source",
    "Phone": "phone",
    "CreatedDate": "created_at",
}


@attrs.frozen(kw_only=True)
class SalesforceLead:
    """One lead Salesforce told us about.

    Attributes:
        event_id: The delivery's id (Flow interview id or Outbound Message notification Id).
        fields: The lead's fields, named as ``POST /v1/leads`` names them.
    """

    event_id: str
    fields: Mapping[str, str]


def verify_secret(given: str, secret: str) -> None:
    """A 401 problem unless ``given`` is the shared secret (constant-time comparison)."""
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise ProblemError(401, "unauthorized", "Salesforce secret missing or wrong")


def _check_org(org: str, expected: str) -> None:
    # Salesforce shows 15- and 18-character forms of one id; the first 15 are the id.
    if expected and org[:15] != expected[:15]:
        raise ProblemError(401, "unauthorized", "the request names another Salesforce org")


def _scalar(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ProblemError(
        422, "invalid-field", "Invalid field", f"lead.{name} must be a value", field=f"lead.{name}"
    )


def parse_flow(body: bytes, expected_org: str) -> list[SalesforceLead]:
    """The lead of a Flow HTTP callout body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProblemError(400, "malformed", "Body is not JSON") from None
    if not isinstance(data, dict):
        raise ProblemError(400, "malformed", "Body must be a JSON object")
    _check_org(str(data.get("organization_id", "")), expected_org)
    lead = data.get("lead")
    if not isinstance(lead, dict):
        raise ProblemError(
            422, "invalid-field", "Invalid field", "lead must be an object", field="lead"
        )
    fields = {str(k): _scalar(str(k), v) for k, v in lead.items()}
    if not fields.get("id"):
        raise ProblemError(
            422, "invalid-field", "Invalid field", "lead.id is required", field="lead.id"
        )
    event_id = _scalar("event_id", data.get("event_id")) or f"flow:{fields['id']}"
    return [SalesforceLead(event_id=event_id, fields=fields)]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def parse_outbound(body: bytes, expected_org: str) -> list[SalesforceLead]:
    """The leads of an Outbound Message (SOAP), one per ``Notification``."""
    try:
        root = SafeXML.fromstring(body)
    except (SafeXML.ParseError, DefusedXmlException, ValueError):
        raise ProblemError(400, "malformed", "Body is not a safe XML document") from None
    notifications = next((e for e in root.iter() if _local(e.tag) == "notifications"), None)
    if notifications is None:
        raise ProblemError(400, "malformed", "No notifications element in the SOAP body")
    org = _child(notifications, "OrganizationId")
    _check_org((org.text or "") if org is not None else "", expected_org)
    leads = []
    for index, note in enumerate(n for n in notifications if _local(n.tag) == "Notification"):
        note_id = _child(note, "Id")
        record = _child(note, "sObject")
        if note_id is None or not note_id.text or record is None:
            raise ProblemError(
                422,
                "invalid-field",
                "Invalid notification",
                "each Notification needs an Id and an sObject",
                field=f"Notification[{index}]",
            )
        fields: dict[str, str] = {}
        for child in record:
            name = _local(child.tag)
            value = (child.text or "").strip()
            if name in ("fieldsToNull",):
                continue
            fields[SF_FIELDS.get(name, name.lower())] = value
        if not fields.get("id"):
            raise ProblemError(
                422,
                "invalid-field",
                "Invalid notification",
                "sObject has no Id",
                field=f"Notification[{index}].sObject.Id",
            )
        leads.append(SalesforceLead(event_id=note_id.text.strip(), fields=fields))
    return leads
