"""A fake Salesforce org for tests: a respx router that answers like the REST API.

It holds an in-memory org (users, queues, leads, contacts, accounts, tasks) and serves:

* ``POST /services/oauth2/token`` for the JWT bearer flow (the assertion is verified with
  the public key: signature, ``iss``, ``sub``, ``aud``, ``exp`` at most 3 minutes out)
  and for client credentials (only on the My Domain host, as in production);
* ``GET .../query?q=`` and ``GET .../query/<cursor>`` for the SOQL subset the adapter
  writes (``SELECT``, ``WHERE`` with ``AND``, ``=``/``!=``/``<``/``>``/``IN``/``NOT IN``,
  ``GROUP BY`` with ``COUNT``, ``ORDER BY``, ``LIMIT``), paged with ``nextRecordsUrl``;
  a literal with a bad escape is a 400 ``MALFORMED_QUERY``, like the real parser;
* ``PATCH .../composite/sobjects`` (update, at most 200, per-record SaveResults with
  the owner refusals of ``_owner_problem``, ``CANNOT_UPDATE_CONVERTED_LEAD``,
  ``ENTITY_IS_DELETED``, validation rules, duplicate rules honouring
  ``Sforce-Duplicate-Rule-Header``, scripted errors) with an optional assignment rule
  that runs unless ``Sforce-Auto-Assign: FALSE``, and an optional "automation" that
  overrides the owner regardless (a trigger);
* ``PATCH .../composite/sobjects/Task/<ExternalIdField>`` (upsert by external id; a
  queue cannot own a Task).

Each behaviour names the vendor document it follows in its docstring or comment; the
table in ``docs/adapters/salesforce.md`` collects them.

Every data response carries ``Sforce-Limit-Info``; past the allocation the answer is a
403 ``REQUEST_LIMIT_EXCEEDED``. ``fail`` injects request-level faults (status codes,
timeouts), ``fail_record`` per-record errors, ``expire_sessions`` a session expiry. Any
request the fake does not serve fails the test: nothing can reach the network.

Install with ``pip install leadroute-salesforce[testing]`` (needs respx).
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import httpx
import jwt
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from leadroute_salesforce.fake_bulk import FakeQueryJobs

__all__ = [
    "FakeSalesforce",
    "Fault",
    "Org",
    "SoqlError",
    "make_key_pair",
    "populate",
    "sf_datetime",
    "sf_id",
]

Record = dict[str, Any]


def sf_id(prefix: str, number: int) -> str:
    """An 18-character id with a key prefix (``00Q``, ``005``, ``00G``, ``001``, ``003``)."""
    return f"{prefix}{number:012d}AAA"


def sf_datetime(value: datetime) -> str:
    """Salesforce's datetime format: ``2026-10-01T09:15:00.000+0000``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def make_key_pair() -> tuple[str, str]:
    """A throwaway 2048-bit RSA key pair as PEM text ``(private, public)``, made per test run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


# --------------------------------------------------------------------------- SOQL subset


class SoqlError(ValueError):
    """The query is outside the subset or malformed (served as 400 with ``code``)."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY") -> None:
        super().__init__(message)
        self.code = code


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)"
    r"|(?P<date>\d{4}-\d{2}-\d{2})"
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>!=|>=|<=|=|<|>|\(|\)|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_UNESCAPE = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unescape(quoted: str) -> str:
    out, chars = [], iter(quoted[1:-1])
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in _UNESCAPE:
                raise SoqlError(f"invalid escape sequence \\{nxt}")
            out.append(_UNESCAPE[nxt])
        else:
            out.append(ch)
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SoqlError(f"unexpected character at {pos}: {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "str":
            tokens.append(("value", _unescape(raw)))
        elif kind == "dt":
            tokens.append(("value", datetime.fromisoformat(raw.replace("Z", "+00:00"))))
        elif kind == "date":
            tokens.append(("value", date.fromisoformat(raw)))
        elif kind == "num":
            tokens.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind == "word" and raw.lower() in {"true", "false", "null"}:
            tokens.append(("value", {"true": True, "false": False, "null": None}[raw.lower()]))
        else:
            tokens.append((kind, raw))
    return tokens


@attrs.define
class _Parsed:
    sobject: str = ""
    fields: list[tuple[str, str]] = attrs.field(factory=list)  # (expression, output name)
    where: list[tuple[str, str, Any]] = attrs.field(factory=list)
    group_by: list[str] = attrs.field(factory=list)
    order_by: list[str] = attrs.field(factory=list)
    limit: int | None = None


class _Stream:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", None)

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        self.i += 1
        return token

    def word(self, *expected: str) -> str:
        kind, value = self.take()
        if kind != "word" or (expected and str(value).upper() not in expected):
            raise SoqlError(f"expected {' or '.join(expected) or 'a name'}, got {value!r}")
        return str(value)

    def op(self, expected: str) -> None:
        kind, value = self.take()
        if kind != "op" or value != expected:
            raise SoqlError(f"expected {expected!r}, got {value!r}")

    def at_word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and str(value).upper() in words


def _names(s: _Stream) -> list[str]:
    names = [s.word()]
    while s.peek() == ("op", ","):
        s.take()
        names.append(s.word())
    return names


def _select_list(s: _Stream) -> list[tuple[str, str]]:
    fields = []
    while True:
        name = s.word()
        if name.upper() == "COUNT":
            s.op("(")
            inner = s.word()
            s.op(")")
            alias = s.word() if s.peek()[0] == "word" and not s.at_word("FROM") else "expr0"
            fields.append((f"COUNT({inner})", alias))
        else:
            fields.append((name, name))
        if s.peek() != ("op", ","):
            return fields
        s.take()


def _literal_list(s: _Stream, op: str) -> list[Any]:
    s.op("(")
    values = []
    while True:
        kind, value = s.take()
        if kind != "value":
            raise SoqlError(f"expected a literal in {op} list, got {value!r}")
        values.append(value)
        if s.peek() != ("op", ","):
            s.op(")")
            return values
        s.take()


def _condition(s: _Stream) -> tuple[str, str, Any]:
    field = s.word()
    kind, op = s.take()
    if kind == "word" and str(op).upper() == "IN":
        return field, "IN", _literal_list(s, "IN")
    if kind == "word" and str(op).upper() == "NOT":
        s.word("IN")
        return field, "NOT IN", _literal_list(s, "NOT IN")
    if kind == "op" and op in {"=", "!=", "<", "<=", ">", ">="}:
        value_kind, value = s.take()
        if value_kind != "value":
            raise SoqlError(f"expected a literal after {op}, got {value!r}")
        return field, str(op), value
    raise SoqlError(f"unsupported condition near {op!r}")


def parse_soql(text: str) -> _Parsed:
    """Parse the subset of SOQL the adapter writes."""
    s = _Stream(_tokens(text))
    q = _Parsed()
    s.word("SELECT")
    q.fields = _select_list(s)
    s.word("FROM")
    q.sobject = s.word()
    if s.at_word("WHERE"):
        s.take()
        q.where.append(_condition(s))
        while s.at_word("AND"):
            s.take()
            q.where.append(_condition(s))
    if s.at_word("GROUP"):
        s.take()
        s.word("BY")
        q.group_by = _names(s)
    if s.at_word("ORDER"):
        s.take()
        s.word("BY")
        q.order_by = _names(s)
    if s.at_word("LIMIT"):
        s.take()
        q.limit = int(s.take()[1])
    if s.peek()[0] != "end":
        raise SoqlError(f"unexpected {s.peek()[1]!r}")
    return q


def _sort_key(field: str) -> Callable[[Record], tuple[bool, str]]:
    def key(record: Record) -> tuple[bool, str]:
        return (record.get(field) is None, str(record.get(field) or ""))

    return key


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.replace("Z", "+00:00"))
        return datetime.fromisoformat(text)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return date.fromisoformat(value)
    return value


