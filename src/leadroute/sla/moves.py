"""Breach moves: the next epoch of a lead whose SLA ran out, to the backup rep or the queue.

A move to the owner's backup or to the fallback queue needs no routing: the new decision
is the old one with the new owner, the step (``backup`` or ``fallback``), reason
``SLA_BREACHED: ...`` and a fresh clock. A move into a pool is routing (eligibility, fit,
rotation) and is delegated to ``reroute``, which the engine provides. Each move is
committed with its owner write, its notifications and its timers in one transaction;
the deterministic decision id makes a repeated move a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import attrs
import structlog

from leadroute.intake import SlaClock
from leadroute.models import Decision, DecisionStatus, Rep, RouteStep, decision_id_for
from leadroute.notify.effects import notification_effects
from leadroute.policy import Policy
from leadroute.router import owner_write_effect
from leadroute.sla.clock import escalation_due, timers_for
from leadroute.store import Store

__all__ = ["StoreMover", "breach_decision"]

log = structlog.get_logger(__name__)

Reroute = Callable[[Decision, str, str, datetime], Decision | None]


def breach_decision(
    decision: Decision,
    policy: Policy,
    reps: Mapping[str, Rep],
    *,
    to: str,
    reason: str,
    at: datetime,
) -> Decision | None:
    """The next epoch moving a breached lead to its owner's backup (``to="backup"``) or the
    fallback queue (``to="queue"``); None when the owner has no active backup."""
    epoch = decision.epoch + 1
    base = attrs.evolve(
        decision,
        id=decision_id_for(decision.lead_id, epoch),
        epoch=epoch,
        route_path=(*decision.route_path, f"sla:breached:{to}"),
        reason=reason,
        decided_at=at,
        candidates=(),
        exclusions=(),
        excluded_groups=(),
        solve=None,
        duplicate=None,
        sla_starts_at=None,
    )
    if to == "queue":
        fallback = policy.fallback
        queued = attrs.evolve(
            base,
            status=DecisionStatus.FALLBACK,
            step=RouteStep.FALLBACK,
            owner_id=fallback.owner,
            queue=fallback.queue,
            pool="",
            sla_due_at=None,
        )
        return attrs.evolve(queued, escalate_at=escalation_due(queued, policy, reps))
    owner = reps.get(decision.owner_id)
    backup = reps.get(owner.backup_id) if owner is not None and owner.backup_id else None
    if backup is None or not backup.active:
        return None
    kind = policy.lead_types.named(decision.lead_type) if decision.lead_type else None
    return attrs.evolve(
        base,
        status=DecisionStatus.ROUTED,
        step=RouteStep.BACKUP,
        owner_id=backup.id,
        queue="",
        escalate_at=None,
        sla_due_at=SlaClock.of(policy).due(kind, at),
    )


@attrs.define
class StoreMover:
    """Commits breach moves to the store (backup and queue here, pools through ``reroute``).

    Attributes:
        store: Where the new epoch is recorded.
        policy: The policy (queue, SLA calendar, notification channels).
        reps: The team, refreshed by the service.
        reroute: Routes a lead again inside a pool without its breaching owner
            (``(decision, pool, reason, at) -> committed decision``); None: no pool moves.
    """

    store: Store
    policy: Policy
    reps: Mapping[str, Rep]
    reroute: Reroute | None = None

    def move(self, decision: Decision, *, to: str, reason: str, at: datetime) -> Decision | None:
        """Commit the move; the committed decision, or None when nobody could take it."""
        if to not in ("backup", "queue"):
            return self.reroute(decision, to, reason, at) if self.reroute is not None else None
        moved = breach_decision(decision, self.policy, self.reps, to=to, reason=reason, at=at)
        if moved is None:
            return None
        effects = [
            owner_write_effect(moved, self.reps.get(moved.owner_id)),
            *notification_effects(moved, self.policy),
        ]
        timers = timers_for(moved, self.policy, self.reps)
        if not self.store.record(moved, effects, timers=timers):
            return self.store.current_decision(decision.lead_id)
        log.info("sla.moved", lead_id=moved.lead_id, rep_id=moved.owner_id, epoch=moved.epoch)
        return moved
