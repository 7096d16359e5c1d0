"""The outbox relay: apply pending side effects through an adapter, at least once, idempotently.

A pass tries each pending effect at most once, oldest first, in batches. What the
adapter says about each effect decides its row (``Store.mark_effects``): done, pending
again (retryable, one attempt spent), dead (out of attempts or not retryable), rerouted
(the target refused the owner) or, for a ``quota`` verdict, pending with no attempt
spent. A quota verdict (or an adapter raising ``QuotaExhaustedError`` or
``RateLimitedError``) ends the pass: the rest stays pending for the next run, and the
report says why (``RelayReport.quota``) so the command exits 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import attrs

from leadroute.adapters import Adapter, OwnerReader
from leadroute.errors import QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult, InputProblem
from leadroute.store.database import OutboxRow, Store

__all__ = ["EffectFailure", "RelayReport", "recheck_owners", "relay", "unresolved_failures"]

log = get_logger(__name__)


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

    @classmethod
    def of_row(cls, row: OutboxRow) -> EffectFailure:
        """The failure a stored dead or refused row records."""
        effect = row.effect
        return cls(
            idem_key=effect.idem_key,
            decision_id=effect.decision_id,
            lead_id=effect.lead_id,
            kind=effect.kind,
            owner_id=str(effect.payload.get("owner_id", "")),
            detail=row.last_error,
            reroute=row.status == "rerouted",
        )

    def as_problem(self) -> InputProblem:
        """The exception-report row: ``OWNER_REFUSED`` for a refusal, else ``EFFECT_FAILED``."""
        if self.reroute:
            code = "OWNER_REFUSED"
            message = (
                f"the target refused owner {self.owner_id} ({self.detail}) and no other "
                "owner could be chosen"
            )
        else:
            code = "EFFECT_FAILED"
            message = f"{self.kind} not applied: {self.detail}"
        return InputProblem(
            file=f"outbox:{self.kind}",
            line=None,
            record_id=self.lead_id,
            kind="effect",
            field=self.kind,
            code=code,
            message=message,
        )


def unresolved_failures(store: Store) -> list[EffectFailure]:
    """Every effect a human must see, from any run: dead, or refused and never rerouted.

    They stay listed in every exception report until ``leadroute relay --retry-dead``
    queues them again, ``--resolve`` closes them, or a later decision replaces theirs.
    """
    return [EffectFailure.of_row(row) for row in store.unresolved_rows()]


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
        quota: Why the target's API quota stopped the pass (``""``: it did not). The
            effects not applied stay pending, with no attempt spent.
        cursor: The last outbox row the pass tried; a later pass of the same run starts
            after it, so no effect is tried twice in one run.
    """

    applied: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0
    rerouted: int = 0
    overridden: int = 0
    failures: tuple[EffectFailure, ...] = ()
    quota: str = ""
    cursor: int = 0

    def __add__(self, later: RelayReport) -> RelayReport:
        """Two passes as one report (``pending`` and ``cursor`` are the later pass's)."""
        return RelayReport(
            applied=self.applied + later.applied,
            failed=self.failed + later.failed,
            dead=self.dead + later.dead,
            pending=later.pending,
            rerouted=self.rerouted + later.rerouted,
            overridden=self.overridden + later.overridden,
            failures=self.failures + later.failures,
            quota=later.quota or self.quota,
            cursor=max(self.cursor, later.cursor),
        )


def _apply(adapter: Adapter, effects: Sequence[Effect]) -> list[EffectResult]:
    """One result per effect, in order; a quota error from the adapter becomes quota verdicts."""
    try:
        by_key = {r.idem_key: r for r in adapter.apply(effects)}
    except (QuotaExhaustedError, RateLimitedError) as exc:
        # Nothing of this batch is known to be applied: all of it stays pending, and
        # what the adapter did apply is re-sent next run under the same keys (idempotent).
        return [
            EffectResult(idem_key=e.idem_key, ok=False, quota=True, detail=str(exc))
            for e in effects
        ]
    return [
        by_key.get(e.idem_key)
        or EffectResult(
            idem_key=e.idem_key, ok=False, retryable=True, detail="adapter returned no result"
        )
        for e in effects
    ]


