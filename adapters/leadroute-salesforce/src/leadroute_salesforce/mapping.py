"""Which Salesforce field feeds which leadroute field, and the conversion of each record.

Defaults cover standard fields; the policy's ``adapters.salesforce.fields`` overrides them
per object (``leads``, ``contacts``, ``users``, ``accounts``), maps custom fields
(``lead_type: Lead_Type__c``) and unmaps a default with ``null``. A key that is not a
leadroute field becomes a lead attribute, so routing rules can use any Salesforce field.

A value that cannot be converted raises ``BadValue`` naming the field; the reader turns it
into an exception-report row instead of losing the record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

import attrs

from leadroute.errors import PolicyError
from leadroute.models import Account, Lead, Rep
from leadroute.normalize import country_code, registrable_domain
from leadroute.numbers import RangePolicy, parse_count
from leadroute.profiles import ALIASES as PROFILE_ALIASES
from leadroute.profiles import PROFILE_FIELDS, ProfileError, profile_from_text
from leadroute_salesforce.soql import identifier

__all__ = [
    "DEFAULTS",
    "BadValue",
    "FieldMap",
    "account_from",
    "build_field_map",
    "lead_from",
    "rep_from",
    "sf_value",
]

DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "leads": {
        "email": "Email",
        "name": "Name",
        "company": "Company",
        "website": "Website",
        "country": "CountryCode",
        "state": "StateCode",
        "employees": "NumberOfEmployees",
        "phone": "Phone",
        "source": "LeadSource",
        "created_at": "CreatedDate",
        "last_activity_at": "LastActivityDate",
    },
    "contacts": {
        "email": "Email",
        "name": "Name",
        "company": "Account.Name",
        "country": "MailingCountryCode",
        "state": "MailingStateCode",
        "phone": "Phone",
        "created_at": "CreatedDate",
        "last_activity_at": "LastActivityDate",
        "account_id": "AccountId",
    },
    "users": {
        "name": "Name",
        "email": "Email",
        "active": "IsActive",
        "timezone": "TimeZoneSidKey",
        "phone": "Phone",
        "manager_id": "ManagerId",
    },
    "accounts": {"name": "Name", "website": "Website"},
}
LEAD_FIELDS = frozenset(
    {
        "email",
        "name",
        "company",
        "website",
        "country",
        "state",
        "employees",
        "language",
        "product",
        "lead_type",
        "source",
        "created_at",
        "last_activity_at",
        "phone",
    }
)
# A user may carry any rep field (custom fields in the reps.csv grammar, leadroute.profiles).
USER_FIELDS = frozenset(PROFILE_FIELDS) | frozenset(PROFILE_ALIASES)
ACCOUNT_FIELDS = frozenset({"name", "website", "status"})
ALLOWED = {"leads": None, "contacts": None, "users": USER_FIELDS, "accounts": ACCOUNT_FIELDS}
_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


class BadValue(ValueError):
    """A Salesforce value leadroute cannot use; names the leadroute field."""

    def __init__(self, field: str, code: str, message: str) -> None:
        self.field = field
        self.code = code
        super().__init__(message)


@attrs.frozen
class FieldMap:
    """leadroute field -> Salesforce field, per object (``Id`` and ``OwnerId`` are fixed)."""

    objects: Mapping[str, Mapping[str, str]]

    def of(self, kind: str) -> Mapping[str, str]:
        """The mapping of one object kind."""
        return self.objects.get(kind, {})

    def select(self, kind: str, *extra: str) -> list[str]:
        """Fields to SELECT for a kind: ``Id``, ``OwnerId``, the mapped ones, then ``extra``."""
        base = ["Id"] if kind == "users" else ["Id", "OwnerId"]
        return list(dict.fromkeys([*base, *self.of(kind).values(), *extra]))


def build_field_map(raw: Any, *, contacts: bool = False) -> FieldMap:
    """Defaults overridden by the policy's ``fields`` table (checked field by field)."""
    if not isinstance(raw, Mapping):
        raise PolicyError(
            "expected a mapping of object: {field: SalesforceField}",
            path="adapters.salesforce.fields",
        )
    objects: dict[str, dict[str, str]] = {k: dict(v) for k, v in DEFAULTS.items()}
    for kind, mapping in raw.items():
        where = f"adapters.salesforce.fields.{kind}"
        if kind not in DEFAULTS:
            raise PolicyError("expected leads, contacts, users or accounts", path=where)
        if not isinstance(mapping, Mapping):
            raise PolicyError("expected field: SalesforceField pairs", path=where)
        allowed = ALLOWED[kind]
        for field, sf_field in mapping.items():
            if field in {"id", "owner_id"}:
                raise PolicyError("Id and OwnerId are always read", path=f"{where}.{field}")
            if allowed is not None and field not in allowed:
                raise PolicyError(
                    f"unknown field (expected one of: {', '.join(sorted(allowed))})",
                    path=f"{where}.{field}",
                )
            if not re.match(r"^[a-z][a-z0-9_]*$", str(field)):
                raise PolicyError("expected a lower-case field name", path=f"{where}.{field}")
            if sf_field is None:
                objects[kind].pop(str(field), None)
                continue
            objects[kind][str(field)] = identifier(str(sf_field), path=f"{where}.{field}")
    if not contacts:
        objects.pop("contacts")
    return FieldMap(objects)


