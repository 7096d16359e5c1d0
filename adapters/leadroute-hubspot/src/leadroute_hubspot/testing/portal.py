"""A fake HubSpot portal for tests: a respx router over in-memory owners, contacts, companies and tasks.

It answers the calls the adapter makes with HubSpot's shapes (search with filters, sorts,
paging and the 10,000-result cap; batch update with 200/207 per-record errors; owners
with ``archived``; v4 association batch reads; task search and batch create; the OAuth
token endpoint), sends the ``X-HubSpot-RateLimit-*`` headers, enforces search's four
requests a second, and injects faults (any status and body, timeouts before or after
the server applied the request, expiring tokens). Any request it does not know fails
the test: nothing reaches the network.

Use ``FakeHubSpot.portal(...)`` for a realistic portal and ``fake.installed()`` to make
adapters built in the block (including by the CLI) talk to it without sleeping::

    fake = FakeHubSpot.portal(contacts=600, seed=7)
    with fake.installed():
        CliRunner().invoke(app, ["route", "--source", "hubspot", ...])
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import respx

from leadroute_hubspot.adapter import Runtime, use_runtime
from leadroute_hubspot.reading import SEARCH_CAP
from leadroute_hubspot.testing.clock import FakeClock, Fault
from leadroute_hubspot.testing.properties import (
    LEAD_STATUSES,
    definition,
    invalid_values,
    standard_properties,
)
from leadroute_hubspot.testing.shapes import (
    error,
    matches,
    ms,
    number,
    page,
    rate_limit_body,
    record,
    unexpected,
)

__all__ = ["FakeHubSpot"]

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"  # noqa: S105  (the fake's test token)
_VERSION = r"(?:v3/objects|objects/\d{4}-\d{2})"
_OWNERS = r"(?:v3/owners|owners/\d{4}-\d{2})"
_PROPERTIES = r"(?:v3/properties|properties/\d{4}-\d{2})"
ACTIVITY_KINDS = ("calls", "emails", "meetings", "notes")
# HubSpot-defined association type ids from an activity to a contact (the association
# type table of developers.hubspot.com/docs/api/crm/associations): call 194, email 198,
# meeting 200, note 202, task 204.
ACTIVITY_TO_CONTACT = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202}
TASK_TO_CONTACT = 204


@attrs.define
class FakeHubSpot:
    """An in-memory HubSpot portal behind a respx router, honest in what it refuses and when.

    Every behaviour follows a HubSpot document, cited where it is implemented:

    * writes naming an unknown or read-only property, or a value outside an enumeration's
      options, are refused (``properties.py``); by default one bad record fails the whole
      batch with one 400 whose message embeds the details, as HubSpot often answers;
    * search is eventually consistent: a record written is found ``search_lag`` seconds
      later (crm-apis.md 1.3); paging past ``search_cap`` (10,000) is a 400;
    * workflows run after the write that enrolled the record, ``workflow_delay`` seconds
      later on the fake clock, not inside the API response;
    * v4 association batch reads page per record (``association_page``), in id order;
    * batch reads with ``propertiesWithHistory`` take at most 50 inputs;
    * a task upsert needs an ``idProperty`` with unique values.

    Attributes:
        owners: Owner objects by id (``PublicOwner`` shape, ``archived`` included).
        contacts: Contact properties by id (all values strings, as HubSpot sends them).
        companies: Company properties by id.
        contact_companies: Company ids associated with each contact (the first is primary).
        users: The users object's records by id: properties as strings (time zone, working
            hours and out-of-office as HubSpot's JSON text).
        tasks: Tasks by id (``properties`` and ``associations``).
        activities: Calls, emails, meetings and notes: kind -> id -> ``properties`` and
            the ``contacts`` they are associated with.
        history: Contact -> property -> versions, newest first (``propertiesWithHistory``).
        properties: Object type -> property name -> definition.
        clock: The shared fake clock.
        search_cap: Results one search query may page through.
        search_lag: Seconds before a write is visible to search.
        tokens: Bearer tokens the portal accepts.
        refresh_token: The refresh token the OAuth endpoint accepts.
        token_lifetime: ``expires_in`` of issued OAuth tokens, in seconds.
        reassign: A workflow: a contact given owner K is moved to owner V, later.
        workflow_delay: Seconds after the write before the workflow acts.
        lead_statuses: The ``hs_lead_status`` options.
        whole_batch_validation: One invalid input fails the whole batch (HubSpot's habit);
            False answers a 207 naming the record instead.
        deactivated: Owners refused on write though the owner list still shows them active
            (deactivated between a run's read and its write).
        association_page: Associations per record per page of a v4 batch read.
        rate_max: ``X-HubSpot-RateLimit-Max`` (requests per 10 s window).
        daily_limit: Requests per day before every call gets a DAILY 429.
        requests: Every request, as ``(method, path)``.
    """

    owners: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    contacts: dict[str, dict[str, str]] = attrs.field(factory=dict)
    companies: dict[str, dict[str, str]] = attrs.field(factory=dict)
    contact_companies: dict[str, list[str]] = attrs.field(factory=dict)
    users: dict[str, dict[str, str]] = attrs.field(factory=dict)
    tasks: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    activities: dict[str, dict[str, dict[str, Any]]] = attrs.field(
        factory=lambda: {kind: {} for kind in ACTIVITY_KINDS}
    )
    history: dict[str, dict[str, list[dict[str, Any]]]] = attrs.field(factory=dict)
    clock: FakeClock = attrs.field(factory=FakeClock)
    search_cap: int = SEARCH_CAP
    search_lag: float = 2.0
    tokens: set[str] = attrs.field(factory=lambda: {TOKEN})
    refresh_token: str = "refresh-token-for-tests"  # noqa: S105
    token_lifetime: int = 1800
    reassign: dict[str, str] = attrs.field(factory=dict)
    workflow_delay: float = 60.0
    lead_statuses: frozenset[str] = frozenset(LEAD_STATUSES)
    whole_batch_validation: bool = True
    deactivated: set[str] = attrs.field(factory=set)
    association_page: int = 500
    rate_max: int = 190
    daily_limit: int = 1_000_000
    task_key: str = "leadroute_key"
    task_key_unique: bool = True
    requests: list[tuple[str, str]] = attrs.field(factory=list)
    properties: dict[str, dict[str, dict[str, Any]]] = attrs.field(init=False)
    _faults: dict[str, list[Fault]] = attrs.field(factory=dict)
    _window: list[float] = attrs.field(factory=list)
    _search_times: list[float] = attrs.field(factory=list)
    _ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(900_000_001))
    _issued: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))
    _token_expiry: dict[str, float] = attrs.field(factory=dict)
    _versions: dict[tuple[str, str], list[tuple[float, dict[str, str]]]] = attrs.field(factory=dict)
    _due: list[tuple[float, str, str]] = attrs.field(factory=list)
    search_429s: int = 0
    burst_429s: int = 0
    router: respx.MockRouter = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.properties = standard_properties(lead_statuses=sorted(self.lead_statuses))
        if self.task_key:
            self.properties["tasks"][self.task_key] = definition(
                self.task_key, unique=self.task_key_unique, hubspot_defined=False
            )
        self.router = self._build_router()

    # ----------------------------------------------------------------- set-up

    @classmethod
    def portal(
        cls,
        *,
        contacts: int = 600,
        owned: int = 0,
        seed: int = 7,
        clock: FakeClock | None = None,
        **kwargs: Any,
    ) -> FakeHubSpot:
        """A realistic portal: NA and EMEA teams, archived and queue owners, companies with owners.

        ``contacts`` contacts have no owner (to route); ``owned`` more have one, half of
        them never worked (for rebalance). Some contacts carry a bad ``numemployees``.
        The tasks object has the custom ``leadroute_key`` property (unique values).
        """
        rng = random.Random(seed)  # noqa: S311  (seeded sample data, not security)
        fake = cls(clock=clock or FakeClock(), **kwargs)
        people = [
            ("101", "Ana", "Silva", "na"),
            ("102", "Ben", "Ortiz", "na"),
            ("103", "Cai", "Wong", "na"),
            ("201", "Dora", "Klein", "emea"),
            ("202", "Eli", "Novak", "emea"),
            ("203", "Fay", "Moreau", "emea"),
            ("900", "Ops", "Queue", "ops"),
        ]
        for oid, first, last, team in people:
            fake.add_owner(oid, first, last, team=team)
        fake.add_owner("104", "", "", team="na", archived=True)  # names cleared on deactivation
        fake.add_owner("205", "Gus", "Left", team="emea", archived=True)
        fake.add_owner("950", "Inbound", "Queue", team="na", kind="QUEUE")
        countries = ["US", "US", "CA", "DE", "GB", "FR", "US", "DE"]
        owner_pool = ["101", "102", "201", "202", "104", "205"]
        for i in range(40):
            cid = str(5_000 + i)
            fake.companies[cid] = {
                "hs_object_id": cid,
                "name": f"Company {i} Inc.",
                "domain": f"company{i}.com",
                "hubspot_owner_id": owner_pool[i % len(owner_pool)] if i % 3 == 0 else "",
                "lifecyclestage": "customer" if i % 3 == 0 else "lead",
                "country": countries[i % len(countries)],
            }
        created = fake.clock.now() - timedelta(days=3)
        next_id = itertools.count(1_001, 7)  # sparse ids, as in a real portal
        for i in range(contacts + owned):
            cid = str(next(next_id))
            company = i % 5 == 0
            domain = f"company{i % 40}.com" if company else f"person{i}.example"
            props = {
                "hs_object_id": cid,
                "email": f"lead{i}@{domain}",
                "firstname": f"Lead{i}",
                "lastname": "Tester",
                "company": f"Company {i % 40}" if company else f"Startup {i}",
                "country": countries[rng.randrange(len(countries))],
                "numemployees": "many" if i % 97 == 13 else str(rng.choice([5, 40, 150, 800])),
                "hs_language": rng.choice(["en", "de", "fr"]),
                "phone": f"+1 415 555 {i % 10_000:04d}" if i % 3 else "",
                "lifecyclestage": "lead",
                "hs_lead_status": "",
                "createdate": ms(created + timedelta(minutes=i)),
                "lastmodifieddate": ms(created + timedelta(minutes=i)),
                "hubspot_owner_id": "",
                "notes_last_contacted": "",
            }
            if i >= contacts:
                props["hubspot_owner_id"] = owner_pool[i % len(owner_pool)]
                if i % 2 == 0:
                    props["notes_last_contacted"] = ms(fake.clock.now() - timedelta(hours=2))
            fake.contacts[cid] = props
            if company and i % 10 == 0:
                fake.contact_companies[cid] = [str(5_000 + i % 40)]
        return fake

    def add_owner(
        self,
        owner_id: str,
        first: str,
        last: str,
        *,
        team: str = "",
        archived: bool = False,
        kind: str = "PERSON",
    ) -> None:
        """Add an owner (``archived`` ones have no ``userId``, as HubSpot sends them), and
        for a person its user record (every user of the portal is in the users object)."""
        if kind == "PERSON":
            self.users[str(int(owner_id) * 1000 + 7)] = {
                "hs_object_id": str(int(owner_id) * 1000 + 7),
                "hs_internal_user_id": str(int(owner_id) * 10),
                "hs_email": f"{(first or 'former').lower()}.{owner_id}@seller.example",
                "hs_standard_time_zone": "Europe/Berlin" if team == "emea" else "America/New_York",
            }
        self.owners[owner_id] = {
            "id": owner_id,
            "email": f"{(first or 'former').lower()}.{owner_id}@seller.example",
            "firstName": first,
            "lastName": last,
            "userId": None if archived else int(owner_id) * 10,
            "userIdIncludingInactive": int(owner_id) * 10,
            "type": kind,
            "teams": [{"id": team, "name": team, "primary": True}] if team else [],
            "archived": archived,
            "createdAt": "2025-01-06T10:00:00Z",
            "updatedAt": "2026-10-01T10:00:00Z",
        }

    def log_activity(
        self,
        kind: str,
        contact_id: str,
        owner_id: str,
        *,
        at: datetime | None = None,
        **properties: str,
    ) -> str:
        """A rep logs a call, email, meeting or note on a contact now (or ``at``); its id."""
        if kind not in ACTIVITY_KINDS:
            raise ValueError(f"{kind!r} is not one of {', '.join(ACTIVITY_KINDS)}")
        when = ms(at or self.clock.now())
        activity_id = str(next(self._ids))
        props = {
            "hs_object_id": activity_id,
            "hs_timestamp": when,
            "hs_createdate": ms(self.clock.now()),
            "hubspot_owner_id": owner_id,
            **properties,
        }
        self.activities[kind][activity_id] = {"properties": props, "contacts": [contact_id]}
        self._index(kind, activity_id, props)
        return activity_id

    def change(
        self, contact_id: str, name: str, value: str, *, by_owner: str = "", source: str = "CRM_UI"
    ) -> None:
        """Someone changes a contact property in HubSpot now (kept in its history)."""
        user = self.owners.get(by_owner, {}).get("userId")
        self._set(contact_id, {name: value}, source=source, user=user)

    def fail(self, route: str, fault: Fault) -> None:
        """Answer the next requests to ``route`` with ``fault``.

        Routes: ``owners``, ``companies``, ``users``, ``properties``, ``search``,
        ``batch_read``, ``batch_update``, ``associations``, ``activity_search``,
        ``task_search``, ``task_create``, ``task_upsert``, ``task_associate``, ``token``,
        or ``*`` for any.
        """
        self._faults.setdefault(route, []).append(fault)

    def heal(self) -> None:
        """Drop every queued fault: the outage ended, the daily quota reset."""
        self._faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (a 30-minute OAuth token running out)."""
        self.tokens.clear()

    @contextmanager
    def installed(self, env: Mapping[str, str] | None = None) -> Iterator[FakeHubSpot]:
        """Adapters built in the block talk to this portal, with its clock and search cap."""
        runtime = Runtime(
            http=self.http_client,
            env=dict(env) if env is not None else {"HUBSPOT_ACCESS_TOKEN": TOKEN},
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            now=self.clock.now,
            window_cap=self.search_cap,
        )
        with use_runtime(runtime):
            yield self

    def http_client(self) -> httpx.Client:
        """An httpx client whose transport is this portal (no sockets)."""
        return httpx.Client(transport=httpx.MockTransport(self.router.handler))

    def calls(self, route_path: str) -> int:
        """How many requests hit a path ending with ``route_path``."""
        return sum(1 for _, path in self.requests if path.endswith(route_path))

    # ----------------------------------------------------------------- state

    def _index(self, kind: str, record_id: str, props: Mapping[str, str]) -> None:
        """Search sees this version of the record ``search_lag`` seconds from now."""
        versions = self._versions.setdefault((kind, record_id), [])
        versions.append((self.clock.t + self.search_lag, dict(props)))

    def _visible(
        self, kind: str, store: Mapping[str, Mapping[str, str]]
    ) -> dict[str, Mapping[str, str]]:
        """The records as search sees them now: the last version indexed by now, if any.

        HubSpot's search is eventually consistent: a record created or updated through the
        API takes a few seconds to appear in search results (crm-apis.md section 1.3).
        Records never written through the API (the portal's starting data) are indexed.
        """
        seen: dict[str, Mapping[str, str]] = {}
        now = self.clock.t
        for record_id, props in store.items():
            versions = self._versions.get((kind, record_id))
            if not versions:
                seen[record_id] = props
                continue
            indexed = [v for at, v in versions if at <= now]
            if indexed:
                seen[record_id] = indexed[-1]
        return seen

    def _set(
        self, contact_id: str, values: Mapping[str, str], *, source: str, user: int | None = None
    ) -> None:
        """Change a contact, keep each property's history, index it, enroll workflows."""
        contact = self.contacts[contact_id]
        when = self.clock.now().isoformat().replace("+00:00", "Z")
        for name, value in values.items():
            versions = self.history.setdefault(contact_id, {}).setdefault(name, [])
            entry: dict[str, Any] = {"value": value, "timestamp": when, "sourceType": source}
            if user is not None:
                entry["updatedByUserId"] = user
            versions.insert(0, entry)
        contact.update(values)
        contact["lastmodifieddate"] = ms(self.clock.now())
        self._index("contacts", contact_id, contact)
        owner = values.get("hubspot_owner_id")
        if owner in self.reassign and source != "AUTOMATION_PLATFORM":
            # A workflow enrolled by this change acts after the write, on its own schedule
            # (knowledge.hubspot.com "Manage workflow settings": actions run when the
            # enrolled record reaches them, and may be rescheduled), never inside the
            # API's response.
            self._due.append((self.clock.t + self.workflow_delay, contact_id, self.reassign[owner]))

    def _run_workflows(self) -> None:
        """Apply every workflow action whose time has come."""
        due = [d for d in self._due if d[0] <= self.clock.t]
        self._due = [d for d in self._due if d[0] > self.clock.t]
        for _, contact_id, owner in due:
            self._set(contact_id, {"hubspot_owner_id": owner}, source="AUTOMATION_PLATFORM")

    # ----------------------------------------------------------------- router

    def _build_router(self) -> respx.MockRouter:
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        base = "https://api.hubapi.com"
        assoc = r"(?:v4/associations|associations/\d{4}-\d{2})"
        kinds = "|".join(ACTIVITY_KINDS)
        routes: list[tuple[str, str, str, Callable[[httpx.Request], httpx.Response]]] = [
            ("POST", r"^/oauth/(?:v1|v3|\d{4}-\d{2})/token$", "token", self._token),
            ("GET", rf"^/crm/{_OWNERS}/?$", "owners", self._owners),
            ("GET", rf"^/crm/{_PROPERTIES}/(\w+)/([\w-]+)$", "properties", self._property),
            ("GET", rf"^/crm/{_VERSION}/companies$", "companies", self._companies),
            ("GET", rf"^/crm/{_VERSION}/users$", "users", self._users),
            ("POST", rf"^/crm/{_VERSION}/contacts/search$", "search", self._search_contacts),
            ("POST", rf"^/crm/{_VERSION}/contacts/batch/read$", "batch_read", self._batch_read),
            ("POST", rf"^/crm/{_VERSION}/contacts/batch/update$", "batch_update", self._update),
            ("POST", rf"^/crm/{assoc}/(\w+)/(\w+)/batch/read$", "associations", self._associations),
            (
                "POST",
                rf"^/crm/{_VERSION}/({kinds})/search$",
                "activity_search",
                self._search_activities,
            ),
            ("POST", rf"^/crm/{_VERSION}/tasks/search$", "task_search", self._search_tasks),
            ("POST", rf"^/crm/{_VERSION}/tasks/batch/create$", "task_create", self._create_tasks),
            ("POST", rf"^/crm/{_VERSION}/tasks/batch/upsert$", "task_upsert", self._upsert_tasks),
            (
                "POST",
                rf"^/crm/{assoc}/tasks/contacts/batch/associate/default$",
                "task_associate",
                self._associate_tasks,
            ),
        ]
        for method, pattern, name, handler in routes:
            router.route(method=method, url__startswith=base, path__regex=pattern).mock(
                side_effect=self._wrap(name, handler)
            )
        router.route().mock(side_effect=unexpected)
        return router

    def _wrap(
        self, name: str, handler: Callable[[httpx.Request], httpx.Response]
    ) -> Callable[[httpx.Request], httpx.Response]:
        def respond(request: httpx.Request) -> httpx.Response:
            self.requests.append((request.method, request.url.path))
            self._run_workflows()
            for key in (name, "*"):
                queue = self._faults.get(key)
                if queue and queue[0].skip > 0:
                    queue[0].skip -= 1
                elif queue:
                    fault = queue[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.pop(0)
                    if fault.status == 0:
                        if fault.after_commit:
                            handler(request)
                        raise httpx.ReadTimeout("timed out", request=request)
                    return httpx.Response(
                        fault.status, json=dict(fault.body), headers=dict(fault.headers)
                    )
            if name != "token":
                denied = self._check_auth(request)
                if denied is not None:
                    return denied
                limited = self._limits(search=name.endswith("search"))
                if limited is not None:
                    return limited
            response = handler(request)
            if name != "token" and not name.endswith("search"):
                response.headers.update(self._rate_headers())
            return response

        return respond

    def _check_auth(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        expiry = self._token_expiry.get(token)
        if token in self.tokens and (expiry is None or self.clock.t < expiry):
            return None
        category = "EXPIRED_AUTHENTICATION" if token.startswith("at-") else "INVALID_AUTHENTICATION"
        return httpx.Response(
            401,
            json={
                "status": "error",
                "message": "The OAuth token used to make this call expired 0 second(s) ago."
                if category == "EXPIRED_AUTHENTICATION"
                else "Authentication credentials not found.",
                "correlationId": "0b9e3a58-8a8e-4a5e-9c4f-6d1f6f1c2b11",
                "category": category,
            },
        )

    def _limits(self, *, search: bool) -> httpx.Response | None:
        now = self.clock.t
        if len(self.requests) > self.daily_limit:
            return httpx.Response(429, json=rate_limit_body("DAILY"))
        if search:
            recent = [t for t in self._search_times if now - t < 1.0]
            self._search_times = [*recent, now]
            if len(recent) >= 4:
                self.search_429s += 1
                return httpx.Response(429, json=rate_limit_body("SECONDLY"))
            return None
        self._window = [t for t in self._window if now - t < 10.0] + [now]
        if len(self._window) > self.rate_max:
            self.burst_429s += 1
            return httpx.Response(429, json=rate_limit_body("TEN_SECONDLY_ROLLING"))
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(self.rate_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.rate_max - len(self._window))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(
                max(0, self.daily_limit - len(self.requests))
            ),
        }

    # ----------------------------------------------------------------- handlers: reads

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != (
            self.refresh_token
        ):
            return httpx.Response(
                400,
                json={"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"},
            )
        token = f"at-{next(self._issued)}"
        self.tokens.add(token)
        self._token_expiry[token] = self.clock.t + self.token_lifetime
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "refresh_token": self.refresh_token,
                "access_token": token,
                "expires_in": self.token_lifetime,
            },
        )

    def _owners(self, request: httpx.Request) -> httpx.Response:
        archived = request.url.params.get("archived", "false") == "true"
        owners = [o for o in self.owners.values() if bool(o["archived"]) == archived]
        return page(owners, request, default_limit=100)

    def _property(self, request: httpx.Request) -> httpx.Response:
        # developers.hubspot.com "Read a property": the definition, or 404.
        *_, object_type, name = request.url.path.split("/")
        spec = self.properties.get(object_type, {}).get(name)
        if spec is None:
            return error(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property with name {name} for object type {object_type}",
            )
        return httpx.Response(200, json=spec)

    def _companies(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("properties", "").split(",")
        records = [record(cid, props, wanted) for cid, props in sorted(self.companies.items())]
        return page(records, request, default_limit=10)

    def _users(self, request: httpx.Request) -> httpx.Response:
        # developers.hubspot.com/docs/api/crm/users: GET /crm/v3/objects/users with a
        # properties list; ids are the portal's user-object ids, not owner ids.
        wanted = request.url.params.get("properties", "").split(",")
        records = [record(uid, props, wanted) for uid, props in sorted(self.users.items())]
        return page(records, request, default_limit=10)

    def _search(
        self, kind: str, store: Mapping[str, Mapping[str, str]], request: httpx.Request
    ) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        limit = int(body.get("limit", 10))
        after = int(body.get("after") or 0)
        if limit > 200:
            return error(400, "VALIDATION_ERROR", "limit must be at most 200")
        if after >= self.search_cap:
            return error(400, "VALIDATION_ERROR", f"paging past {self.search_cap} results")
        groups = body.get("filterGroups") or [{"filters": []}]
        hits = [
            (rid, props)
            for rid, props in self._visible(kind, store).items()
            if any(all(matches(props, f) for f in g.get("filters", [])) for g in groups)
        ]
        for sort in reversed(body.get("sorts") or [{"propertyName": "hs_object_id"}]):
            name = sort["propertyName"] if isinstance(sort, Mapping) else str(sort)
            desc = isinstance(sort, Mapping) and sort.get("direction") == "DESCENDING"
            hits.sort(key=lambda h, n=name: number(h[1].get(n)) or 0.0, reverse=desc)
        stop = min(after + limit, self.search_cap, len(hits))
        wanted = [*(body.get("properties") or []), "hs_object_id", "createdate"]
        found = [record(rid, props, wanted) for rid, props in hits[after:stop]]
        result: dict[str, Any] = {"total": len(hits), "results": found}
        if stop < len(hits):
            result["paging"] = {"next": {"after": str(stop), "link": "?after=" + str(stop)}}
        return httpx.Response(200, json=result)

    def _search_contacts(self, request: httpx.Request) -> httpx.Response:
        return self._search("contacts", self.contacts, request)

    def _search_tasks(self, request: httpx.Request) -> httpx.Response:
        store = {tid: t["properties"] for tid, t in self.tasks.items()}
        return self._search("tasks", store, request)

    def _search_activities(self, request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 2)[-2]
        store = {aid: a["properties"] for aid, a in self.activities[kind].items()}
        return self._search(kind, store, request)

    def _batch_read(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        inputs = body.get("inputs", [])
        with_history = list(body.get("propertiesWithHistory") or [])
        # crm-apis.md 1.4: batch read with propertiesWithHistory is capped at 50 inputs.
        if with_history and len(inputs) > 50:
            return error(
                400,
                "VALIDATION_ERROR",
                "The maximum number of inputs supported in a batch with propertiesWithHistory is 50",
            )
        if len(inputs) > 100:
            return error(400, "VALIDATION_ERROR", "The maximum number of inputs is 100")
        results = []
        for item in inputs:
            cid = str(item["id"])
            if cid not in self.contacts:
                continue
            found = record(cid, self.contacts[cid], list(body.get("properties") or []))
            if with_history:
                found["propertiesWithHistory"] = {
                    name: self._history_of(cid, name) for name in with_history
                }
            results.append(found)
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})

    def _history_of(self, contact_id: str, name: str) -> list[dict[str, Any]]:
        versions = self.history.get(contact_id, {}).get(name)
        if versions is not None:
            return versions
        value = self.contacts[contact_id].get(name) or ""
        created = self.contacts[contact_id].get("createdate", "0")
        when = datetime.fromtimestamp(int(created) / 1000, tz=UTC).isoformat()
        return [{"value": value, "timestamp": when, "sourceType": "IMPORT"}] if value else []

    def _associations(self, request: httpx.Request) -> httpx.Response:
        # developers.hubspot.com "Batch read associations" (v4): results page per record;
        # a row with more associations carries paging.next.after, sent back with the id.
        *_, from_kind, to_kind, _, _ = request.url.path.split("/")
        inputs = json.loads(request.content)["inputs"]
        results = []
        for item in inputs:
            source = str(item["id"])
            links = self._links(from_kind, to_kind, source)
            start = int(item.get("after") or 0)
            chunk = links[start : start + self.association_page]
            if not chunk:
                continue
            row: dict[str, Any] = {"from": {"id": source}, "to": chunk}
            if start + self.association_page < len(links):
                row["paging"] = {"next": {"after": str(start + self.association_page)}}
            results.append(row)
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})

    def _links(self, from_kind: str, to_kind: str, source: str) -> list[dict[str, Any]]:
        """A record's associations in id order (HubSpot does not put the primary first)."""
        if (from_kind, to_kind) == ("contacts", "companies"):
            companies = self.contact_companies.get(source, [])
            primary = companies[0] if companies else ""
            pairs = [(int(c), 1 if c == primary else 279) for c in companies]
        elif from_kind in ACTIVITY_KINDS and to_kind == "contacts":
            activity = self.activities[from_kind].get(source, {})
            pairs = [(int(c), ACTIVITY_TO_CONTACT[from_kind]) for c in activity.get("contacts", [])]
        else:
            raise AssertionError(f"the fake has no associations {from_kind} -> {to_kind}")
        return [
            {
                "toObjectId": to_id,
                "associationTypes": [
                    {
                        "category": "HUBSPOT_DEFINED",
                        "typeId": type_id,
                        "label": "Primary" if type_id == 1 else None,
                    }
                ],
            }
            for to_id, type_id in sorted(pairs)
        ]

    # ----------------------------------------------------------------- handlers: writes

    def _update(self, request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 100:
            return error(
                400,
                "VALIDATION_ERROR",
                "The maximum number of inputs supported in a batch is 100. "
                "Please reduce the number of items and try again",
            )
        refusals: dict[str, dict[str, Any]] = {}
        for item in inputs:
            cid, props = str(item["id"]), dict(item["properties"])
            refusal = self._invalid(cid, props)
            if refusal is None:
                continue
            if self.whole_batch_validation and refusal["category"] == "VALIDATION_ERROR":
                # One invalid record fails the call; the message names the property, not
                # the record (HubSpot's usual answer to a batch with one bad input).
                return httpx.Response(
                    400, json={k: v for k, v in refusal.items() if k != "context"}
                )
            refusals[cid] = refusal
        results = []
        for item in inputs:
            cid, props = str(item["id"]), dict(item["properties"])
            if cid in refusals:
                continue
            self._set(cid, props, source="INTEGRATION")
            results.append(record(cid, self.contacts[cid], list(props)))
        now = self.clock.now().isoformat()
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        }
        if refusals:
            body |= {"numErrors": len(refusals), "errors": list(refusals.values())}
        return httpx.Response(207 if refusals else 200, json=body)

    def _invalid(self, cid: str, props: Mapping[str, str]) -> dict[str, Any] | None:
        if cid not in self.contacts:
            return {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not "
                f"exist. Check that ids are valid. ({cid})",
                "context": {"ids": [cid]},
            }
        owner = props.get("hubspot_owner_id")
        gone = owner not in self.owners or self.owners[owner]["archived"]
        if owner and (gone or owner in self.deactivated):
            return {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: {owner} was not one of the allowed "
                "options for hubspot_owner_id",
                "context": {"ids": [cid], "propertyName": ["hubspot_owner_id"]},
                "errors": [{"code": "INVALID_OPTION", "in": "hubspot_owner_id"}],
            }
        invalid = invalid_values(self.properties["contacts"], props)
        if invalid is None:
            return None
        body, names = invalid
        return {
            **body,
            "context": {"ids": [cid], "propertyName": names},
            "errors": [{"code": "INVALID_PROPERTY", "in": name} for name in names],
        }

    def _task_problem(self, item: Mapping[str, Any], *, upsert: bool) -> httpx.Response | None:
        props = item.get("properties") or {}
        invalid = invalid_values(self.properties["tasks"], props)
        if invalid is not None:
            return httpx.Response(400, json=invalid[0])
        if not props.get("hs_timestamp"):
            return error(400, "VALIDATION_ERROR", "hs_timestamp is required")
        if not upsert:
            types = [t for a in item.get("associations", []) for t in a["types"]]
            if not any(t["associationTypeId"] == TASK_TO_CONTACT for t in types):
                return error(400, "VALIDATION_ERROR", "task must be associated with a contact")
        return None

    def _unique_clash(self, props: Mapping[str, str], skip: str = "") -> str:
        """The value of a unique property another task already holds ("" when none)."""
        for name, value in props.items():
            spec = self.properties["tasks"].get(name, {})
            if not spec.get("hasUniqueValue") or not value:
                continue
            for tid, task in self.tasks.items():
                if tid != skip and task["properties"].get(name) == value:
                    return f"{name}={value}"
        return ""

    def _create_tasks(self, request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 100:
            return error(400, "VALIDATION_ERROR", "The maximum number of inputs is 100")
        for item in inputs:
            problem = self._task_problem(item, upsert=False)
            if problem is not None:
                return problem
            clash = self._unique_clash(item["properties"])
            if clash:
                # A property with unique values refuses a second record with the same value.
                return error(409, "CONFLICT", f"A task already has {clash} (a unique value)")
        results = []
        for item in inputs:
            props = dict(item["properties"])
            tid = str(next(self._ids))
            props["hs_object_id"] = tid
            self.tasks[tid] = {"properties": props, "associations": list(item["associations"])}
            self._index("tasks", tid, props)
            results.append(record(tid, props, list(props)))
        return httpx.Response(201, json={"status": "COMPLETE", "results": results})

    def _upsert_tasks(self, request: httpx.Request) -> httpx.Response:
        # developers.hubspot.com "Create or update a batch of tasks by unique property values":
        # each input names idProperty, a property whose values are unique; existing records
        # are updated, the rest created (``new``). Upsert inputs carry no associations.
        inputs = json.loads(request.content)["inputs"]
        if len(inputs) > 100:
            return error(400, "VALIDATION_ERROR", "The maximum number of inputs is 100")
        for item in inputs:
            name = str(item.get("idProperty") or "")
            spec = self.properties["tasks"].get(name)
            if spec is None or not spec["hasUniqueValue"]:
                return error(
                    400,
                    "VALIDATION_ERROR",
                    f"{name or 'idProperty'} is not a unique identifier property of tasks",
                )
            problem = self._task_problem(item, upsert=True)
            if problem is not None:
                return problem
        results = []
        for item in inputs:
            name, value = str(item["idProperty"]), str(item["id"])
            props = {**item["properties"], name: value}
            existing = next(
                (tid for tid, t in self.tasks.items() if t["properties"].get(name) == value), None
            )
            if existing is None:
                tid = str(next(self._ids))
                props.setdefault("hs_task_status", "NOT_STARTED")  # HubSpot's default
                self.tasks[tid] = {"properties": {**props, "hs_object_id": tid}, "associations": []}
            else:
                tid = existing
                self.tasks[tid]["properties"].update(props)
            self._index("tasks", tid, self.tasks[tid]["properties"])
            found = record(tid, self.tasks[tid]["properties"], list(props))
            results.append({**found, "new": existing is None})
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})

    def _associate_tasks(self, request: httpx.Request) -> httpx.Response:
        # developers.hubspot.com "Create default associations" (v4 batch): associating
        # twice is harmless.
        inputs = json.loads(request.content)["inputs"]
        results = []
        for item in inputs:
            tid, contact = str(item["from"]["id"]), str(item["to"]["id"])
            task = self.tasks.get(tid)
            if task is None or contact not in self.contacts:
                return error(404, "OBJECT_NOT_FOUND", f"no task {tid} or contact {contact}")
            link = {
                "to": {"id": contact},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}
                ],
            }
            if link not in task["associations"]:
                task["associations"].append(link)
            results.append({"from": {"id": tid}, "to": {"id": contact}})
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})