def _holds(actual: Any, op: str, wanted: Any) -> bool:
    if op == "IN":
        return actual in wanted
    if op == "NOT IN":
        return actual not in wanted
    a, w = _comparable(actual), wanted
    if op == "=":
        return bool(a == w)
    if op == "!=":
        return bool(a != w)
    if a is None or w is None:
        return False
    return bool({"<": a < w, "<=": a <= w, ">": a > w, ">=": a >= w}[op])


# --------------------------------------------------------------------------- the fake

# (method, path below /services/data/vNN.N, how it matches) -> the kind of request.
_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/query", "exact", "query"),
    ("GET", "/query/", "prefix", "query_more"),
    ("PATCH", "/composite/sobjects", "exact", "update"),
    ("PATCH", "/composite/sobjects/", "prefix", "upsert"),
    ("POST", "/jobs/query", "exact", "bulk_create"),
    ("GET", "/results", "suffix", "bulk_results"),
    ("", "/jobs/query/", "prefix", "bulk_job"),
)


def _kind_of(method: str, rest: str) -> str:
    """What a data request is, by the first row of ``_KINDS`` that matches."""
    tests: dict[str, Callable[[str], bool]] = {
        "exact": lambda path: rest == path,
        "prefix": rest.startswith,
        "suffix": rest.endswith,
    }
    for want_method, path, how, kind in _KINDS:
        if want_method in ("", method) and tests[how](path):
            return kind
    return "other"


_CLOSED_TASK_STATUSES = frozenset({"Completed"})
AGGREGATE_LIMIT = 2000  # groups an aggregate query may return

# Polymorphic lookups: ``Who`` (Lead or Contact), ``What``, ``Owner`` (User or Queue).
_POLYMORPHIC = frozenset({"Who", "What", "Owner"})

# User licences with no access to leads, contacts and tasks (Salesforce Help, "User Licenses").
_NO_CRM_LICENCES = frozenset({"Salesforce Platform", "Chatter Free", "Chatter External"})

# Sandbox and scratch-org My Domain hosts (enhanced domains, and legacy ``csNN`` instances).
_SANDBOX_HOST = re.compile(
    r"^([a-z0-9-]+\.(sandbox|scratch)\.my\.salesforce\.com"
    r"|([a-z0-9-]+\.)?cs\d+(\.my)?\.salesforce\.com)$"
)


@attrs.define
class Fault:
    """A scripted request-level fault.

    Attributes:
        kind: ``token``, ``query``, ``query_more``, ``update``, ``upsert`` or ``any``.
        status: HTTP status to answer with.
        body: JSON body (default: a Salesforce error array for the status).
        times: How many matching requests it hits.
        exception: Raise this transport error instead of answering (a timeout).
        content: Raw body bytes instead of JSON (a truncated or HTML answer).
        headers: Extra response headers (``Location`` for a redirect).
    """

    kind: str
    status: int = 503
    body: Any = None
    times: int = 1
    exception: type[httpx.TransportError] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define
class Org:
    """Ids of a populated org, for tests to refer to.

    Attributes:
        active_users: Active users (reps).
        inactive_users: Deactivated users.
        queues: Queue ids (never reps).
        accounts: Account ids.
        waiting_leads: Leads owned by a queue.
        owned_leads: Leads owned by users.
    """

    active_users: list[str] = attrs.field(factory=list)
    inactive_users: list[str] = attrs.field(factory=list)
    queues: list[str] = attrs.field(factory=list)
    accounts: list[str] = attrs.field(factory=list)
    waiting_leads: list[str] = attrs.field(factory=list)
    owned_leads: list[str] = attrs.field(factory=list)


