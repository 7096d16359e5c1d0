"""Breach moves: the next epoch of a lead whose SLA ran out, to the backup rep, the queue
or a pool.

A move to the owner's backup or to the fallback queue needs no routing: the new decision
is the old one with the new owner, the step (``backup`` or ``fallback``), reason
``SLA_BREACHED: ...`` and a fresh clock in the new owner's calendar (the backup's, or
the queue owner's), committed through the engine (its loads move with
it). A move into a pool is routing (eligibility, fit, rotation): the engine's
``reassign_one`` does it without the breaching owner. Each move is committed with its
owner write, notifications and timers in one transaction; the deterministic decision id
makes a repeated move a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from leadroute.deadlines import reclock
from leadroute.engine import Engine
from leadroute.logs import get_logger
from leadroute.models import Decision, DecisionStatus, Rep, RouteStep, decision_id_for
from leadroute.pipeline import Decided
from leadroute.policy import Policy
from leadroute.usecases import reassign_one

__all__ = ["EngineMover", "breach_decision"]

log = get_logger(__name__)


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
        )
        return reclock(queued, policy, reps)
    owner = reps.get(decision.owner_id)
    backup = reps.get(owner.backup_id) if owner is not None and owner.backup_id else None
    if backup is None or not backup.active:
        return None
    moved = attrs.evolve(
        base,
        status=DecisionStatus.ROUTED,
        step=RouteStep.BACKUP,
        owner_id=backup.id,
        queue="",
    )
    return reclock(moved, policy, reps)


@attrs.define
class EngineMover:
    """Commits breach moves through the engine, so its loads and rotation follow them.

    Attributes:
        engine: The service's engine.
    """

    engine: Engine

    def move(self, decision: Decision, *, to: str, reason: str, at: datetime) -> Decision | None:
        """Commit the move; the committed decision, or None when nobody could take it."""
        engine = self.engine
        if to in ("backup", "queue"):
            moved = breach_decision(
                decision, engine.policy, engine.reps, to=to, reason=reason, at=at
            )
            if moved is None:
                return None
            committed = engine.commit(Decided(decision=moved), moved=True, planned=True)
            if not committed.new:
                return engine.latest(decision.lead_id)
            log.info("sla.moved", lead_id=moved.lead_id, rep_id=moved.owner_id, epoch=moved.epoch)
            return committed.decision
        verdict = reassign_one(engine, decision, to=to, reason=reason, at=at)
        placed = verdict.decision
        if placed is None or placed.epoch <= decision.epoch:
            return None
        log.info("sla.moved", lead_id=placed.lead_id, rep_id=placed.owner_id, epoch=placed.epoch)
        return placed