def recheck_owners(store: Store, adapter: Adapter, *, limit: int = 1000) -> tuple[int, str]:
    """Read back owner writes the target has had ``owner_settle`` to change; count overrides.

    Workflows and assignment rules act after the write that enrolled the record (HubSpot
    runs them asynchronously), so an owner the write's answer confirmed may be replaced
    minutes later. Each owner write is read back once, on the first relay pass at least
    ``owner_settle`` after it was applied (the next run, for the command line), and an
    owner other than the one written is stored (``explain`` shows it) and counted. Returns
    the overrides found and a quota stop's reason (``""``: none).
    """
    if not isinstance(adapter, OwnerReader):
        return 0, ""
    applied_before = datetime.now(UTC) - adapter.owner_settle
    rows = store.owner_writes_to_check(applied_before, limit=limit)
    if not rows:
        return 0, ""
    try:
        held = adapter.current_owners([row.effect.lead_id for row in rows])
    except (QuotaExhaustedError, RateLimitedError) as exc:
        return 0, str(exc)
    observed: dict[str, str | None] = {}
    overridden = 0
    for row in rows:
        effect = row.effect
        written = str(effect.payload.get("owner_id", ""))
        now = held.get(effect.lead_id)
        if now is None:
            observed[effect.idem_key] = None  # the record is gone (merged, deleted)
        elif now != written:
            observed[effect.idem_key] = now
            overridden += 1
            log.warning(
                "outbox.owner_overridden",
                lead_id=effect.lead_id,
                rep_id=written,
                observed=now,
                after_write=True,
            )
        else:
            observed[effect.idem_key] = ""
    store.mark_owner_checks(observed)
    log.info(
        "outbox.owners_rechecked", adapter=adapter.name, checked=len(rows), overridden=overridden
    )
    return overridden, ""


def relay(
    store: Store,
    adapter: Adapter,
    *,
    batch_size: int = 500,
    after: int = 0,
    due_by: datetime | None = None,
    max_attempts: int = 5,
) -> RelayReport:
    """Apply pending effects in batches, each at most once, until none is left, a batch
    makes no progress or a quota stops the pass.

    ``after`` starts the pass after an outbox row (``RelayReport.cursor`` of an earlier
    pass of the same run); a pass starting at 0 first reads back owner writes old enough
    (``recheck_owners``). ``due_by`` skips effects still waiting out their backoff (the
    continuous relay passes the current time; a command-line run tries every pending row
    once); an effect is dead after ``max_attempts`` retryable failures.
    """
    applied = failed = rerouted = 0
    failures: list[EffectFailure] = []
    # The first pass of a run reads back earlier owner writes (workflows act later).
    overridden, quota = recheck_owners(store, adapter) if after == 0 else (0, "")
    cursor = after
    dead_before = store.outbox_counts().get("dead", 0)
    while not quota:
        # Claimed rows are this relay's alone until marked (PostgreSQL: SKIP LOCKED), so
        # relays beside it apply other effects instead of the same ones twice.
        with store.claim_effects(batch_size, after=cursor, due_by=due_by) as claim:
            if not claim.rows:
                break
            cursor = claim.rows[-1].row_id
            effects = [row.effect for row in claim.rows]
            results = _apply(adapter, effects)
            dead = claim.mark(results, max_attempts=max_attempts, at=due_by)
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
            if result.quota and not result.ok and not quota:
                quota = result.detail or "the target's API quota is spent"
        ok = sum(r.ok for r in results)
        stopped = sum(1 for r in results if r.quota and not r.ok)
        applied += ok
        failed += len(results) - ok - stopped
        log.info("outbox.applied", adapter=adapter.name, applied=ok, failed=len(results) - ok)
        if quota:
            log.warning("outbox.quota_stop", adapter=adapter.name, reason=quota)
        elif ok == 0:
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
        quota=quota,
        cursor=cursor,
    )
