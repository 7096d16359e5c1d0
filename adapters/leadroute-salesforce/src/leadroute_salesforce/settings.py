"""The ``adapters.salesforce`` table of the policy, checked, plus secrets from the environment.

Everything that is not secret may live in the policy (or in an environment variable, which
wins). Secrets come only from the environment: the JWT private key
(``LEADROUTE_SALESFORCE_PRIVATE_KEY`` as PEM text, or ``..._PRIVATE_KEY_FILE`` as a path)
and the client secret (``LEADROUTE_SALESFORCE_CLIENT_SECRET``). A policy that names one of
them is refused, so a key never ends up in a file that is committed and audited.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from leadroute.destinations import TrustedOrigins, check_destination, parse_url
from leadroute.errors import AuthError, PolicyError
from leadroute.models import OutcomeKind
from leadroute.numbers import RangePolicy
from leadroute.policy import parse_duration
from leadroute_salesforce.auth import (
    DEFAULT_DOMAINS,
    ClientCredentialsGrant,
    Grant,
    JwtBearerGrant,
)
from leadroute_salesforce.client import DEFAULT_API_VERSION
from leadroute_salesforce.mapping import FieldMap, build_field_map
from leadroute_salesforce.outcomes import OutcomeSettings
from leadroute_salesforce.soql import identifier

__all__ = ["ENV", "Settings", "TaskSettings", "default_audience", "load_settings"]

ENV = {
    "client_id": "LEADROUTE_SALESFORCE_CLIENT_ID",
    "username": "LEADROUTE_SALESFORCE_USERNAME",
    "login_url": "LEADROUTE_SALESFORCE_LOGIN_URL",
    "audience": "LEADROUTE_SALESFORCE_AUDIENCE",
    "private_key": "LEADROUTE_SALESFORCE_PRIVATE_KEY",
    "private_key_file": "LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE",
    "client_secret": "LEADROUTE_SALESFORCE_CLIENT_SECRET",
    "trusted_origins": "LEADROUTE_SALESFORCE_TRUSTED_ORIGINS",
}
SECRET_OPTIONS = frozenset({"private_key", "private_key_file", "client_secret", "password"})
OPTIONS = frozenset(
    {
        "auth",
        "login_url",
        "audience",
        "client_id",
        "username",
        "api_version",
        "allowed_domains",
        "query_batch_size",
        "created_since",
        "route_queues",
        "unowned_owners",
        "exclude_statuses",
        "contacts",
        "accounts",
        "fields",
        "list_separator",
        "tasks",
        "limits",
        "lock_retries",
        "output_dir",
        "timeout",
        "write_fields",
        "outcomes",
        "reps_file",
        "out_of_office",
        "bulk_threshold",
    }
)
# Decision facts that may be written to Lead fields alongside the owner.
WRITABLE = frozenset(
    {
        "lead_type",
        "priority",
        "sla_due_at",
        "lifecycle_stage",
        "score",
        "rule",
        "pool",
        "queue",
        "reason",
        "step",
        "status",
        "policy_version",
        "decision_id",
    }
)
_VERSION = re.compile(r"^\d{2,3}\.0$")
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_PLAIN_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})
PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"
# Hosts of sandboxes and scratch orgs: enhanced My Domain (``acme--uat.sandbox.my.salesforce.com``,
# ``acme.scratch.my.salesforce.com``), the generic ``test`` login host, and the legacy ``csNN``
# instances (``acme--uat.cs42.my.salesforce.com``). Their JWTs must be audienced at
# ``https://test.salesforce.com`` (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
# Server-to-Server Integration", the ``aud`` claim).
_SANDBOX_HOST = re.compile(
    r"^(test\.salesforce\.com"
    r"|[a-z0-9-]+\.(sandbox|scratch)\.my\.salesforce\.com"
    r"|([a-z0-9-]+\.)?cs\d+(\.my)?\.salesforce\.com)$"
)
# A My Domain login host: acme.my.salesforce.com, acme--uat.sandbox.my.salesforce.com,
# acme-dev-ed.develop.my.salesforce.com (one or two labels in front of my.salesforce.com).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_MY_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})?\.my\.salesforce\.com")


def _login_host(host: str) -> bool:
    """Salesforce's login hosts and My Domains: where the JWT or client secret may go."""
    return host in _PLAIN_LOGIN_HOSTS or _MY_DOMAIN.fullmatch(host) is not None


