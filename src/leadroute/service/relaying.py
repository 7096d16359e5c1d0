"""The continuous relay: apply due outbox effects, back off while the CRM is down.

Each pass applies what is due (``outbox.next_attempt_at`` has passed), owner writes
through the CRM adapter and notifications through the notifier. A retryable failure
waits its own backoff in the store (2 s doubling to 10 min), so a CRM outage delays
effects without losing them or hammering the CRM, and it never touches intake: the relay
runs beside the endpoints (``serve``) or in its own process (``leadroute relay --follow``).
A pass that raises (credentials refused, the network gone) makes the loop itself wait,
doubling up to a minute; a spent daily quota pauses it for 15 minutes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import anyio.to_thread
import attrs

from leadroute.adapters import Adapter
from leadroute.errors import LeadrouteError
from leadroute.logs import get_logger
from leadroute.service.metrics import Metrics
from leadroute.store import RelayReport, Store, relay

__all__ = ["LOOP_BACKOFF", "QUOTA_PAUSE", "RELAY_MAX_ATTEMPTS", "Relayer", "sleep_until"]

log = get_logger(__name__)

# With the outbox backoff (2 s doubling to 10 min), 24 attempts span about three hours of
# a CRM outage before an effect is given up on (and reported; ``relay --retry-dead``).
RELAY_MAX_ATTEMPTS = 24
LOOP_BACKOFF = (1.0, 60.0)
QUOTA_PAUSE = 900.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def sleep_until(
    stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None
) -> None:
    """Wait ``seconds``, or less when ``stop`` (or ``wake``) is set."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if wake is not None:
        wake.clear()


@attrs.define
class Relayer:
    """Relays one store's outbox through one adapter, once or until stopped.

    Attributes:
        store: The store whose outbox is applied.
        adapter: Where effects go (an ``EffectRouter``: CRM and notifications).
        idle: Seconds between passes when nothing is due.
        metrics: Where counts go (None: nowhere).
        clock: The current time (UTC), for due times and backoff.
        max_attempts: Retryable failures before an effect is dead.
        last_pass: When the last pass finished (Unix time; 0 before the first).
    """

    store: Store
    adapter: Adapter
    idle: float = 1.0
    metrics: Metrics | None = None
    clock: Callable[[], datetime] = _utcnow
    max_attempts: int = RELAY_MAX_ATTEMPTS
    last_pass: float = 0.0
    wake: asyncio.Event | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def pass_once(self) -> RelayReport:
        """Apply the due effects once."""
        with self._lock:
            report = relay(
                self.store, self.adapter, due_by=self.clock(), max_attempts=self.max_attempts
            )
        self.last_pass = time.time()
        if self.metrics is not None:
            self.metrics.relayed.labels(result="applied").inc(report.applied)
            self.metrics.relayed.labels(result="failed").inc(report.failed)
            self.metrics.relayed.labels(result="dead").inc(report.dead)
            self.metrics.relay_last_pass.set(self.last_pass)
        if report.applied or report.failed:
            log.info(
                "relay.pass",
                applied=report.applied,
                failed=report.failed,
                dead=report.dead,
                pending=report.pending,
            )
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; the pass in progress always finishes."""
        self.wake = asyncio.Event()
        backoff = LOOP_BACKOFF[0]
        while not stop.is_set():
            wait = self.idle
            try:
                report = await anyio.to_thread.run_sync(self.pass_once)
                backoff = LOOP_BACKOFF[0]
                if report.quota:
                    wait = QUOTA_PAUSE
                elif report.applied and report.pending:
                    wait = 0.0  # more is due: go again at once
            except (LeadrouteError, OSError) as exc:
                # The CRM (or the network) is down hard: intake goes on, effects wait.
                log.warning("relay.pass_failed", error=type(exc).__name__, detail=str(exc)[:200])
                wait, backoff = backoff, min(backoff * 2, LOOP_BACKOFF[1])
            await sleep_until(stop, wait, self.wake)
