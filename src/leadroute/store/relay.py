"""The outbox relay: apply pending side effects through an adapter, at least once, idempotently."""

from __future__ import annotations

import attrs
import structlog

from leadroute.adapters import Adapter
from leadroute.models import EffectResult
from leadroute.store.database import Store

__all__ = ["RelayReport", "relay"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class RelayReport:
    """What one relay pass did.

    Attributes:
        applied: Effects the adapter confirmed.
        failed: Failed attempts that will be retried later.
        dead: Effects given up on (not retryable, or out of attempts).
        pending: Effects still waiting when the relay stopped.
    """

    applied: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0


def relay(store: Store, adapter: Adapter, *, batch_size: int = 500) -> RelayReport:
    """Apply pending effects in batches until none are left or a batch makes no progress."""
    applied = failed = 0
    dead_before = store.outbox_counts().get("dead", 0)
    while True:
        effects = store.pending_effects(batch_size)
        if not effects:
            break
        by_key = {r.idem_key: r for r in adapter.apply(effects)}
        results = [
            by_key.get(e.idem_key)
            or EffectResult(
                idem_key=e.idem_key, ok=False, retryable=True, detail="adapter returned no result"
            )
            for e in effects
        ]
        store.mark_effects(results)
        ok = sum(r.ok for r in results)
        applied += ok
        failed += len(results) - ok
        log.info("outbox.applied", adapter=adapter.name, applied=ok, failed=len(results) - ok)
        if ok == 0:
            break  # everything failed: stop instead of spinning; the rows stay pending or dead
    counts = store.outbox_counts()
    return RelayReport(
        applied=applied,
        failed=failed,
        dead=counts.get("dead", 0) - dead_before,
        pending=counts.get("pending", 0),
    )