def _my_domain(host: str) -> bool:
    """A My Domain host (client credentials are refused on login/test.salesforce.com)."""
    return _MY_DOMAIN.fullmatch(host) is not None


@attrs.frozen(kw_only=True)
class TaskSettings:
    """Follow-up tasks created for the new owner.

    Attributes:
        enabled: Whether to create them.
        external_id_field: The Task field (External ID, unique) holding leadroute's key.
        subject: Task subject.
        status: Task status picklist value.
        due_in_days: ``ActivityDate`` is the decision's date plus this many days.
        priority: Lead type -> ``High``/``Normal``/``Low``; ``default`` for the rest.
    """

    enabled: bool = False
    external_id_field: str = "Leadroute_Key__c"
    subject: str = "Follow up: new lead"
    status: str = "Not Started"
    due_in_days: int = 1
    priority: Mapping[str, str] = attrs.field(factory=lambda: {"default": "Normal"})

    def priority_for(self, lead_type: str) -> str:
        """The priority for a lead type (case-insensitive), else the default."""
        table = {k.lower(): v for k, v in self.priority.items()}
        return table.get(lead_type.strip().lower(), table.get("default", "Normal"))


DEFAULT_TASK = TaskSettings()


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the adapter needs, validated.

    Attributes:
        grant: How to log in (holds the secret; never shown in ``repr``).
        api_version: REST API version.
        allowed_domains: Domains ``instance_url`` may be on.
        query_batch_size: ``Sforce-Query-Options`` batch size (200..2000).
        created_since: Only leads created at or after this instant, when set.
        route_queues: Queue ids whose leads wait for routing; empty = every queue.
        unowned_owners: User ids whose records count as having no owner.
        exclude_statuses: Lead statuses never read (closed ones).
        contacts: Also route contacts owned by an ``unowned_owners`` user.
        accounts: Read accounts for account matching.
        fields: Field mapping per object.
        list_separator: Separator of list values in mapped text fields.
        tasks: Follow-up task settings.
        slow_down_at: Share of the daily allocation after which calls are paced.
        reserve: Share of the daily allocation left untouched.
        lock_retries: Extra rounds for records that hit ``UNABLE_TO_LOCK_ROW``.
        output_dir: Where the exception report goes.
        timeout: HTTP timeout in seconds.
        write_fields: Decision fact -> Salesforce field written with the owner.
        outcomes: What is read back as outcomes (touches, meetings, status changes,
            conversions).
        number_ranges: How a range where a count belongs (``25-50``) is read: the policy's
            ``validation.number_ranges``.
        reps_file: A reps.csv overlay merged onto the users by id or email, or ``None``.
        out_of_office: Read Out of Office periods (``OutOfOffice``) as leave.
        bulk_threshold: A read matching more records than this runs as a Bulk API 2.0
            query job (0: never).
    """

    grant: Grant = attrs.field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    allowed_domains: tuple[str, ...] = DEFAULT_DOMAINS
    query_batch_size: int = 2000
    created_since: datetime | None = None
    route_queues: tuple[str, ...] = ()
    unowned_owners: tuple[str, ...] = ()
    exclude_statuses: tuple[str, ...] = ("Closed - Not Converted",)
    contacts: bool = False
    accounts: bool = True
    fields: FieldMap
    list_separator: str = ";"
    tasks: TaskSettings = attrs.field(factory=TaskSettings)
    slow_down_at: float = 0.8
    reserve: float = 0.05
    lock_retries: int = 3
    output_dir: Path
    timeout: float = 30.0
    write_fields: Mapping[str, str] = attrs.field(factory=dict)
    outcomes: OutcomeSettings = attrs.field(factory=OutcomeSettings)
    number_ranges: RangePolicy = "low"
    reps_file: Path | None = None
    out_of_office: bool = True
    bulk_threshold: int = 50_000


def _write_fields(raw: Any) -> dict[str, str]:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise PolicyError(
            "expected decision fact: SalesforceField pairs", path=_path("write_fields")
        )
    fields = {}
    for key, sf_field in raw.items():
        where = f"{_path('write_fields')}.{key}"
        if key not in WRITABLE:
            raise PolicyError(
                f"unknown fact (expected one of: {', '.join(sorted(WRITABLE))})", path=where
            )
        if str(sf_field) == "OwnerId":
            raise PolicyError("the owner is always written", path=where)
        fields[str(key)] = identifier(str(sf_field), path=where)
    return fields


def _path(key: str) -> str:
    return f"adapters.salesforce.{key}"


def _text(options: Mapping[str, Any], env: Mapping[str, str], key: str, default: str = "") -> str:
    value = env.get(ENV[key], "") if key in ENV else ""
    return value or str(options.get(key, default) or "")


def _ids(options: Mapping[str, Any], key: str, prefix: tuple[str, ...]) -> tuple[str, ...]:
    raw = options.get(key, [])
    if not isinstance(raw, list | tuple):
        raise PolicyError("expected a list of Salesforce ids", path=_path(key))
    ids = tuple(str(v).strip() for v in raw)
    for i, value in enumerate(ids):
        if not _ID.match(value) or not value.startswith(prefix):
            raise PolicyError(
                f"{value!r} is not a Salesforce id starting with {' or '.join(prefix)}",
                path=f"{_path(key)}[{i}]",
            )
    return ids


def _number(
    options: Mapping[str, Any], key: str, default: float, low: float, high: float, within: str = ""
) -> float:
    raw = options.get(key, default)
    where = _path(f"{within}.{key}" if within else key)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise PolicyError("expected a number", path=where) from None
    if not low <= value <= high:
        raise PolicyError(f"expected a number from {low:g} to {high:g}", path=where)
    return value


def _since(raw: Any, now: datetime) -> datetime | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    text = str(raw).strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return now - parse_duration(text)
        except (ValueError, TypeError):
            raise PolicyError(
                "expected an ISO time (2026-10-01T00:00:00Z) or a duration (30d, 12h)",
                path=_path("created_since"),
            ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _private_key(env: Mapping[str, str]) -> str:
    text = env.get(ENV["private_key"], "")
    if text:
        return text.replace("\\n", "\n")
    path = env.get(ENV["private_key_file"], "")
    if not path:
        raise AuthError(
            f"JWT bearer needs the private key: set {ENV['private_key_file']} (a path to the "
            f"PEM file) or {ENV['private_key']} (the PEM text)"
        )
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # The path itself is configuration of a secret: do not echo it.
        raise AuthError(
            f"cannot read the private key file named by {ENV['private_key_file']}"
        ) from None


def _grant(options: Mapping[str, Any], env: Mapping[str, str]) -> Grant:
    flow = str(options.get("auth", "jwt"))
    if flow not in {"jwt", "client_credentials"}:
        raise PolicyError("expected jwt or client_credentials", path=_path("auth"))
    client_id = _text(options, env, "client_id")
    if not client_id:
        raise AuthError(
            f"Salesforce consumer key missing: set {ENV['client_id']} or adapters.salesforce.client_id"
        )
    default_login = "https://login.salesforce.com" if flow == "jwt" else ""
    raw_login = _text(options, env, "login_url", default_login)
    if flow == "client_credentials" and raw_login.strip().rstrip("/").lower() in {
        f"https://{h}" for h in _PLAIN_LOGIN_HOSTS
    }:
        raise PolicyError(
            "client credentials only work against your My Domain URL "
            "(https://yourcompany.my.salesforce.com), not login/test.salesforce.com",
            path=_path("login_url"),
        )
    # Where the signed assertion or the client secret goes: Salesforce's hosts only,
    # unless LEADROUTE_SALESFORCE_TRUSTED_ORIGINS (environment, never policy) lists it.
    login = check_destination(
        raw_login,
        vendor=_login_host if flow == "jwt" else _my_domain,
        vendor_hosts=(
            "your My Domain (https://yourcompany.my.salesforce.com, sandboxes "
            "https://yourcompany--name.sandbox.my.salesforce.com)"
            + (
                ", https://login.salesforce.com or https://test.salesforce.com"
                if flow == "jwt"
                else ""
            )
        ),
        trusted=TrustedOrigins.from_env(env, ENV["trusted_origins"]),
        path=_path("login_url"),
    )
    token_url = f"{login.url}/services/oauth2/token"
    host = login.host
    if flow == "client_credentials":
        secret = env.get(ENV["client_secret"], "")
        if not secret:
            raise AuthError(f"client credentials need {ENV['client_secret']} (the consumer secret)")
        if _text(options, env, "audience"):
            raise PolicyError("only the JWT bearer flow has an audience", path=_path("audience"))
        return ClientCredentialsGrant(
            token_url=token_url, client_id=client_id, client_secret=secret
        )
    username = _text(options, env, "username")
    if not username:
        raise AuthError(
            f"JWT bearer needs the integration user: set {ENV['username']} or "
            "adapters.salesforce.username"
        )
    return JwtBearerGrant(
        token_url=token_url,
        client_id=client_id,
        username=username,
        audience=_audience(options, env, host),
        private_key=_private_key(env),
    )


def default_audience(host: str) -> str:
    """The JWT ``aud`` for a login host: ``test.salesforce.com`` for sandboxes, else ``login``."""
    return SANDBOX_AUDIENCE if _SANDBOX_HOST.match(host.lower()) else PRODUCTION_AUDIENCE


def _audience(options: Mapping[str, Any], env: Mapping[str, str], host: str) -> str:
    """The ``audience`` option (an https URL: an Experience Cloud site), else the default."""
    audience = _text(options, env, "audience").rstrip("/")
    if not audience:
        return default_audience(host)
    if not re.match(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?$", audience):
        raise PolicyError(
            "expected https://login.salesforce.com, https://test.salesforce.com or your "
            "Experience Cloud site URL",
            path=_path("audience"),
        )
    return audience


def _allowed_domains(raw: Any, env: Mapping[str, str]) -> tuple[str, ...]:
    """Domains ``instance_url`` may be on: the policy may narrow Salesforce's, never widen them.

    A domain outside Salesforce's own (a government cloud's, a proxy's) is accepted only
    when ``LEADROUTE_SALESFORCE_TRUSTED_ORIGINS`` lists it (``.example.gov``), and those
    domains are added whether or not the policy names them.
    """
    where = _path("allowed_domains")
    if not isinstance(raw, list | tuple) or not all(isinstance(d, str) and d for d in raw):
        raise PolicyError("expected a list of domains", path=where)
    trusted = TrustedOrigins.from_env(env, ENV["trusted_origins"])
    hosts = (parse_url(origin) for origin in sorted(trusted.origins))
    extra = trusted.domains + tuple(f".{h.host}" for h in hosts if h and h.scheme == "https")
    for i, domain in enumerate(raw):
        name = domain.strip().lower().lstrip(".")
        if not any(name == d.lstrip(".") or name.endswith(d) for d in DEFAULT_DOMAINS + extra):
            raise PolicyError(
                f"{domain!r} is not a Salesforce domain; the policy may only narrow the list "
                f"({', '.join(DEFAULT_DOMAINS)}); list another domain in the environment "
                f"variable {ENV['trusted_origins']} (next to the secret, never in the policy)",
                path=f"{where}[{i}]",
            )
    return tuple(dict.fromkeys([*(str(d) for d in raw), *extra]))


_OUTCOME_KINDS = {
    k.value: k
    for k in (
        OutcomeKind.FIRST_TOUCH,
        OutcomeKind.MEETING_BOOKED,
        OutcomeKind.CONVERTED,
        OutcomeKind.ACCEPTED,
        OutcomeKind.REJECTED,
    )
}


def _outcomes(raw: Any) -> OutcomeSettings:
    """``outcomes``: ``false``, ``true`` or a table (checked key by key)."""
    where = _path("outcomes")
    if raw is None or raw is True:
        return OutcomeSettings()
    if raw is False:
        return OutcomeSettings(enabled=False)
    if not isinstance(raw, Mapping):
        raise PolicyError("expected true, false or a mapping", path=where)
    known = {"enabled", "since", "task_subtypes", "statuses", "meetings"}
    for key in raw:
        if key not in known:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(known))})",
                path=f"{where}.{key}",
            )
    default = OutcomeSettings()
    since = default.since
    if "since" in raw:
        try:
            since = parse_duration(str(raw["since"]))
        except (ValueError, TypeError):
            raise PolicyError("expected a duration (30d, 12h)", path=f"{where}.since") from None
        if since.total_seconds() <= 0:
            raise PolicyError("expected a duration longer than zero", path=f"{where}.since")
    subtypes = raw.get("task_subtypes", [])
    if not isinstance(subtypes, list | tuple) or not all(isinstance(x, str) for x in subtypes):
        raise PolicyError("expected a list of TaskSubtype values", path=f"{where}.task_subtypes")
    statuses_raw = raw.get("statuses", dict(default.statuses))
    if not isinstance(statuses_raw, Mapping):
        raise PolicyError("expected Lead Status: outcome pairs", path=f"{where}.statuses")
    statuses = {}
    for status, kind in statuses_raw.items():
        if str(kind) not in _OUTCOME_KINDS:
            raise PolicyError(
                f"expected one of: {', '.join(sorted(_OUTCOME_KINDS))}",
                path=f"{where}.statuses.{status}",
            )
        statuses[str(status)] = _OUTCOME_KINDS[str(kind)]
    return OutcomeSettings(
        enabled=bool(raw.get("enabled", True)),
        since=since,
        task_subtypes=tuple(subtypes),
        statuses=statuses,
        meetings=bool(raw.get("meetings", True)),
    )


def _bulk_threshold(raw: Any) -> int:
    """0 (never) or at least 2,000 records: below one REST page a job only adds calls."""
    where = _path("bulk_threshold")
    if isinstance(raw, bool):
        raise PolicyError("expected a number of records", path=where)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise PolicyError("expected a number of records", path=where) from None
    if value != 0 and value < 2000:
        raise PolicyError("expected 0 (never) or at least 2000", path=where)
    return value


def _tasks(raw: Any) -> TaskSettings:
    if raw in (None, False):
        return TaskSettings()
    if raw is True:
        return TaskSettings(enabled=True)
    if not isinstance(raw, Mapping):
        raise PolicyError("expected true or a mapping", path=_path("tasks"))
    known = {"enabled", "external_id_field", "subject", "status", "due_in_days", "priority"}
    for key in raw:
        if key not in known:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(known))})",
                path=f"{_path('tasks')}.{key}",
            )
    priority = raw.get("priority", {"default": "Normal"})
    if not isinstance(priority, Mapping) or any(
        str(v) not in {"High", "Normal", "Low"} for v in priority.values()
    ):
        raise PolicyError(
            "expected lead type: High, Normal or Low", path=f"{_path('tasks')}.priority"
        )
    try:
        due = int(raw.get("due_in_days", 1))
    except (TypeError, ValueError):
        raise PolicyError("expected whole days", path=f"{_path('tasks')}.due_in_days") from None
    subject = str(raw.get("subject", DEFAULT_TASK.subject))
    if not subject or len(subject) > 255:
        raise PolicyError("expected 1 to 255 characters", path=f"{_path('tasks')}.subject")
    return TaskSettings(
        enabled=bool(raw.get("enabled", True)),
        external_id_field=identifier(
            str(raw.get("external_id_field", DEFAULT_TASK.external_id_field)),
            path=f"{_path('tasks')}.external_id_field",
        ),
        subject=subject,
        status=str(raw.get("status", DEFAULT_TASK.status)),
        due_in_days=due,
        priority={str(k): str(v) for k, v in priority.items()},
    )


def load_settings(
    options: Mapping[str, Any],
    *,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Settings:
    """Check the ``adapters.salesforce`` table and read secrets from the environment."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    for key in options:
        if key in SECRET_OPTIONS:
            names = " / ".join(v for k, v in ENV.items() if k.startswith(key.split("_")[0]))
            raise PolicyError(
                f"secrets never go in the policy: set {names or 'the environment variable'}",
                path=_path(key),
            )
        if key not in OPTIONS:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(OPTIONS))})", path=_path(key)
            )
    version = str(options.get("api_version", DEFAULT_API_VERSION))
    if not _VERSION.match(version):
        raise PolicyError("expected a version like 67.0", path=_path("api_version"))
    domains = _allowed_domains(options.get("allowed_domains", list(DEFAULT_DOMAINS)), env)
    statuses = options.get("exclude_statuses", ["Closed - Not Converted"])
    if not isinstance(statuses, list | tuple):
        raise PolicyError("expected a list of lead statuses", path=_path("exclude_statuses"))
    separator = str(options.get("list_separator", ";"))
    if not separator:
        raise PolicyError("expected a non-empty separator", path=_path("list_separator"))
    limits = options.get("limits", {})
    if not isinstance(limits, Mapping) or set(limits) - {"slow_down_at", "reserve"}:
        raise PolicyError("expected slow_down_at and/or reserve", path=_path("limits"))
    unowned = _ids(options, "unowned_owners", ("005",))
    contacts = bool(options.get("contacts", False))
    if contacts and not unowned:
        raise PolicyError(
            "routing contacts needs unowned_owners (the users whose contacts wait for an owner)",
            path=_path("contacts"),
        )
    return Settings(
        grant=_grant(options, env),
        api_version=version,
        allowed_domains=domains,
        query_batch_size=int(_number(options, "query_batch_size", 2000, 200, 2000)),
        created_since=_since(options.get("created_since"), now),
        route_queues=_ids(options, "route_queues", ("00G",)),
        unowned_owners=unowned,
        exclude_statuses=tuple(str(s) for s in statuses),
        contacts=contacts,
        accounts=bool(options.get("accounts", True)),
        fields=build_field_map(options.get("fields", {}), contacts=contacts),
        list_separator=separator,
        tasks=_tasks(options.get("tasks")),
        slow_down_at=_number(limits, "slow_down_at", 0.8, 0.0, 1.0, "limits"),
        reserve=_number(limits, "reserve", 0.05, 0.0, 0.5, "limits"),
        lock_retries=int(_number(options, "lock_retries", 3, 0, 10)),
        output_dir=Path(str(options.get("output_dir") or workdir)),
        timeout=_number(options, "timeout", 30.0, 1.0, 600.0),
        write_fields=_write_fields(options.get("write_fields")),
        outcomes=_outcomes(options.get("outcomes")),
        reps_file=workdir / str(options["reps_file"]) if options.get("reps_file") else None,
        out_of_office=bool(options.get("out_of_office", True)),
        bulk_threshold=_bulk_threshold(options.get("bulk_threshold", 50_000)),
    )
