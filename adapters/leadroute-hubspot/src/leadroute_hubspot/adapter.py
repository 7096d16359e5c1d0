"""``HubSpotAdapter``: read a portal for routing or rebalancing, write owners and tasks back.

Secrets come from the environment only (``leadroute_hubspot.auth``). The HTTP client,
clock, sleep and search window can be replaced for a block of code with ``use_runtime``
(the fake HubSpot in ``leadroute_hubspot.testing`` does), so the CLI can run end to end
against the fake without sleeping and without the network.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx

from leadroute.adapters import AdapterConfig
from leadroute.clock import utcnow
from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult, InputProblem, Lead, Rep, Snapshot
from leadroute.spreadsheet import write_csv_atomic
from leadroute_hubspot.auth import auth_from_env
from leadroute_hubspot.client import HubSpotClient
from leadroute_hubspot.mapping import (
    HubSpotSettings,
    account_from_company,
    lead_from_contact,
    settings_from_options,
)
from leadroute_hubspot.outcomes import read_outcomes
from leadroute_hubspot.properties import PropertyCheck
from leadroute_hubspot.reading import SEARCH_CAP, PortalReader, search_filters
from leadroute_hubspot.reps import USER_PROPERTIES, build_reps
from leadroute_hubspot.tasks import TaskWriter
from leadroute_hubspot.writing import OwnerWriter

__all__ = ["EXCEPTION_COLUMNS", "HubSpotAdapter", "Runtime", "use_runtime"]

log = get_logger(__name__)

EXCEPTION_COLUMNS = ("file", "line", "kind", "record_id", "field", "code", "message")
COMPANY_PROPERTIES = ("name", "domain", "hubspot_owner_id", "lifecyclestage", "country")


def _http() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))


@attrs.frozen(kw_only=True)
class Runtime:
    """What the adapter takes from the process: HTTP client, environment, time, search window.

    Attributes:
        http: Builds the HTTP client.
        env: Where secrets are read from.
        clock: Monotonic seconds.
        sleep: How to wait.
        now: Wall-clock UTC.
        window_cap: Results one search query may page through (HubSpot's cap: 10,000).
    """

    http: Callable[[], httpx.Client] = _http
    env: Mapping[str, str] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = utcnow
    window_cap: int = SEARCH_CAP


_RUNTIME: ContextVar[Runtime] = ContextVar("leadroute_hubspot_runtime", default=Runtime())  # noqa: B039


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Build adapters with ``runtime`` inside the block."""
    token = _RUNTIME.set(runtime)
    try:
        yield runtime
    finally:
        _RUNTIME.reset(token)


@attrs.define
class HubSpotAdapter:
    """Reads contacts, owners and companies from a portal; writes owners and tasks back.

    Attributes:
        client: The HubSpot client.
        settings: The checked ``adapters.hubspot`` table.
        purpose: ``route`` (contacts without an owner) or ``rebalance`` (owned contacts).
        output_dir: Where the exception report is written.
        reader: Owners, search and associations.
    """

    client: HubSpotClient
    settings: HubSpotSettings
    purpose: str
    output_dir: Path
    reader: PortalReader
    workdir: Path = attrs.field(factory=Path.cwd)
    checks: PropertyCheck = attrs.field(kw_only=True)
    name: str = "hubspot"
    _writer: TaskWriter | None = None
    _refused: dict[str, str] = attrs.field(factory=dict)
    _lead_types: dict[str, str] = attrs.field(factory=dict)
    _names: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_config(cls, config: AdapterConfig) -> HubSpotAdapter:
        """Build from the policy's ``adapters.hubspot`` table and the environment."""
        runtime = _RUNTIME.get()
        env = runtime.env if runtime.env is not None else os.environ
        settings = attrs.evolve(
            settings_from_options(config.options, env),
            number_ranges=config.policy.validation.number_ranges,
        )
        http = runtime.http()
        auth = auth_from_env(env, http, f"{settings.base_url}/oauth/v1/token", runtime.clock)
        client = HubSpotClient(
            http=http,
            auth=auth,
            base_url=settings.base_url,
            api_version=settings.api_version,
            clock=runtime.clock,
            sleep=runtime.sleep,
            now=runtime.now,
        )
        output = settings.output_dir or config.options.get("output_dir") or config.workdir
        return cls(
            client=client,
            settings=settings,
            purpose=config.purpose,
            output_dir=Path(output),
            reader=PortalReader(
                client, window_cap=runtime.window_cap, page_size=settings.page_size
            ),
            workdir=config.workdir,
            checks=PropertyCheck(client, settings),
        )

    @property
    def exceptions_path(self) -> Path:
        """Where the exception report is written."""
        return self.output_dir / "hubspot-exceptions.csv"

    # ----------------------------------------------------------------- read

    def read(self) -> Snapshot:
        """Owners, the contacts this purpose needs, companies and contact-company links.

        First, once per run, every property the adapter will write is checked
        (``ConfigurationError`` names a missing one before anything is decided).
        """
        self.checks.ensure()
        s = self.settings
        owners = self.reader.owners()
        self._refused = {
            str(o["id"]): (
                f"owner {o['id']} is deactivated in HubSpot"
                if o.get("archived")
                else f"owner {o['id']} is a queue, not a person"
            )
            for o in owners
            if o.get("archived") or str(o.get("type") or "PERSON") != "PERSON"
        }
        since = s.created_since - s.lookback if s.created_since else None
        contacts = self.reader.search_all(
            "contacts",
            search_filters(
                owned=self.purpose == "rebalance",
                lifecycle_stages=s.lifecycle_stages,
                created_since=since,
            ),
            s.contact_properties(),
        )
        leads, problems = self._leads(contacts)
        reps, rep_problems = self._reps(owners, leads)
        problems += rep_problems
        accounts = tuple(account_from_company(c) for c in self.reader.companies(COMPANY_PROPERTIES))
        own: dict[str, set[str]] = {}
        for values in (s.on_routed, s.on_fallback):
            for name, value in values.items():
                own.setdefault(name, set()).add(value)
        outcomes = read_outcomes(
            self.reader, s.outcomes, self.client.now(), owners=owners, own_values=own
        )
        log.info(
            "hubspot.read",
            purpose=self.purpose,
            leads=len(leads),
            reps=len(reps),
            accounts=len(accounts),
            problems=len(problems),
            outcomes=len(outcomes),
        )
        return Snapshot(
            leads=tuple(leads),
            reps=tuple(reps),
            accounts=accounts,
            problems=tuple(problems),
            outcomes=tuple(outcomes),
        )

    def _leads(
        self, contacts: Sequence[Mapping[str, Any]]
    ) -> tuple[list[Lead], list[InputProblem]]:
        """Contacts as leads (with their first company), unusable ones as problems."""
        leads: list[Lead] = []
        problems: list[InputProblem] = []
        for contact in sorted(contacts, key=lambda c: int(c["id"])):
            item = lead_from_contact(contact, self.settings)
            if isinstance(item, Lead):
                leads.append(item)
            else:
                problems.append(item)
        companies = self.reader.company_ids([lead.id for lead in leads])
        leads = [
            attrs.evolve(
                lead, attributes={**lead.attributes, "hubspot_company_id": companies[lead.id][0]}
            )
            if companies.get(lead.id)
            else lead
            for lead in leads
        ]
        self._lead_types |= {lead.id: lead.lead_type for lead in leads}
        self._names |= {lead.id: lead.name for lead in leads}
        return leads, problems

    def read_leads(self, ids: Sequence[str]) -> Snapshot:
        """The contacts a webhook named, read now in batches of 100, as leads to route.

        The webhook is a trigger, not the record: what is routed is the contact as it is
        now. Contacts deleted since are left out; unusable ones are problems.
        """
        contacts = self.reader.contacts(list(ids), self.settings.contact_properties())
        leads, problems = self._leads(contacts)
        log.info("hubspot.read_leads", asked=len(ids), leads=len(leads), problems=len(problems))
        return Snapshot(leads=tuple(leads), problems=tuple(problems))

    def _reps(
        self, owners: Sequence[Mapping[str, Any]], leads: Sequence[Lead]
    ) -> tuple[list[Rep], list[InputProblem]]:
        """Reps with full profiles and open-lead counts (from the read when rebalancing,
        else by search for capped reps), and the problems reading the profiles."""
        users = (
            self.reader.users([*USER_PROPERTIES, *self.settings.user_properties.values()])
            if self.settings.users
            else []
        )
        held = Counter(lead.owner_id for lead in leads) if self.purpose == "rebalance" else None
        reps, problems = build_reps(
            owners, users, self.settings, workdir=self.workdir, open_leads=held
        )
        if held is not None:
            return reps, problems
        return [self._counted(rep) for rep in reps], problems

    def _counted(self, rep: Rep) -> Rep:
        """A capped rep with the contacts it holds now (one search); others as they are."""
        if not rep.active or rep.capacity.max_open is None:
            return rep
        filters = search_filters(owned=True, lifecycle_stages=self.settings.lifecycle_stages)
        filters[0] = {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": rep.id}
        return attrs.evolve(rep, open_leads=self.reader.count("contacts", filters))

    # ----------------------------------------------------------------- write

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Write owners (and properties) in batches; create follow-up tasks for those written."""
        self.checks.ensure()
        owner_writes = [e for e in effects if e.kind == "owner_write"]
        results: dict[str, EffectResult] = {
            e.idem_key: EffectResult(
                idem_key=e.idem_key,
                ok=False,
                detail=f"hubspot adapter does not handle {e.kind!r} effects",
            )
            for e in effects
            if e.kind != "owner_write"
        }
        writer = OwnerWriter(
            self.client,
            on_routed=self.settings.on_routed,
            on_fallback=self.settings.on_fallback,
            refused_owners=self._refused,
        )
        results |= writer.apply(owner_writes)
        if self.settings.tasks.enabled:
            results |= self._tasks([e for e in owner_writes if results[e.idem_key].ok], results)
        return [results[e.idem_key] for e in effects]

    def _task_writer(self) -> TaskWriter:
        """The adapter's one task writer (it remembers the keys it created), set up by the check."""
        if self._writer is None:
            self._writer = TaskWriter(
                self.client, self.settings.tasks, upsert=self.checks.unique_task_key
            )
        self._writer.lead_types = self._lead_types
        self._writer.names = self._names
        return self._writer

    def _tasks(
        self, written: Sequence[Effect], results: Mapping[str, EffectResult]
    ) -> dict[str, EffectResult]:
        """Owner writes whose task was not created become retryable (re-writing the owner is harmless)."""
        tasks = self._task_writer()
        fresh = [
            e for e in written if results[e.idem_key].detail != "superseded by a later decision"
        ]
        try:
            failed = tasks.create(fresh)
        except AuthError:
            raise
        except (QuotaExhaustedError, RateLimitedError) as exc:
            # The owner is written; the task waits for the quota without spending an attempt.
            return {
                e.idem_key: EffectResult(
                    idem_key=e.idem_key,
                    ok=False,
                    quota=True,
                    detail=f"owner written; follow-up task waits: {exc}",
                )
                for e in fresh
            }
        except AdapterError as exc:
            failed = {e.idem_key: str(exc) for e in fresh}
        return {
            key: EffectResult(
                idem_key=key,
                ok=False,
                retryable=True,
                detail=f"owner written; follow-up task not created: {why}",
            )
            for key, why in failed.items()
        }

    # ----------------------------------------------------------------- read back

    @property
    def owner_settle(self) -> timedelta:
        """How long after a write its owner is read back (``override_check_after``)."""
        return self.settings.override_check_after

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str]:
        """Each contact's owner now, 100 contacts a batch read; deleted contacts are absent."""
        return self.reader.owners_of(lead_ids)

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        """Write this run's exception report to ``hubspot-exceptions.csv``."""
        write_csv_atomic(
            self.exceptions_path,
            EXCEPTION_COLUMNS,
            (
                ["" if getattr(p, c) is None else getattr(p, c) for c in EXCEPTION_COLUMNS]
                for p in problems
            ),
        )
        log.info("hubspot.exceptions_written", rows=len(problems), file=str(self.exceptions_path))
