"""A service over a temp store and an in-memory CRM, and an httpx client on its ASGI app."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from leadroute.errors import AdapterError
from leadroute.host import make_host
from leadroute.models import Effect, EffectResult, InputProblem, Lead, Rep, Snapshot
from leadroute.policy import parse_policy
from leadroute.service import Service, create_app
from leadroute.store import Store

AT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
API_KEY = "test-key-1"
POLICY = """
version: "svc"
regions: {NA: [US, CA], EMEA: [GB, DE]}
pools: [{name: na, strategy: round_robin}, {name: emea, strategy: round_robin}]
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: ops, queue: unrouted, escalate_after: 2h}
lead_types:
  default: contact
  types:
    - name: demo
      when: {lead_type: demo}
      sla: 1h
      escalation: {remind_at: 0.5, on_breach: reassign}
    - {name: contact, when: {lead_type: contact}, sla: 4h}
notifications:
  record_url: "https://crm.example.com/leads/{lead_id}"
  channels: {console: {kind: console}}
  default: [console]
service:
  cors_origins: ["https://www.example.com"]
  max_body_bytes: 4096
  relay_every: 1s
  timers_every: 1s
"""
REPS = (
    Rep(id="na-1", name="Ann", pools=("na",), backup_id="na-2", manager_id="boss"),
    Rep(id="na-2", name="Bob", pools=("na",)),
    Rep(id="eu-1", name="Eve", pools=("emea",)),
    Rep(id="ops", name="Ops"),
    Rep(id="boss", name="Boss"),
)


@attrs.define
class FakeCrm:
    """An in-memory CRM: owners written by lead id; can be told to fail for a while."""

    name: str = "fake"
    reps: Sequence[Rep] = REPS
    owners: dict[str, str] = attrs.field(factory=dict)
    writes: list[str] = attrs.field(factory=list)
    records: dict[str, Lead] = attrs.field(factory=dict)
    down: int = 0
    read_fails: bool = False
    crash_after_apply: bool = False
    sent: dict[str, int] = attrs.field(factory=dict)

    def read(self) -> Snapshot:
        return Snapshot(reps=tuple(self.reps))

    def read_leads(self, ids: Sequence[str]) -> Snapshot:
        if self.read_fails:
            raise AdapterError("fake: 503 from batch read")
        return Snapshot(leads=tuple(self.records[i] for i in ids if i in self.records))

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        if self.down:
            self.down -= 1
            return [
                EffectResult(idem_key=e.idem_key, ok=False, retryable=True, detail="503")
                for e in effects
            ]
        for e in effects:
            self.sent[e.idem_key] = self.sent.get(e.idem_key, 0) + 1
            # Idempotent by key, as the real adapters are: a re-sent key changes nothing.
            if e.kind == "owner_write" and e.idem_key not in self.writes:
                self.owners[e.lead_id] = str(e.payload["owner_id"])
                self.writes.append(e.idem_key)
        if self.crash_after_apply:
            # The process dies after the CRM applied the batch, before the outbox knew.
            raise KeyboardInterrupt("killed")
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None


class Clock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime = AT) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@attrs.define
class Harness:
    service: Service
    crm: FakeCrm
    clock: Clock
    console: io.StringIO
    store_path: Path


def build_service(
    tmp_path: Path,
    *,
    policy_text: str = POLICY,
    env: dict[str, str] | None = None,
    crm: FakeCrm | None = None,
    clock: Clock | None = None,
) -> Harness:
    """A service on a fresh (or existing) store in ``tmp_path``."""
    crm = crm or FakeCrm()
    clock = clock or Clock()
    console = io.StringIO()
    store_path = tmp_path / "store.db"
    service = Service.build(
        parse_policy(policy_text),
        Store.open(store_path),
        make_host(),
        crm,
        api_keys=[API_KEY, "second-key"],
        env=env or {},
        clock=clock,
        stream=console,
    )
    return Harness(service=service, crm=crm, clock=clock, console=console, store_path=store_path)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return build_service(tmp_path)


Client = Callable[..., Any]


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app (ASGI transport), lifespan running, loops off."""
    app = create_app(harness.service, run_relay=False, run_timers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://leadroute.test",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as http:
            yield http