def sf_value(record: Mapping[str, Any], path: str) -> Any:
    """A field of a query record, following one relationship (``Account.Name``)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(field: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise BadValue(field, "BAD_NUMBER", f"{field}: expected a number, got {value!r}")
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        raise BadValue(field, "BAD_NUMBER", f"{field}: expected a number, got {value!r}") from None
    if number != int(number) or number < 0:
        raise BadValue(field, "BAD_NUMBER", f"{field}: expected a whole number, got {value!r}")
    return int(number)


def parse_sf_datetime(field: str, value: Any) -> datetime | None:
    """Salesforce datetimes (``2026-10-01T09:15:00.000+0000``) and dates, as aware UTC.

    A date (``LastActivityDate``) becomes the end of that day: "some activity that day"
    must count as activity after an assignment made earlier the same day, because a worked
    lead must never be moved by the rebalance.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        parsed = datetime.fromisoformat(_OFFSET.sub(r"\1:\2", text.replace("Z", "+00:00")))
    except ValueError:
        raise BadValue(
            field, "BAD_DATE", f"{field}: expected a date or time, got {value!r}"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _country(raw: Any) -> str:
    """ISO alpha-2 from a code or a country name (the ``Country`` text field has names)."""
    text = _text(raw)
    return country_code(text) or text.upper()


def _domain(raw: str) -> str:
    """The registrable domain of a website; a host the suffix list does not know is kept."""
    if found := registrable_domain(raw):
        return found
    text = raw.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.split("/", 1)[0].removeprefix("www.")


def _count(field: str, value: Any, ranges: RangePolicy) -> int | None:
    """A whole count; a picklist range (``25-50``, ``10,001+``) is read as the policy says."""
    if value in (None, "") or (isinstance(value, int | float) and not isinstance(value, bool)):
        return _int(field, value)
    try:
        return parse_count(str(value), ranges=ranges)
    except ValueError:
        raise BadValue(
            field, "BAD_NUMBER", f"{field}: expected a number or a range, got {value!r}"
        ) from None


def lead_from(
    record: Mapping[str, Any],
    mapping: Mapping[str, str],
    *,
    owner_id: str,
    origin: str,
    ranges: RangePolicy = "low",
) -> Lead:
    """A ``Lead`` from a Lead or Contact record (unknown keys become attributes).

    ``NumberOfEmployees`` is a number; a mapped picklist (``Employee_Range__c``) may hold a
    range, read as ``ranges`` says (the policy's ``validation.number_ranges``).
    """
    values = {field: sf_value(record, sf) for field, sf in mapping.items()}
    attributes = {
        field: _text(value) for field, value in values.items() if field not in LEAD_FIELDS
    }
    return Lead(
        id=_text(record.get("Id")),
        email=_text(values.get("email")),
        name=_text(values.get("name")),
        company=_text(values.get("company")),
        website=_text(values.get("website")),
        country=_country(values.get("country")),
        state=_text(values.get("state")).upper(),
        employees=_count("employees", values.get("employees"), ranges),
        phone=_text(values.get("phone")),
        language=_text(values.get("language")).lower(),
        product=_text(values.get("product")),
        lead_type=_text(values.get("lead_type")),
        source=_text(values.get("source")),
        created_at=parse_sf_datetime("created_at", values.get("created_at")),
        owner_id=owner_id,
        last_activity_at=parse_sf_datetime("last_activity_at", values.get("last_activity_at")),
        attributes=attributes,
        origin=origin,
    )


def _profile_text(value: Any, separator: str) -> Any:
    """A user field's value for the reps.csv grammar (``;`` between items)."""
    if isinstance(value, str) and separator != ";":
        return value.replace(separator, ";")
    return value


def rep_from(
    record: Mapping[str, Any],
    mapping: Mapping[str, str],
    *,
    separator: str,
    open_leads: int,
    origin: str,
) -> tuple[Rep, list[ProfileError]]:
    """A ``Rep`` from a User record, and every mapped value that could not be read.

    ``Id`` makes the rep; every mapped field (the standard ones and any custom field, such
    as skills, named accounts, working hours, leave, caps) is read with the reps.csv
    grammar of ``leadroute.profiles``. A rep with an unreadable value takes no leads until
    it is fixed (``active=False``), like a reps.csv row.
    """
    values = {
        field: _profile_text(sf_value(record, sf), separator) for field, sf in mapping.items()
    }
    base = Rep(id=_text(record.get("Id")), open_leads=open_leads, origin=origin)
    profile, errors = profile_from_text(values)
    rep = profile.apply(base)
    return (attrs.evolve(rep, active=False) if errors else rep), errors


def account_from(record: Mapping[str, Any], mapping: Mapping[str, str], *, origin: str) -> Account:
    """An ``Account`` (domain from ``Website``) from an Account record."""
    v = {field: sf_value(record, sf) for field, sf in mapping.items()}
    return Account(
        id=_text(record.get("Id")),
        name=_text(v.get("name")),
        domain=_domain(_text(v.get("website"))),
        owner_id=_text(record.get("OwnerId")),
        status=_text(v.get("status")).lower(),
        origin=origin,
    )
