"""The SLA scheduler: claim due timers, check the lead is still untouched, act once.

Each due timer is claimed with a lease, then checked against the store: a timer of a
decision that is no longer the lead's latest, or of a lead with a first touch since its
decision, is cancelled. Otherwise it fires:

* ``reminder``: the owner is notified (``reminder`` template) through the outbox;
* ``breach``: an ``sla_breached`` outcome is recorded, then the lead type's
  ``escalation.on_breach`` runs: notify the owner's backup or manager (``breach``
  template), reassign (a new epoch with reason ``SLA_BREACHED``) or move to the queue;
* ``escalate``: the fallback queue's owner's manager (else the owner) is notified.

Notifications are committed with the timer's ``done`` mark in one transaction. A move is
committed first (its new epoch cancels the old epoch's timers in the same transaction),
so a crash at any point fires each timer's action exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

import attrs

from leadroute.logs import get_logger
from leadroute.models import Decision, Effect, Outcome, OutcomeKind, Rep, Timer, TimerKind
from leadroute.notify.effects import notification_effects
from leadroute.policy import Policy
from leadroute.store import Store
from leadroute.store.outcomes import record_outcome
from leadroute.store.timers import claim_due, finish, settle, touched_since

__all__ = ["Mover", "Scheduler", "TickReport"]

log = get_logger(__name__)

SLA_BREACHED = "SLA_BREACHED"


class Mover(Protocol):
    """Commits a new epoch for a lead whose SLA was breached (the engine does this)."""

    def move(self, decision: Decision, *, to: str, reason: str, at: datetime) -> Decision | None:
        """Move the lead: ``to`` is ``backup``, ``queue`` or a pool name.

        Returns the committed decision, or None when nobody could take the lead.
        """
        ...


@attrs.frozen(kw_only=True)
class TickReport:
    """What one pass of the scheduler did.

    Attributes:
        reminders: Reminders sent.
        breaches: Breaches acted on.
        escalations: Fallback-queue escalations sent.
        moved: Leads moved to a new owner or the queue by a breach.
        stopped: Timers cancelled because the lead was touched or decided again.
    """

    reminders: int = 0
    breaches: int = 0
    escalations: int = 0
    moved: int = 0
    stopped: int = 0


@attrs.define
class Scheduler:
    """Fires due SLA timers.

    Attributes:
        store: Where timers, decisions and outcomes live.
        policy: The lead types' escalations and the notification channels.
        reps: The team (backups, managers), refreshed with ``update_team``.
        mover: Commits breach moves (reassign, queue).
        clock: The current time (UTC).
        lease: How long a claim holds before another scheduler may take the timer.
        worker: This scheduler's id in claims.
    """

    store: Store
    policy: Policy
    reps: Mapping[str, Rep]
    mover: Mover
    clock: Callable[[], datetime]
    lease: timedelta = timedelta(minutes=5)
    worker: str = attrs.field(factory=lambda: uuid.uuid4().hex)

    def update_team(self, reps: Mapping[str, Rep]) -> None:
        """Use a refreshed team from now on."""
        self.reps = dict(reps)

    def tick(self, limit: int = 100) -> TickReport:
        """Claim and fire every timer due now (up to ``limit``)."""
        now = self.clock()
        counts = {"reminders": 0, "breaches": 0, "escalations": 0, "moved": 0, "stopped": 0}
        for timer in claim_due(self.store, now, worker=self.worker, lease=self.lease, limit=limit):
            for key, value in self._fire(timer, now).items():
                counts[key] += value
        return TickReport(**counts)

    def _fire(self, timer: Timer, now: datetime) -> dict[str, int]:
        decision = self.store.current_decision(timer.lead_id)
        if decision is None or decision.id != timer.decision_id:
            settle(self.store, timer, status="cancelled", detail="superseded", at=now)
            return {"stopped": 1}
        if touched_since(self.store, timer.lead_id, decision.decided_at):
            settle(self.store, timer, status="cancelled", detail="first touch", at=now)
            log.info("sla.stopped", lead_id=timer.lead_id, kind=str(timer.kind))
            return {"stopped": 1}
        if timer.kind == TimerKind.REMINDER:
            effects = notification_effects(decision, self.policy, purpose="reminder")
            settle(self.store, timer, status="done", detail="reminded", at=now, effects=effects)
            log.info("sla.reminded", lead_id=timer.lead_id, rep_id=decision.owner_id)
            return {"reminders": 1}
        if timer.kind == TimerKind.ESCALATE:
            to = self._manager_of(decision.owner_id) or decision.owner_id
            effects = notification_effects(decision, self.policy, purpose="escalate", to=to)
            settle(
                self.store,
                timer,
                status="done",
                detail=f"escalated to {to}",
                at=now,
                effects=effects,
            )
            log.info("sla.escalated", lead_id=timer.lead_id, rep_id=to)
            return {"escalations": 1}
        return self._breach(timer, decision, now)

    def _breach(self, timer: Timer, decision: Decision, now: datetime) -> dict[str, int]:
        record_outcome(
            self.store,
            Outcome(
                kind=OutcomeKind.SLA_BREACHED,
                lead_id=decision.lead_id,
                rep_id=decision.owner_id,
                at=decision.sla_due_at or now,
                source="leadroute",
                detail=f"no first touch by the deadline (epoch {decision.epoch})",
            ),
        )
        kind = self.policy.lead_types.named(decision.lead_type)
        action = kind.escalation.on_breach if kind and kind.escalation else "notify_manager"
        log.warning(
            "sla.breached", lead_id=decision.lead_id, rep_id=decision.owner_id, action=action
        )
        if action in ("reassign", "queue"):
            to = "queue" if action == "queue" else kind.escalation.reassign_to  # type: ignore[union-attr]
            reason = (
                f"{SLA_BREACHED}: {decision.owner_id} did not touch the lead by "
                f"{(decision.sla_due_at or now).isoformat(timespec='minutes')}"
            )
            moved = self.mover.move(decision, to=to, reason=reason, at=now)
            if moved is not None:
                finish(
                    self.store,
                    timer,
                    detail=f"moved to {moved.owner_id} (epoch {moved.epoch})",
                    at=now,
                )
                return {"breaches": 1, "moved": 1}
            # Nobody could take it: tell the manager instead of failing silently.
            action = "notify_manager"
        owner = self.reps.get(decision.owner_id)
        if action == "notify_backup":
            to = (owner.backup_id if owner else "") or self._manager_of(decision.owner_id)
        else:
            to = self._manager_of(decision.owner_id) or (owner.backup_id if owner else "")
        to = to or self.policy.fallback.owner
        effects: list[Effect] = notification_effects(
            decision,
            self.policy,
            purpose="breach",
            to=to,
            extra={
                "action": f"You are told as {_role(action)}; please make sure it is worked now."
            },
        )
        settle(self.store, timer, status="done", detail=f"notified {to}", at=now, effects=effects)
        return {"breaches": 1}

    def _manager_of(self, rep_id: str) -> str:
        rep = self.reps.get(rep_id)
        return rep.manager_id if rep is not None else ""


def _role(action: str) -> str:
    return "the owner's backup" if action == "notify_backup" else "the owner's manager"