_DEFAULT_ERRORS = {
    400: ("MALFORMED_QUERY", "malformed request"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred."),
    502: ("", "Bad Gateway"),
    503: ("SERVER_UNAVAILABLE", "Server is unavailable or too busy."),
    504: ("", "Gateway Timeout"),
}


@attrs.define
class FakeSalesforce:
    """An in-memory org behind a respx router (see the module docstring).

    Use ``with fake.router:`` to route every ``httpx`` client (CLI tests), or pass
    ``fake.http()`` to the adapter.
    """

    instance_url: str = "https://acme.my.salesforce.com"
    login_url: str = "https://login.salesforce.com"
    api_version: str = "67.0"
    client_id: str = "3MVG9fake.consumer.key"
    username: str = "leadroute@acme.example"
    public_key: str = ""
    client_secret: str = ""
    allocation: int = 1_000_000
    used: int = 0
    page_size: int = 2000
    task_external_id_field: str = "Leadroute_Key__c"
    token_instance_url: str = ""
    assignment_rule: Callable[[Record], str | None] | None = None
    automation: Callable[[Record], str | None] | None = None
    validation: Callable[[str, Record], str | None] | None = None
    duplicate_rule: Callable[[str, Record], tuple[bool, list[str]] | None] | None = None
    objects: dict[str, dict[str, Record]] = attrs.field(
        factory=lambda: {
            k: {}
            for k in (
                "User",
                "Group",
                "Lead",
                "Contact",
                "Account",
                "Task",
                "Event",
                "LeadHistory",
                "OutOfOffice",
            )
        }
    )
    now: datetime | None = None
    tracked_fields: frozenset[str] = frozenset({"Status"})
    integration_user: str = sf_id("005", 999)
    faults: list[Fault] = attrs.field(factory=list)
    record_faults: dict[str, list[tuple[str, str]]] = attrs.field(factory=dict)
    requests: list[dict[str, Any]] = attrs.field(factory=list)
    assertions: list[dict[str, Any]] = attrs.field(factory=list)
    token_requests: int = 0
    tokens: set[str] = attrs.field(factory=set)
    router: respx.MockRouter = attrs.field(init=False)
    _cursors: dict[str, list[Record]] = attrs.field(factory=dict)
    _cursor_times: dict[str, tuple[datetime, datetime]] = attrs.field(factory=dict)
    jobs: FakeQueryJobs = attrs.field(init=False)
    _counter: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def __attrs_post_init__(self) -> None:
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        token_hosts = {self.login_url, self.instance_url, "https://test.salesforce.com"}
        for host in sorted(token_hosts):
            router.post(f"{host}/services/oauth2/token").mock(side_effect=self._token)
        router.route(url__startswith=self.instance_url + "/services/data/").mock(
            side_effect=self._data
        )
        router.route().mock(side_effect=self._unexpected)
        self.router = router
        self.jobs = FakeQueryJobs(
            run=self.run_query,
            columns=self._bulk_columns,
            clock=self.time,
            respond=self._json,
            limit_headers=self._limit_headers,
            new_id=self._job_id,
        )

    @staticmethod
    def _bulk_columns(soql: str) -> list[str]:
        """The select list of a query a Bulk API 2.0 job can run (no aggregates)."""
        q = parse_soql(soql)
        if q.group_by or any(e.startswith("COUNT(") for e, _ in q.fields):
            raise SoqlError("Aggregate queries are not supported by Bulk API 2.0 query jobs")
        return [expr for expr, _ in q.fields]

    def _job_id(self) -> str:
        return sf_id("750", next(self._counter))

    def http(self) -> httpx.Client:
        """An ``httpx.Client`` whose every request goes to this fake."""
        return httpx.Client(transport=httpx.MockTransport(self.router.handler))

    # ------------------------------------------------------------- org contents

    def add(self, sobject: str, record: Record) -> Record:
        """Store a record (``Id`` required)."""
        self.objects[sobject][record["Id"]] = record
        return record

    def get(self, sobject: str, record_id: str) -> Record:
        """A stored record."""
        return self.objects[sobject][record_id]

    def tasks_for(self, who_id: str) -> list[Record]:
        """Tasks whose ``WhoId`` is a lead or contact."""
        return [t for t in self.objects["Task"].values() if t.get("WhoId") == who_id]

    # ------------------------------------------------------------- time and people

    def time(self) -> datetime:
        """The org's clock: ``now`` when a test set it, else the wall clock."""
        return self.now or datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the org's clock forward (cursors expire, jobs progress)."""
        self.now = self.time() + delta

    def _new_id(self, sobject: str, prefix: str) -> str:
        return sf_id(prefix, len(self.objects[sobject]) + 1)

    def log_activity(
        self,
        who_id: str,
        owner_id: str,
        *,
        subtype: str = "Call",
        at: datetime | None = None,
        closed: bool = True,
    ) -> Record:
        """A rep logs a call or an email, or completes a task, on a lead (as in the UI).

        "Log a Call" creates a Task already completed (``Status`` Completed, so
        ``IsClosed``), with ``TaskSubtype`` Call; ``CompletedDateTime`` is when it was
        closed (Object Reference, Task).
        """
        when = at or self.time()
        task_id = self._new_id("Task", "00T")
        return self.add(
            "Task",
            {
                "Id": task_id,
                "WhoId": who_id,
                "OwnerId": owner_id,
                "Subject": f"{subtype} with a prospect",
                "TaskSubtype": subtype,
                "Status": "Completed" if closed else "Not Started",
                "IsClosed": closed,
                "CompletedDateTime": sf_datetime(when) if closed else None,
                "CreatedDate": sf_datetime(when),
                "LastModifiedDate": sf_datetime(when),
            },
        )

    def book_meeting(self, who_id: str, owner_id: str, *, at: datetime | None = None) -> Record:
        """A rep books a meeting (an Event whose ``WhoId`` is the lead)."""
        when = at or self.time()
        return self.add(
            "Event",
            {
                "Id": self._new_id("Event", "00U"),
                "WhoId": who_id,
                "OwnerId": owner_id,
                "Subject": "Meeting",
                "EventSubtype": "Event",
                "StartDateTime": sf_datetime(when + timedelta(days=2)),
                "CreatedDate": sf_datetime(when),
                "LastModifiedDate": sf_datetime(when),
            },
        )

    def set_status(self, lead_id: str, status: str, *, by: str, at: datetime | None = None) -> None:
        """A user changes a lead's Status; a tracked field leaves a ``LeadHistory`` row
        (Object Reference, LeadHistory: ``Field``, ``OldValue``, ``NewValue``)."""
        lead = self.get("Lead", lead_id)
        when = at or self.time()
        self._history(lead, {"Status": status}, by, when)
        lead.update(Status=status, LastModifiedDate=sf_datetime(when))

    def _history(self, record: Record, changes: Mapping[str, Any], by: str, when: datetime) -> None:
        if not str(record.get("Id", "")).startswith("00Q"):
            return
        for field, value in changes.items():
            if field in self.tracked_fields and record.get(field) != value:
                self.add(
                    "LeadHistory",
                    {
                        "Id": self._new_id("LeadHistory", "017"),
                        "LeadId": record["Id"],
                        "Field": field,
                        "OldValue": record.get(field),
                        "NewValue": value,
                        "CreatedById": by,
                        "CreatedDate": sf_datetime(when),
                    },
                )

    def set_out_of_office(
        self, user_id: str, start: datetime, end: datetime, *, enabled: bool = True
    ) -> Record:
        """A user sets an Out of Office period in Lightning (Object Reference, OutOfOffice:
        ``UserId``, ``StartDate``, ``EndDate``, ``IsEnabled``)."""
        return self.add(
            "OutOfOffice",
            {
                "Id": self._new_id("OutOfOffice", "0Hn"),
                "UserId": user_id,
                "StartDate": sf_datetime(start),
                "EndDate": sf_datetime(end),
                "IsEnabled": enabled,
                "Message": "Away",
            },
        )

    def convert(
        self, lead_id: str, *, at: datetime | None = None, opportunity: bool = True
    ) -> None:
        """A user converts a lead: it becomes read-only with ``IsConverted``, the date of
        conversion (a date, not a time) and the records it became (Object Reference, Lead)."""
        lead = self.get("Lead", lead_id)
        when = at or self.time()
        number = int(lead_id[3:15])
        lead.update(
            IsConverted=True,
            Status="Closed - Converted",
            ConvertedDate=when.date().isoformat(),
            ConvertedContactId=sf_id("003", number),
            ConvertedAccountId=sf_id("001", 500_000 + number),
            ConvertedOpportunityId=sf_id("006", number) if opportunity else None,
            LastModifiedDate=sf_datetime(when),
        )

    # ------------------------------------------------------------- faults

    def fail(
        self,
        kind: str,
        status: int = 503,
        *,
        times: int = 1,
        body: Any = None,
        exception: type[httpx.TransportError] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests of a kind with ``status`` (or raise ``exception``)."""
        self.faults.append(
            Fault(kind, status, body, times, exception, content, dict(headers or {}))
        )

    def fail_record(self, record_id: str, code: str, message: str = "", *, times: int = 1) -> None:
        """Refuse the next ``times`` writes of one record with a per-record error."""
        self.record_faults.setdefault(record_id, []).extend([(code, message or code)] * times)

    def expire_sessions(self) -> None:
        """Invalidate every issued token (the next data call gets 401 INVALID_SESSION_ID)."""
        self.tokens.clear()

    def data_requests(self, kind: str) -> list[dict[str, Any]]:
        """Logged data requests of one kind (``query``, ``update``...)."""
        return [r for r in self.requests if r["kind"] == kind]

    # ------------------------------------------------------------- plumbing

    def _unexpected(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(
            f"unexpected request to the fake Salesforce: {request.method} {request.url}"
        )

    def _fault(self, kind: str, request: httpx.Request) -> httpx.Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.kind in (kind, "any"):
                fault.times -= 1
                if fault.exception is not None:
                    raise fault.exception("injected fault", request=request)
                if fault.content is not None:
                    return httpx.Response(
                        fault.status, content=fault.content, headers=fault.headers
                    )
                code, message = _DEFAULT_ERRORS.get(fault.status, ("", "error"))
                body = (
                    fault.body
                    if fault.body is not None
                    else [{"message": message, "errorCode": code}]
                )
                response = self._json(fault.status, body)
                response.headers.update(fault.headers)
                return response
        return None

    def _limit_headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.used}/{self.allocation}"}

    def _json(self, status: int, body: Any) -> httpx.Response:
        return httpx.Response(status, json=body, headers=self._limit_headers())

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        fault = self._fault("token", request)
        if fault is not None:
            return fault
        form = {k: v[0] for k, v in urllib.parse.parse_qs(request.content.decode()).items()}
        host = f"{request.url.scheme}://{request.url.host}"
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            error = self._login_host_problem(host) or self._check_assertion(
                form.get("assertion", ""), host
            )
        elif grant == "client_credentials":
            error = self._check_client(form, request, host)
        else:
            error = ("unsupported_grant_type", "grant type not supported")
        if error:
            return httpx.Response(400, json={"error": error[0], "error_description": error[1]})
        token = f"00DFAKE00000001!AQ{next(self._counter):06d}fake"
        self.tokens.add(token)
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "scope": "api",
                "instance_url": self.token_instance_url or self.instance_url,
                "id": f"{self.login_url}/id/00DFAKE00000001AAA/{self.integration_user}",
                "token_type": "Bearer",
                "issued_at": "1767225600000",
            },
        )

    @property
    def sandbox(self) -> bool:
        """Whether the org is a sandbox (or scratch org), judged by its My Domain host."""
        return bool(_SANDBOX_HOST.match(httpx.URL(self.instance_url).host))

    def audiences(self, host: str) -> set[str]:
        """The JWT ``aud`` values a token request posted to ``host`` accepts.

        Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration": the
        audience is the authorization server, ``https://login.salesforce.com`` for
        production, ``https://test.salesforce.com`` for a sandbox (or an Experience Cloud
        site URL). The org's own My Domain URL is accepted as well (what the Salesforce CLI
        sends since enhanced domains). A production audience sent to a sandbox is refused
        with ``invalid_grant: audience is invalid``, and the other way round.
        """
        generic = "https://test.salesforce.com" if self.sandbox else "https://login.salesforce.com"
        return {generic, host, self.instance_url}

    def _check_assertion(self, assertion: str, host: str) -> tuple[str, str] | None:
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["iss", "sub", "aud", "exp"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            return "invalid_grant", f"invalid assertion: {type(exc).__name__}"
        self.assertions.append(claims)
        if claims["aud"] not in self.audiences(host):
            return "invalid_grant", "audience is invalid"
        if claims["iss"] != self.client_id:
            return "invalid_client_id", "client identifier invalid"
        if claims["sub"] != self.username:
            return "invalid_grant", "user hasn't approved this consumer"
        if claims["exp"] > datetime.now(UTC).timestamp() + 180:
            return "invalid_grant", "expiration time is more than 3 minutes away"
        return None

    def _login_host_problem(self, host: str) -> tuple[str, str] | None:
        """A production user cannot log in at ``test.salesforce.com``, nor a sandbox user at
        ``login.salesforce.com``: the generic host of the other environment has no such user.
        """
        wrong = "https://login.salesforce.com" if self.sandbox else "https://test.salesforce.com"
        if host == wrong:
            return "invalid_grant", "user hasn't approved this consumer"
        return None

    def _check_client(
        self, form: Mapping[str, str], request: httpx.Request, host: str
    ) -> tuple[str, str] | None:
        if host != self.instance_url:
            return "invalid_grant", "request not supported on this domain"
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id or not self.client_secret or secret != self.client_secret:
            return "invalid_client", "invalid client credentials"
        return None

    def _data(self, request: httpx.Request) -> httpx.Response:
        base = f"/services/data/v{self.api_version}"
        path = request.url.path
        rest = path.removeprefix(base)
        kind = _kind_of(request.method, rest)
        body = None
        if request.content:
            body = json.loads(request.content)
        self.requests.append(
            {
                "kind": kind,
                "method": request.method,
                "path": path,
                "params": dict(request.url.params),
                "headers": {
                    k: v for k, v in request.headers.items() if k.lower() != "authorization"
                },
                "json": body,
            }
        )
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self._json(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        self.used += 1
        if self.used > self.allocation:
            return self._json(
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
        fault = self._fault(kind, request)
        if fault is not None:
            return fault
        handlers: dict[str, Callable[[], httpx.Response]] = {
            "query": lambda: self._query(request),
            "query_more": lambda: self._query_more(rest.removeprefix("/query/")),
            "update": lambda: self._update(request, body),
            "upsert": lambda: self._upsert(rest.removeprefix("/composite/sobjects/"), body),
            "bulk_create": lambda: self.jobs.create(body),
            "bulk_job": lambda: self.jobs.job(
                rest.removeprefix("/jobs/query/"), request.method, body
            ),
            "bulk_results": lambda: self.jobs.results(
                rest.removeprefix("/jobs/query/").removesuffix("/results"), request.url.params
            ),
        }
        if kind in handlers:
            return handlers[kind]()
        return self._json(
            404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        )

    # ------------------------------------------------------------- query

    def _value(self, sobject: str, record: Record, field: str) -> Any:
        if "." in field:
            relation, sub = field.split(".", 1)
            target_id = record.get(relation + "Id")
            for name, store in self.objects.items():
                if target_id in store:
                    if sub == "Type" and relation in _POLYMORPHIC:
                        # SOQL, "Understanding Polymorphic Keys and Relationships": the
                        # type of the referenced record (a queue owner is a Queue).
                        return store[target_id].get("Type") if name == "Group" else name
                    return store[target_id].get(sub)
            return None
        return record.get(field)

    def _shape(self, sobject: str, record: Record, fields: Sequence[tuple[str, str]]) -> Record:
        out: Record = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record['Id']}",
            }
        }
        for expr, _ in fields:
            if "." in expr:
                relation, sub = expr.split(".", 1)
                value = self._value(sobject, record, expr)
                out[relation] = (
                    None
                    if value is None and not record.get(relation + "Id")
                    else {"attributes": {"type": relation}, sub: value}
                )
            else:
                out[expr] = record.get(expr)
        return out

    def run_query(self, soql: str) -> list[Record]:
        """Every record a query returns (no paging)."""
        q = parse_soql(soql)
        store = self.objects.get(q.sobject)
        if store is None:
            # What an org answers for an object it does not have (a feature not enabled).
            raise SoqlError(
                f"sObject type '{q.sobject}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name.",
                "INVALID_TYPE",
            )
        rows = [
            r
            for r in store.values()
            if all(_holds(self._value(q.sobject, r, f), op, v) for f, op, v in q.where)
        ]
        for field in reversed(q.order_by):
            rows.sort(key=_sort_key(field))
        if q.group_by:
            key = q.group_by[0]
            groups: dict[Any, int] = {}
            for r in rows:
                groups[r.get(key)] = groups.get(r.get(key), 0) + 1
            alias = next((a for e, a in q.fields if e.startswith("COUNT(")), "expr0")
            if len(groups) > AGGREGATE_LIMIT:
                # SOQL and SOSL Reference, "Considerations for GROUP BY": an aggregate query
                # cannot use queryMore, so past 2,000 groups it fails instead of paging.
                raise SoqlError(
                    "Aggregate query does not support queryMore(), use LIMIT to restrict the "
                    "results to a single batch"
                )
            return [
                {"attributes": {"type": "AggregateResult"}, key: k, alias: n}
                for k, n in groups.items()
            ]
        if q.limit is not None:
            rows = rows[: q.limit]
        return [self._shape(q.sobject, r, q.fields) for r in rows]

    def _query(self, request: httpx.Request) -> httpx.Response:
        try:
            rows = self.run_query(request.url.params.get("q", ""))
        except SoqlError as exc:
            return self._json(400, [{"message": str(exc), "errorCode": exc.code}])
        size = self.page_size
        option = request.headers.get("Sforce-Query-Options", "")
        match = re.search(r"batchSize=(\d+)", option)
        if match:
            size = min(size, max(200, min(2000, int(match.group(1)))))
        cursor = f"0r8FAKE{next(self._counter):08d}"
        if len(rows) > size:  # a cursor stays open only while there are more pages
            self._open_cursor(cursor)
        self._cursors[cursor] = rows
        return self._page(cursor, 0, size, len(rows))

    @property
    def _legacy_cursors(self) -> bool:
        """Before API 56.0 cursors were few and short-lived (see ``_open_cursor``)."""
        return float(self.api_version) < 56.0

    def _open_cursor(self, cursor: str) -> None:
        """Open a server-side cursor, as the API version in use keeps them.

        Salesforce App Limits Cheatsheet, "API Query Cursor Limits": since API 56.0 a
        cursor and its results are available for 2 days, with no limit on how many are
        open. Before (SOAP API Developer Guide, "QueryLocator"): at most 10 per user, the
        oldest released when an 11th opens, and each expiring after 15 minutes unused.
        """
        now = self.time()
        if self._legacy_cursors and len(self._cursor_times) >= 10:
            oldest = min(self._cursor_times, key=lambda c: self._cursor_times[c][0])
            self._close_cursor(oldest)
        self._cursor_times[cursor] = (now, now)

    def _close_cursor(self, cursor: str) -> None:
        self._cursors.pop(cursor, None)
        self._cursor_times.pop(cursor, None)

    def _cursor_alive(self, cursor: str) -> bool:
        if cursor not in self._cursor_times:
            return False
        opened, used = self._cursor_times[cursor]
        now = self.time()
        if self._legacy_cursors:
            alive = now - used <= timedelta(minutes=15)
        else:
            alive = now - opened <= timedelta(days=2)
        if not alive:
            self._close_cursor(cursor)
        return alive

    def _page(self, cursor: str, start: int, size: int, total: int) -> httpx.Response:
        rows = self._cursors[cursor]
        page = rows[start : start + size]
        done = start + size >= len(rows)
        body: Record = {"totalSize": total, "done": done, "records": page}
        if not done:
            body["nextRecordsUrl"] = (
                f"/services/data/v{self.api_version}/query/{cursor}-{start + size}-{size}"
            )
        return self._json(200, body)

    def _query_more(self, locator: str) -> httpx.Response:
        cursor, start, size = locator.rsplit("-", 2)
        if not self._cursor_alive(cursor):
            return self._json(
                400, [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}]
            )
        opened, _ = self._cursor_times[cursor]
        self._cursor_times[cursor] = (opened, self.time())
        response = self._page(cursor, int(start), int(size), len(self._cursors[cursor]))
        if int(start) + int(size) >= len(self._cursors[cursor]):
            self._close_cursor(cursor)  # the last page: the cursor is done
        return response

    # ------------------------------------------------------------- writes

    @staticmethod
    def _error(code: str, message: str, fields: Sequence[str] = ()) -> Record:
        return {
            "success": False,
            "errors": [{"statusCode": code, "message": message, "fields": list(fields)}],
        }

    def _owner_problem(self, owner: str, sobject: str = "Lead") -> Record | None:
        """Why Salesforce would refuse ``owner`` as the owner of a ``sobject`` record.

        * an inactive user: ``INACTIVE_OWNER_OR_USER`` (StatusCode reference: "The user or
          record owner is not active");
        * a user without Read on the object, or whose licence has no access to it (a
          Salesforce Platform or Chatter licence has no Leads): ``TRANSFER_REQUIRES_READ``
          ("the user does not have read permission"; Salesforce Help, "Transfer Records":
          the new owner must have at least Read on the object type);
        * a user the integration user cannot see (``"_visible": False``):
          ``INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY``;
        * a queue as the owner of a Task: queues own leads, cases and custom objects only
          (Salesforce Help, "Queues"; "Task Actions": a task for a queue-owned lead goes to
          a user), refused on ``OwnerId`` as an id of the wrong type.
        """
        if owner.startswith("005"):
            user = self.objects["User"].get(owner)
            if user is None or not user.get("IsActive"):
                return self._error(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{owner}] as owner of record",
                )
            if user.get("_visible") is False:
                return self._error(
                    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                    "insufficient access rights on cross-reference id",
                )
            readable = user.get("_readable", ("Lead", "Contact", "Account", "Task"))
            if sobject not in readable or user.get("UserLicense") in _NO_CRM_LICENCES:
                return self._error(
                    "TRANSFER_REQUIRES_READ", "The new owner must have read permission"
                )
            return None
        if owner.startswith("00G") and owner in self.objects["Group"]:
            if sobject == "Task":
                return self._error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Assigned To ID: id value of incorrect type: {owner}",
                    ["OwnerId"],
                )
            return None
        return self._error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["OwnerId"])

    def _duplicate_problem(self, sobject: str, record: Record, allow_save: bool) -> Record | None:
        """A duplicate rule's verdict on saving ``record`` (REST API Developer Guide,
        "Duplicate Rule Header"; Object Reference, DuplicateResult/MatchResult).

        A blocking rule refuses the save whatever the header says; an alert-only rule
        refuses it unless the request carries ``Sforce-Duplicate-Rule-Header:
        allowSave=true``. The error carries the matched records in ``duplicateResult``.
        """
        verdict = self.duplicate_rule(sobject, record) if self.duplicate_rule else None
        if verdict is None:
            return None
        blocking, matches = verdict
        if not blocking and allow_save:
            return None
        error = self._error("DUPLICATES_DETECTED", "Use one of these records?")
        error["errors"][0]["duplicateResult"] = {
            "allowSave": not blocking,
            "duplicateRule": "Leadroute_Fake_Rule",
            "duplicateRuleEntityType": sobject,
            "errorMessage": "Use one of these records?",
            "matchResults": [
                {
                    "entityType": sobject,
                    "matchRecords": [
                        {"record": {"attributes": {"type": sobject}, "Id": m}} for m in matches
                    ],
                    "rule": "Leadroute_Fake_Matching_Rule",
                    "size": len(matches),
                    "success": True,
                }
            ],
        }
        return error

    def _update(self, request: httpx.Request, body: Any) -> httpx.Response:
        records = (body or {}).get("records", [])
        if len(records) > 200:
            return self._json(
                400,
                [
                    {
                        "errorCode": "EXCEEDED_ID_LIMIT",
                        "message": "record limit reached. cannot submit more than 200 records into this call",
                    }
                ],
            )
        auto_assign = request.headers.get("Sforce-Auto-Assign", "TRUE").upper() != "FALSE"
        dup_header = request.headers.get("Sforce-Duplicate-Rule-Header", "").replace(" ", "")
        allow_save = "allowSave=true" in dup_header.split(";")
        results = []
        for item in records:
            record_id = item.get("id", "")
            sobject = item.get("attributes", {}).get("type", "")
            scripted = self.record_faults.get(record_id)
            if scripted:
                code, message = scripted.pop(0)
                results.append(self._error(code, message))
                continue
            stored = self.objects.get(sobject, {}).get(record_id)
            if stored is None:
                results.append(self._error("ENTITY_IS_DELETED", "entity is deleted"))
                continue
            changes = {k: v for k, v in item.items() if k not in {"attributes", "id"}}
            if stored.get("IsConverted") is True:
                # Object Reference, Lead: converted leads are read-only.
                results.append(
                    self._error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
                )
                continue
            if "OwnerId" in changes and (
                problem := self._owner_problem(str(changes["OwnerId"]), sobject)
            ):
                results.append(problem)
                continue
            candidate = {**stored, **changes}
            refusal = self.validation(sobject, candidate) if self.validation else None
            if refusal:
                results.append(self._error("FIELD_CUSTOM_VALIDATION_EXCEPTION", refusal))
                continue
            if duplicate := self._duplicate_problem(sobject, candidate, allow_save):
                results.append(duplicate)
                continue
            if sobject == "Lead" and auto_assign and self.assignment_rule:
                candidate["OwnerId"] = self.assignment_rule(candidate) or candidate["OwnerId"]
            if self.automation:
                candidate["OwnerId"] = self.automation(candidate) or candidate["OwnerId"]
            when = self.time()
            self._history(stored, candidate, self.integration_user, when)
            stored.update(candidate, LastModifiedDate=sf_datetime(when))
            results.append({"id": record_id, "success": True, "errors": []})
        return self._json(200, results)

    def _upsert(self, target: str, body: Any) -> httpx.Response:
        sobject, _, field = target.partition("/")
        if sobject != "Task" or field != self.task_external_id_field:
            return self._json(
                400,
                [
                    {
                        "errorCode": "INVALID_FIELD",
                        "message": f"No such column '{field}' on entity '{sobject}'",
                    }
                ],
            )
        records = (body or {}).get("records", [])
        if len(records) > 200:
            return self._json(
                400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": "record limit reached"}]
            )
        results = []
        tasks = self.objects["Task"]
        for item in records:
            key = item.get(field)
            who = str(item.get("WhoId", ""))
            scripted = self.record_faults.get(f"task:{who}")
            if scripted:
                code, message = scripted.pop(0)
                results.append(self._error(code, message))
                continue
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(item.get("ActivityDate", ""))):
                results.append(
                    self._error(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        "Due Date Only: value not of required type",
                        ["ActivityDate"],
                    )
                )
                continue
            if who not in self.objects["Lead"] and who not in self.objects["Contact"]:
                results.append(
                    self._error(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["WhoId"]
                    )
                )
                continue
            if problem := self._owner_problem(str(item.get("OwnerId", "")), "Task"):
                results.append(problem)
                continue
            fields = {k: v for k, v in item.items() if k != "attributes"}
            # IsClosed follows the Status picklist's "closed" flag (Object Reference, Task).
            fields["IsClosed"] = str(fields.get("Status", "")) in _CLOSED_TASK_STATUSES
            fields["LastModifiedDate"] = sf_datetime(self.time())
            existing = next((t for t in tasks.values() if t.get(field) == key), None)
            if existing is not None:
                existing.update(fields)
                results.append(
                    {"id": existing["Id"], "success": True, "errors": [], "created": False}
                )
            else:
                task_id = sf_id("00T", len(tasks) + 1)
                tasks[task_id] = {"Id": task_id, "CreatedDate": sf_datetime(self.time()), **fields}
                results.append({"id": task_id, "success": True, "errors": [], "created": True})
        return self._json(200, results)


# --------------------------------------------------------------------------- a realistic org

COUNTRIES = ("US", "US", "US", "CA", "GB", "DE", "FR", "NL", "AU", "JP", "BR")
LEAD_TYPES = ("demo", "contact", "demo", "trial", "partner")


def populate(
    fake: FakeSalesforce,
    *,
    leads: int = 3000,
    owned: int = 600,
    users: int = 24,
    inactive: int = 4,
    queues: int = 3,
    accounts: int = 150,
    seed: int = 7,
    now: datetime | None = None,
) -> Org:
    """Fill the fake with an org: users (some inactive), queues, accounts, leads.

    Users carry ``Leadroute_Pools__c`` (``na``, ``emea`` or ``apac``) and
    ``Territories__c``; leads carry ``Lead_Type__c``. About a tenth of the waiting leads
    share a website domain with an account, so account matching has work to do; a few
    companies have a quote in their name.
    """
    rng = random.Random(seed)  # noqa: S311  (seeded sample data, not security)
    now = now or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    org = Org()
    pools = {"na": "NA", "emea": "EMEA", "apac": "APAC"}
    for n in range(1, users + 1):
        user_id = sf_id("005", n)
        active = n > inactive
        pool = list(pools)[n % 3]
        fake.add(
            "User",
            {
                "Id": user_id,
                "Name": f"Rep {n}",
                "Email": f"rep{n}@acme.example",
                "IsActive": active,
                "UserType": "Standard",
                "TimeZoneSidKey": "America/New_York" if pool == "na" else "Europe/Berlin",
                "Leadroute_Pools__c": pool,
                "Territories__c": pools[pool],
            },
        )
        (org.active_users if active else org.inactive_users).append(user_id)
    for n in range(1, queues + 1):
        queue_id = sf_id("00G", n)
        fake.add("Group", {"Id": queue_id, "DeveloperName": f"Inbound_{n}", "Type": "Queue"})
        org.queues.append(queue_id)
    # A public group is a Group too, but not a queue: it must never be read as one.
    fake.add("Group", {"Id": sf_id("00G", 900), "DeveloperName": "All_Sales", "Type": "Regular"})
    for n in range(1, accounts + 1):
        account_id = sf_id("001", n)
        fake.add(
            "Account",
            {
                "Id": account_id,
                "Name": f"Account {n} Ltd",
                "Website": f"https://www.account{n}.example",
                "OwnerId": rng.choice(org.active_users),
            },
        )
        org.accounts.append(account_id)
    for n in range(1, leads + owned + 1):
        lead_id = sf_id("00Q", n)
        waiting = n <= leads
        created = now - timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 1440))
        account = rng.randint(1, accounts) if rng.random() < 0.1 else 0
        company = (
            f"Account {account} Ltd"
            if account
            else rng.choice(["O'Brien & Sons", "Acme", "Initech", "Globex", "Umbrella"]) + f" {n}"
        )
        domain = f"account{account}.example" if account else f"lead{n}.example"
        owner = (
            rng.choice(org.queues) if waiting else rng.choice(org.active_users + org.inactive_users)
        )
        fake.add(
            "Lead",
            {
                "Id": lead_id,
                "Name": f"Person {n}",
                "Email": "" if n % 97 == 0 else f"person{n}@{domain}",
                "Company": company,
                "Website": f"https://{domain}",
                "CountryCode": rng.choice(COUNTRIES),
                "StateCode": None,
                "NumberOfEmployees": rng.choice([5, 40, 120, 450, 2000, None]),
                "LeadSource": rng.choice(["Web", "Event", "Partner"]),
                "Lead_Type__c": rng.choice(LEAD_TYPES),
                "Status": "Open - Not Contacted",
                "IsConverted": False,
                "CreatedDate": sf_datetime(created),
                "OwnerId": owner,
                "LastActivityDate": (
                    None
                    if waiting or rng.random() < 0.6
                    else (now - timedelta(days=1)).date().isoformat()
                ),
            },
        )
        (org.waiting_leads if waiting else org.owned_leads).append(lead_id)
    # Converted and closed leads in a queue are never read.
    fake.add(
        "Lead",
        {
            "Id": sf_id("00Q", 990_001),
            "OwnerId": org.queues[0],
            "IsConverted": True,
            "Status": "Closed - Converted",
            "CreatedDate": sf_datetime(now),
            "Company": "Old",
        },
    )
    fake.add(
        "Lead",
        {
            "Id": sf_id("00Q", 990_002),
            "OwnerId": org.queues[0],
            "IsConverted": False,
            "Status": "Closed - Not Converted",
            "CreatedDate": sf_datetime(now),
            "Company": "Lost",
        },
    )
    return org
