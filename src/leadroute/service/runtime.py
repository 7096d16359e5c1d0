"""The running service: routing state, notifier, relay and SLA scheduler, and their loops.

``Service`` holds what a request or a background pass needs and does the blocking work
(the store, the CRM, SMTP) in plain methods; the ASGI app calls them in worker threads.
Decisions and scheduler passes share one lock, so the routing state changes one
decision at a time; the relay has its own, so a slow or failing CRM never delays intake.

``run_loops`` runs the relay and the scheduler until asked to stop: each finishes the
pass it is in (a pass is a set of transactions that are each complete), so a SIGTERM
loses nothing and a restart resumes from the store: pending effects, due timers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

import anyio.to_thread
import attrs

from leadroute.adapters import Adapter
from leadroute.engine import Engine, Verdict
from leadroute.errors import LeadrouteError
from leadroute.host import PluginHost
from leadroute.logs import get_logger
from leadroute.models import Lead, Outcome, Rep
from leadroute.notify import EffectRouter, Notifier
from leadroute.outcomes import deliver_outcomes
from leadroute.policy import Policy
from leadroute.service.metrics import Metrics
from leadroute.service.relaying import Relayer, sleep_until
from leadroute.sla import Scheduler, TickReport
from leadroute.sla.moves import EngineMover
from leadroute.store import RelayReport, Store
from leadroute.store.timers import FIRST_TOUCH_KINDS, cancel_lead_timers

__all__ = ["Service"]

log = get_logger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.define
class Service:
    """Everything the endpoints and background loops use.

    Attributes:
        policy: The routing policy.
        store: The audit store.
        host: The plugin host.
        crm: The adapter owner writes go through (and team reads come from).
        notifier: Sends notification effects.
        engine: The routing state (built once from the store, updated as it decides).
        scheduler: Fires SLA timers.
        relayer: Applies the outbox (CRM writes and notifications).
        metrics: Prometheus metrics.
        api_keys: Accepted API keys.
        env: Where secrets come from.
        clock: The current time (UTC).
    """

    policy: Policy
    store: Store
    host: PluginHost
    crm: Adapter
    notifier: Notifier
    engine: Engine
    scheduler: Scheduler
    relayer: Relayer
    metrics: Metrics
    api_keys: tuple[str, ...]
    env: Mapping[str, str]
    clock: Callable[[], datetime] = _utcnow
    _decide_lock: threading.Lock = attrs.field(factory=threading.Lock)

    @classmethod
    def build(
        cls,
        policy: Policy,
        store: Store,
        host: PluginHost,
        crm: Adapter,
        *,
        api_keys: Sequence[str],
        env: Mapping[str, str],
        clock: Callable[[], datetime] = _utcnow,
        stream: IO[str] | None = None,
        notifier_options: Mapping[str, Any] | None = None,
    ) -> Service:
        """Read the team through the CRM adapter and build the routing state once."""
        snapshot = crm.read()
        reps = {r.id: r for r in snapshot.reps}
        notifier = Notifier(policy, reps, env=env, stream=stream, **(notifier_options or {}))
        engine = Engine.open(
            policy, store, reps=snapshot.reps, accounts=snapshot.accounts, host=host, clock=clock
        )
        scheduler = Scheduler(
            store=store, policy=policy, reps=reps, mover=EngineMover(engine), clock=clock
        )
        log.info("service.built", reps=len(reps), accounts=len(snapshot.accounts))
        metrics = Metrics(store)
        relayer = Relayer(
            store=store,
            adapter=EffectRouter(crm, notifier),
            idle=policy.service.relay_every.total_seconds(),
            metrics=metrics,
            clock=clock,
        )
        return cls(
            policy=policy,
            store=store,
            host=host,
            crm=crm,
            notifier=notifier,
            engine=engine,
            scheduler=scheduler,
            relayer=relayer,
            metrics=metrics,
            api_keys=tuple(api_keys),
            env=env,
            clock=clock,
        )

    @property
    def reps(self) -> Mapping[str, Rep]:
        """The team as the service knows it."""
        return self.engine.reps

    def close(self) -> None:
        """Release the notifier's client and the store."""
        self.notifier.close()
        self.store.close()

    # ----------------------------------------------------------------- blocking work

    def decide(self, lead: Lead) -> Verdict:
        """Decide (or replay) one lead; never touches the CRM."""
        started = time.perf_counter()
        with self._decide_lock:
            verdict = self.engine.decide(lead, self.clock())
        elapsed = time.perf_counter() - started
        if verdict.decision is None:
            problems = verdict.rejected.problems if verdict.rejected else ()
            for code in sorted({p.code for p in problems}):
                self.metrics.rejected.labels(code=code).inc()
        elif not verdict.new:
            self.metrics.replayed.inc()
        else:
            self.metrics.decision_seconds.observe(elapsed)
            d = verdict.decision
            self.metrics.decisions.labels(step=str(d.step), status=str(d.status)).inc()
        return verdict

    @property
    def last_relay(self) -> float:
        """When the relay last finished a pass (Unix time; 0 before the first)."""
        return self.relayer.last_pass

    def relay_pass(self) -> RelayReport:
        """Apply the due effects once (owner writes through the CRM, notifications)."""
        return self.relayer.pass_once()

    def tick(self) -> TickReport:
        """Fire the SLA timers due now."""
        with self._decide_lock:
            report = self.scheduler.tick()
        self.metrics.sla_reminders.inc(report.reminders)
        self.metrics.sla_breaches.inc(report.breaches)
        self.metrics.sla_escalations.inc(report.escalations)
        return report

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> tuple[int, int]:
        """Store outcomes (through ``leadroute_record_outcome``); a first touch stops the
        lead's clock. Returns (new outcomes, timers stopped)."""
        recorded = deliver_outcomes(self.host, self.store, outcomes)
        stopped = 0
        for outcome in outcomes:
            self.metrics.outcomes.labels(kind=str(outcome.kind)).inc()
            if str(outcome.kind) in FIRST_TOUCH_KINDS:
                stopped += cancel_lead_timers(
                    self.store,
                    outcome.lead_id,
                    reason=f"{outcome.kind} at {outcome.at.isoformat()}",
                    at=self.clock(),
                )
        return recorded, stopped

    def read_leads(self, ids: Sequence[str]) -> list[Lead]:
        """The CRM's current version of some records (a webhook says only which changed)."""
        reader = getattr(self.crm, "read_leads", None)
        if reader is None:
            raise LeadrouteError(f"the {self.crm.name} adapter cannot read records by id")
        return list(reader(list(ids)).leads)

    # ----------------------------------------------------------------- loops

    def wake(self) -> None:
        """Tell the relay there is new work (a decision was committed)."""
        if self.relayer.wake is not None:
            self.relayer.wake.set()

    async def run_loops(
        self, stop: asyncio.Event, *, relay: bool = True, timers: bool = True
    ) -> None:
        """Run the relay and the SLA scheduler until ``stop`` is set."""
        async with anyio.create_task_group() as group:
            if relay:
                group.start_soon(self.relayer.run, stop)
            if timers:
                group.start_soon(self._timer_loop, stop)

    async def _timer_loop(self, stop: asyncio.Event) -> None:
        every = self.policy.service.timers_every.total_seconds()
        while not stop.is_set():
            try:
                report = await anyio.to_thread.run_sync(self.tick)
                if report.reminders or report.breaches or report.escalations or report.moved:
                    self.wake()
            except LeadrouteError as exc:
                log.warning("sla.pass_failed", error=type(exc).__name__, detail=str(exc)[:200])
            await sleep_until(stop, every)
