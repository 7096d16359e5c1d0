"""The outbox relay: apply pending side effects through an adapter, at least once, idempotently."""

from __future__ import annotations

import attrs
import structlog

from leadroute.adapters import Adapter
from leadroute.models import Effect, EffectResult
from leadroute.store.database import Store

__all__ = ["EffectFailure", "RelayReport", "relay"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class EffectFailure:
    """An effect that will not be applied as decided: dead, or its owner refused.

    Attributes:
        idem_key: The effect's key.
        decision_id: The decision that caused it.
        lead_id: The lead it touches.
        kind: The effect kind (``owner_write``, ``task``...).
        owner_id: The owner the effect carried (``""`` when its payload names none).
        detail: The target's reason, as the adapter reported it.
        reroute: The target refused the owner itself: decide the lead again without them.
    """

    idem_key: str
    decision_id: str
    lead_id: str
    kind: str
    owner_id: str = ""
    detail: str = ""
    reroute: bool = False

    @classmethod
    def of(cls, effect: Effect, result: EffectResult) -> EffectFailure:
        """The failure of ``effect`` as ``result`` describes it."""
        return cls(
            idem_key=effect.idem_key,
            decision_id=effect.decision_id,
            lead_id=effect.lead_id,
            kind=effect.kind,
            owner_id=str(effect.payload.get("owner_id", "")),
            detail=result.detail,
            reroute=result.reroute,
        )


@attrs.frozen(kw_only=True)
class RelayReport:
    """What one relay pass did.

    Attributes:
        applied: Effects the adapter confirmed.
        failed: Failed attempts that will be retried later.
        dead: Effects given up on (not retryable, or out of attempts).
        pending: Effects still waiting when the relay stopped.
        rerouted: Effects whose owner the target refused (the lead must be decided again).
        overridden: Owner writes after which the target held another owner.
        failures: The dead and rerouted effects, with the target's reason.
    """

    applied: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0
    rerouted: int = 0
    overridden: int = 0
    failures: tuple[EffectFailure, ...] = ()

    def __add__(self, later: RelayReport) -> RelayReport:
        """Two passes as one report (``pending`` is the later pass's)."""
        return RelayReport(
            applied=self.applied + later.applied,
            failed=self.failed + later.failed,
            dead=self.dead + later.dead,
            pending=later.pending,
            rerouted=self.rerouted + later.rerouted,
            overridden=self.overridden + later.overridden,
            failures=self.failures + later.failures,
        )


def relay(store: Store, adapter: Adapter, *, batch_size: int = 500) -> RelayReport:
    """Apply pending effects in batches until none are left or a batch makes no progress."""
    applied = failed = rerouted = overridden = 0
    failures: list[EffectFailure] = []
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
        dead = store.mark_effects(results)
        for effect, result in zip(effects, results, strict=True):
            if result.ok and result.observed_owner:
                overridden += 1
                log.warning(
                    "outbox.owner_overridden",
                    lead_id=effect.lead_id,
                    rep_id=effect.payload.get("owner_id", ""),
                    observed=result.observed_owner,
                )
            elif result.reroute or result.idem_key in dead:
                failures.append(EffectFailure.of(effect, result))
                rerouted += result.reroute
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
        rerouted=rerouted,
        overridden=overridden,
        failures=tuple(failures),
    )
