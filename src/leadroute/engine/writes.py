"""What a decision writes besides itself: its outbox effects and the rows that commit with it.

``decision_effects`` is the one place a decision's side effects are built: the owner write
(or a duplicate's append, or its notify of the kept owner), then the notifications the
policy's channels ask for (``leadroute.notify``). ``commit_unit`` is the one place a
decision is put together with everything that commits with it (effects, rotation turns,
identities, SLA timers from ``leadroute.sla``, rows of other tables, followers) as one
``CommitUnit``. A follower (another record of a person, moved with it) gets its owner
write but no notification and no clock of its own: its owner was told about the person
with the decision it follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leadroute.duplicates import duplicate_effects
from leadroute.models import Decision, Effect, Lead, Rep
from leadroute.notify import notification_effects
from leadroute.policy import Policy
from leadroute.rotation import LedgerTurn
from leadroute.scoring import format_score
from leadroute.sla import timers_for
from leadroute.store import CommitUnit, IdentityRow, Row

__all__ = ["commit_unit", "decision_effects", "owner_write_effect"]


def owner_write_effect(decision: Decision, rep: Rep | None) -> Effect:
    """The outbox effect that writes a decision's owner back to the source system."""
    kind = "owner_write"
    return Effect(
        kind=kind,
        decision_id=decision.id,
        lead_id=decision.lead_id,
        idem_key=Effect.key_for(decision.id, kind),
        payload={
            "lead_id": decision.lead_id,
            "owner_id": decision.owner_id,
            "owner_name": rep.name if rep else "",
            "status": str(decision.status),
            "step": str(decision.step),
            "queue": decision.queue,
            "rule": decision.rule,
            "pool": decision.pool,
            "reason": decision.reason,
            "policy_version": decision.policy_version,
            "decided_at": decision.decided_at.isoformat(),
            "decision_id": decision.id,
            "epoch": decision.epoch,
            "lead_type": decision.lead_type,
            "priority": "" if decision.priority is None else decision.priority,
            "sla_due_at": decision.sla_due_at.isoformat() if decision.sla_due_at else "",
            "lifecycle_stage": decision.lifecycle_stage,
            "score": "" if decision.score is None else format_score(decision.score),
        },
    )


def decision_effects(
    decision: Decision,
    reps: Mapping[str, Rep],
    policy: Policy,
    *,
    lead: Lead | None = None,
    notify: bool = True,
) -> tuple[Effect, ...]:
    """Every outbox effect of a decision: its owner write, or what its duplicate role asks
    instead (an append, a notify of the kept owner; none for an appended record that
    follows its person), then, with ``notify``, the policy's notifications to its owner."""
    owner_write = owner_write_effect(decision, reps.get(decision.owner_id))
    effects = duplicate_effects(decision, owner_write)
    if notify:
        effects.extend(notification_effects(decision, policy, lead=lead))
    return tuple(effects)


def commit_unit(
    decision: Decision,
    reps: Mapping[str, Rep],
    policy: Policy,
    *,
    turns: Sequence[LedgerTurn] = (),
    identities: Sequence[IdentityRow] = (),
    merges: Mapping[str, str] | None = None,
    rows: Sequence[Row] = (),
    followers: Sequence[Decision] = (),
    lead: Lead | None = None,
) -> CommitUnit:
    """A decision with everything it writes; each follower with its owner write."""
    return CommitUnit(
        decision=decision,
        effects=decision_effects(decision, reps, policy, lead=lead),
        turns=tuple(turns),
        identities=tuple(identities),
        merges=dict(merges or {}),
        rows=tuple(rows),
        timers=tuple(timers_for(decision, policy, reps)),
        followers=tuple(
            CommitUnit(decision=f, effects=decision_effects(f, reps, policy, notify=False))
            for f in followers
        ),
    )
