"""The policy's ``adapters.hubspot`` table, checked, and HubSpot records turned into leadroute models.

HubSpot sends every property value as a string (``"17"``, ``"false"``, ms-epoch or ISO
dates); this module is the one place that reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from leadroute.destinations import TrustedOrigins, check_destination
from leadroute.errors import PolicyError
from leadroute.models import Account, InputProblem, Lead, Rep
from leadroute.normalize import country_code
from leadroute.numbers import RangePolicy, parse_count
from leadroute.policy import parse_duration
from leadroute.profiles import PROFILE_FIELDS, RepProfile, profile_from_text
from leadroute_hubspot.outcomes import OutcomeSettings, outcome_settings
from leadroute_hubspot.timestamps import parse_timestamp

__all__ = [
    "API_HOST",
    "DEFAULT_PROPERTIES",
    "ENV_TRUSTED_ORIGINS",
    "HubSpotSettings",
    "TaskSettings",
    "account_from_company",
    "lead_from_contact",
    "owner_teams",
    "parse_timestamp",
    "rep_from_owner",
    "settings_from_options",
]

# HubSpot's API host: the only place the token and the OAuth secrets go by default.
API_HOST = "api.hubapi.com"
# Other origins (a proxy, a mock) are allowed only from the environment, next to the token.
ENV_TRUSTED_ORIGINS = "HUBSPOT_TRUSTED_ORIGINS"

# Lead field -> HubSpot contact property. ``name`` defaults to firstname + lastname.
DEFAULT_PROPERTIES: Mapping[str, str] = {
    "email": "email",
    "company": "company",
    "website": "website",
    "country": "country",
    "state": "state",
    "employees": "numemployees",
    "language": "hs_language",
    "source": "hs_analytics_source",
    "last_activity_at": "notes_last_contacted",
    "phone": "phone",
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
        "last_activity_at",
        "phone",
    }
)
# Always read: identity, owner, lifecycle and creation time.
BASE_PROPERTIES = (
    "hs_object_id",
    "hubspot_owner_id",
    "createdate",
    "lifecyclestage",
    "hs_lead_status",
    "firstname",
    "lastname",
)
# Rep fields the policy's ``reps`` table and ``user_properties`` may set (reps.csv's columns).
REP_KEYS = frozenset({*PROFILE_FIELDS, "max_open"})
OPTIONS = frozenset(
    {
        "api_version",
        "base_url",
        "properties",
        "lifecycle_stages",
        "created_since",
        "lookback",
        "page_size",
        "on_routed",
        "on_fallback",
        "tasks",
        "reps",
        "reps_file",
        "users",
        "user_properties",
        "teams_as_pools",
        "override_check_after",
        "outcomes",
        "input_dir",
        "output_dir",
    }
)
TASK_KEYS = frozenset({"enabled", "due_after", "subject", "priority", "key_property"})
PRIORITIES = frozenset({"LOW", "MEDIUM", "HIGH"})


@attrs.frozen(kw_only=True)
class TaskSettings:
    """Follow-up tasks created for the new owner.

    Attributes:
        enabled: Whether to create them.
        due_after: Due this long after the decision (``hs_timestamp``).
        subject: Subject template (``{lead_id}``, ``{name}``, ``{company}`` are filled in).
        priority: Priority by lead type; the ``default`` key applies to the rest.
        key_property: A custom text property on tasks holding leadroute's idempotency key.
    """

    enabled: bool = False
    due_after: timedelta = timedelta(hours=1)
    subject: str = "Follow up: new lead {name}"
    priority: Mapping[str, str] = attrs.field(factory=lambda: {"default": "MEDIUM"})
    key_property: str = "leadroute_key"


@attrs.frozen(kw_only=True)
class HubSpotSettings:
    """The adapter's checked settings.

    Attributes:
        api_version: ``v3`` or a date version (``2026-03``).
        base_url: API host (``https://api.hubapi.com``; another origin only when
            ``HUBSPOT_TRUSTED_ORIGINS`` lists it).
        properties: Lead field -> contact property.
        lifecycle_stages: Only contacts in these stages are read (empty: any).
        created_since: Only contacts created at or after this instant (None: any).
        lookback: Subtracted from ``created_since``: search indexes new records late.
        page_size: Search page size (HubSpot allows at most 200).
        on_routed: Contact properties written with the owner when a rep owns the lead.
        on_fallback: Contact properties written with the owner when it went to the queue.
        tasks: Follow-up tasks.
        reps: Per-owner rep profiles (any reps.csv field), by owner id or email.
        reps_file: A reps.csv overlay merged onto the owners by id or email ("": none).
        users: Read HubSpot's users object (time zone, working hours, out of office,
            availability, language skills, phone) for every owner.
        user_properties: Rep field -> a (custom) property of the users object, read with
            the reps.csv grammar (``skills: leadroute_skills``).
        teams_as_pools: Owners' HubSpot teams become pool memberships.
        output_dir: Where the exception report is written ("" = the working directory).
        number_ranges: How a range in ``numemployees`` (``25-50``) is read: the policy's
            ``validation.number_ranges``.
        override_check_after: How long after an owner write it is read back to catch a
            workflow that changed it (workflows run after the write, asynchronously).
        outcomes: What reps did after routing, read back on every read.
    """

    api_version: str = "v3"
    base_url: str = "https://api.hubapi.com"
    properties: Mapping[str, str] = attrs.field(factory=lambda: dict(DEFAULT_PROPERTIES))
    lifecycle_stages: tuple[str, ...] = ()
    created_since: datetime | None = None
    lookback: timedelta = timedelta(minutes=10)
    page_size: int = 200
    on_routed: Mapping[str, str] = attrs.field(factory=dict)
    on_fallback: Mapping[str, str] = attrs.field(factory=dict)
    tasks: TaskSettings = attrs.field(factory=TaskSettings)
    reps: Mapping[str, RepProfile] = attrs.field(factory=dict)
    reps_file: str = ""
    users: bool = False
    user_properties: Mapping[str, str] = attrs.field(factory=dict)
    teams_as_pools: bool = True
    output_dir: str = ""
    number_ranges: RangePolicy = "low"
    override_check_after: timedelta = timedelta(minutes=5)
    outcomes: OutcomeSettings = attrs.field(factory=OutcomeSettings)

    def contact_properties(self) -> list[str]:
        """Every contact property a read asks for."""
        return sorted(set(BASE_PROPERTIES) | {p for p in self.properties.values() if p})


def _path(key: str) -> str:
    return f"adapters.hubspot.{key}"


def _string_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PolicyError("expected a mapping of names to values", path=_path(key))
    return {str(k): str(v) for k, v in value.items()}


def _duration(value: Any, key: str) -> timedelta:
    try:
        return parse_duration(str(value))
    except (PolicyError, ValueError):
        raise PolicyError(
            f"{value!r} is not a duration (e.g. 10m, 4h, 2d)", path=_path(key)
        ) from None


def _check_keys(options: Mapping[str, Any]) -> None:
    for key in options:
        if key not in OPTIONS:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(OPTIONS))})", path=_path(key)
            )
        if any(word in key.lower() for word in ("token", "secret", "password")):
            raise PolicyError("secrets never go in the policy", path=_path(key))


def _reps_option(reps: Any) -> dict[str, RepProfile]:
    """Per-owner profiles (by owner id or email), read with the reps.csv grammar."""
    if not isinstance(reps, Mapping):
        raise PolicyError("expected owner id or email: attributes", path=_path("reps"))
    profiles: dict[str, RepProfile] = {}
    for owner, values in reps.items():
        if not isinstance(values, Mapping):
            raise PolicyError("expected a mapping", path=_path(f"reps.{owner}"))
        for name in values:
            if name not in REP_KEYS:
                raise PolicyError(
                    f"unknown rep attribute (expected one of: {', '.join(sorted(REP_KEYS))})",
                    path=_path(f"reps.{owner}.{name}"),
                )
        profile, errors = profile_from_text(values)
        if errors:
            first = errors[0]
            field = (
                "max_open" if first.field == "capacity" and "max_open" in values else first.field
            )
            raise PolicyError(str(first), path=_path(f"reps.{owner}.{field}"))
        profiles[str(owner)] = profile
    return profiles


def _user_properties(value: Any) -> dict[str, str]:
    mapping = _string_map(value, "user_properties")
    for field in mapping:
        if field not in REP_KEYS:
            raise PolicyError(
                f"unknown rep field (expected one of: {', '.join(sorted(REP_KEYS))})",
                path=_path(f"user_properties.{field}"),
            )
    return mapping


def _base_url(value: Any, env: Mapping[str, str]) -> str:
    """The API base URL, if credentials may go there (see ``leadroute.destinations``)."""
    destination = check_destination(
        str(value),
        vendor=lambda host: host == API_HOST,
        vendor_hosts=f"https://{API_HOST}",
        trusted=TrustedOrigins.from_env(env, ENV_TRUSTED_ORIGINS),
        path=_path("base_url"),
    )
    return destination.url


def settings_from_options(
    options: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> HubSpotSettings:
    """Check the ``adapters.hubspot`` table; every error names its path.

    ``env`` (default: the process environment) may hold ``HUBSPOT_TRUSTED_ORIGINS``, the
    only way to point ``base_url`` anywhere but HubSpot's API host.
    """
    _check_keys(options)
    properties = dict(DEFAULT_PROPERTIES)
    for field, prop in _string_map(options.get("properties", {}), "properties").items():
        if field not in LEAD_FIELDS and not field.startswith("attributes."):
            raise PolicyError(
                f"unknown lead field (expected attributes.<name> or one of: "
                f"{', '.join(sorted(LEAD_FIELDS))})",
                path=_path(f"properties.{field}"),
            )
        properties[field] = prop
    stages = options.get("lifecycle_stages", [])
    if not isinstance(stages, Sequence) or isinstance(stages, str):
        raise PolicyError(
            "expected a list of lifecycle stage values", path=_path("lifecycle_stages")
        )
    since = options.get("created_since")
    created_since = None
    if since is not None:
        created_since = parse_timestamp(str(since)) if not isinstance(since, datetime) else since
        if created_since is None:
            raise PolicyError(f"{since!r} is not an ISO date-time", path=_path("created_since"))
        created_since = created_since if created_since.tzinfo else created_since.replace(tzinfo=UTC)
    page_size = options.get("page_size", 200)
    if not isinstance(page_size, int) or not 1 <= page_size <= 200:
        raise PolicyError("expected a whole number from 1 to 200", path=_path("page_size"))
    version = str(options.get("api_version", "v3"))
    if version not in {"v3"} and not (len(version) == 7 and version[4] == "-"):
        raise PolicyError(
            "expected v3 or a date version such as 2026-03", path=_path("api_version")
        )
    return HubSpotSettings(
        api_version=version,
        base_url=_base_url(
            options.get("base_url", f"https://{API_HOST}"), os.environ if env is None else env
        ),
        properties=properties,
        lifecycle_stages=tuple(str(s) for s in stages),
        created_since=created_since,
        lookback=_duration(options.get("lookback", "10m"), "lookback"),
        page_size=page_size,
        on_routed=_string_map(options.get("on_routed", {}), "on_routed"),
        on_fallback=_string_map(options.get("on_fallback", {}), "on_fallback"),
        tasks=_task_settings(options.get("tasks", {})),
        reps=_reps_option(options.get("reps", {})),
        reps_file=str(options.get("reps_file", "")),
        users=bool(options.get("users", False)),
        user_properties=_user_properties(options.get("user_properties", {})),
        teams_as_pools=bool(options.get("teams_as_pools", True)),
        override_check_after=_duration(
            options.get("override_check_after", "5m"), "override_check_after"
        ),
        outcomes=outcome_settings(options.get("outcomes")),
        output_dir=str(options.get("output_dir", "")),
    )


def _task_settings(value: Any) -> TaskSettings:
    if not isinstance(value, Mapping):
        raise PolicyError("expected a mapping", path=_path("tasks"))
    for key in value:
        if key not in TASK_KEYS:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(TASK_KEYS))})",
                path=_path(f"tasks.{key}"),
            )
    priority = {"default": "MEDIUM", **_string_map(value.get("priority", {}), "tasks.priority")}
    for kind, level in priority.items():
        if level.upper() not in PRIORITIES:
            raise PolicyError("expected LOW, MEDIUM or HIGH", path=_path(f"tasks.priority.{kind}"))
    return TaskSettings(
        enabled=bool(value.get("enabled", bool(value))),
        due_after=_duration(value.get("due_after", "1h"), "tasks.due_after"),
        subject=str(value.get("subject", TaskSettings().subject)),
        priority={k.lower(): v.upper() for k, v in priority.items()},
        key_property=str(value.get("key_property", "leadroute_key")),
    )


# --------------------------------------------------------------------------- values


def lead_from_contact(contact: Mapping[str, Any], settings: HubSpotSettings) -> Lead | InputProblem:
    """A lead from a contact search result, or the problem that makes it unusable."""
    contact_id = str(contact.get("id", ""))
    props: Mapping[str, Any] = contact.get("properties") or {}

    def prop(field: str) -> str:
        name = settings.properties.get(field, "")
        value = props.get(name) if name else None
        return "" if value is None else str(value).strip()

    def problem(field: str, code: str, message: str) -> InputProblem:
        return InputProblem(
            file="hubspot:contacts",
            line=None,
            record_id=contact_id,
            kind="lead",
            field=field,
            code=code,
            message=message,
        )

    if not contact_id:
        return problem("id", "MISSING_ID", "contact has no id")
    # HubSpot's company-size dropdown holds ranges ("25-50", "10,001+"): read as the
    # policy says, never a rejection; only a value that is no number at all is one.
    try:
        employees = parse_count(prop("employees"), ranges=settings.number_ranges)
    except ValueError:
        prop_name = settings.properties["employees"]
        return problem(
            "employees",
            "BAD_NUMBER",
            f"{prop_name} {prop('employees')!r} is not a number or a range of numbers",
        )
    activity_text = prop("last_activity_at")
    last_activity = parse_timestamp(activity_text)
    if activity_text and last_activity is None:
        prop_name = settings.properties["last_activity_at"]
        return problem(
            "last_activity_at", "BAD_DATE", f"{prop_name} {activity_text!r} is not a date"
        )
    name = (
        prop("name")
        or " ".join(str(props.get(p) or "").strip() for p in ("firstname", "lastname")).strip()
    )
    country = prop("country")
    attributes = {
        field.removeprefix("attributes."): prop(field)
        for field in settings.properties
        if field.startswith("attributes.") and prop(field)
    }
    for extra in ("lifecyclestage", "hs_lead_status"):
        if props.get(extra):
            attributes.setdefault(extra, str(props[extra]))
    return Lead(
        id=contact_id,
        email=prop("email"),
        name=name,
        company=prop("company"),
        website=prop("website"),
        # HubSpot's country property is free text ("Germany", "UK"): routing needs ISO codes.
        country=country_code(country) or country,
        state=prop("state"),
        employees=employees,
        language=prop("language").lower()[:2],
        product=prop("product"),
        lead_type=prop("lead_type"),
        source=prop("source"),
        created_at=parse_timestamp(str(props.get("createdate") or contact.get("createdAt") or "")),
        owner_id=str(props.get("hubspot_owner_id") or ""),
        last_activity_at=last_activity,
        attributes=attributes,
        origin=f"hubspot:contacts/{contact_id}",
        phone=prop("phone"),
    )


def rep_from_owner(owner: Mapping[str, Any], open_leads: int = 0) -> Rep:
    """The rep an owner record gives (profiles add the rest); archived and queue owners are inactive."""
    owner_id = str(owner["id"])
    email = str(owner.get("email") or "")
    is_person = str(owner.get("type") or "PERSON") == "PERSON"
    name = " ".join(str(owner.get(k) or "").strip() for k in ("firstName", "lastName")).strip()
    return Rep(
        id=owner_id,
        name=name or email,
        email=email,
        active=is_person and not owner.get("archived", False),
        open_leads=open_leads,
        origin=f"hubspot:owners/{owner_id}",
    )


def owner_teams(owner: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of an owner's HubSpot teams."""
    return tuple(str(t.get("name", "")) for t in owner.get("teams") or () if t.get("name"))


def account_from_company(company: Mapping[str, Any]) -> Account:
    """An account from a HubSpot company."""
    props: Mapping[str, Any] = company.get("properties") or {}
    company_id = str(company["id"])
    return Account(
        id=company_id,
        name=str(props.get("name") or ""),
        domain=str(props.get("domain") or "").strip().lower(),
        owner_id=str(props.get("hubspot_owner_id") or ""),
        status=str(props.get("lifecyclestage") or ""),
        origin=f"hubspot:companies/{company_id}",
    )
