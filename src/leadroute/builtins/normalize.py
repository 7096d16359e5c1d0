"""Normal forms routing can trust: ISO country, E.164 phone, tidy email and source, lead type.

A value that cannot be normalized is left as given, so validation can report it with its
original spelling (``UNKNOWN_COUNTRY``, ``INVALID_PHONE``) rather than lose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from leadroute.host import hookimpl
from leadroute.models import Lead
from leadroute.normalize import country_code, phone_e164
from leadroute.policy import Policy


def tidy_email(email: str) -> str:
    """Trim an address and lower-case its domain (the local part is the mailbox's to judge)."""
    local, at, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower().rstrip('.')}" if at and local and domain else email.strip()


def classify(lead: Lead, policy: Policy) -> str:
    """The first lead type whose conditions hold, else the default; ``""`` for neither."""
    types = policy.lead_types
    found = next((t.name for t in types.types if t.matches(lead)), "")
    return found or types.default


@hookimpl
def leadroute_normalize_lead(lead: Lead, policy: Policy) -> Mapping[str, Any]:
    """Country code from names and misspellings, E.164 phone, tidy email and source, type."""
    changes: dict[str, Any] = {}
    country = country_code(lead.country) if lead.country.strip() else ""
    if country:
        changes["country"] = country
    phone = phone_e164(lead.phone, country or lead.country) if lead.phone.strip() else ""
    if phone:
        changes["phone"] = phone
    if lead.email:
        changes["email"] = tidy_email(lead.email)
    if lead.source:
        changes["source"] = lead.source.strip().lower()
    # Types are recognised on the tidied lead, so `when: {country: GB}` sees `UK` as GB.
    lead_type = classify(attrs.evolve(lead, **changes), policy)
    if lead_type:
        changes["lead_type"] = lead_type
    return {k: v for k, v in changes.items() if v != getattr(lead, k)}
