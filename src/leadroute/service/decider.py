"""Decide one lead at a time for the service, with routing state built once at start.

This is the service's seam to routing: ``Decider.decide(lead, at)`` returns a
``Verdict`` (a new or replayed decision, or the problems that rejected the lead), and a
new decision is committed with its owner write, its notifications and its SLA timers in
one transaction. The pipeline, loads, rotation ledger and known decisions are built from
the store once, when the service starts, and updated as it decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs
import structlog

from leadroute.duplicates import People, duplicate_effects
from leadroute.host import PluginHost
from leadroute.models import (
    Account,
    AccountIndex,
    Decision,
    Lead,
    Problem,
    Rep,
    RouteStep,
)
from leadroute.notify.effects import notification_effects
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import Policy
from leadroute.router import owner_write_effect
from leadroute.sla.clock import timers_for
from leadroute.store import Store
from leadroute.strategies import Ledger

__all__ = ["Decider", "Verdict"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class Verdict:
    """What deciding one lead gave.

    Attributes:
        decision: The lead's decision (new or replayed); None when it was rejected.
        replayed: The decision was already in the store (a resubmission).
        problems: Why the lead was rejected (each names its field and code).
    """

    decision: Decision | None
    replayed: bool = False
    problems: tuple[Problem, ...] = ()


def _assigned(decisions: Iterable[Decision]) -> dict[str, int]:
    return dict(
        Counter(
            d.owner_id
            for d in decisions
            if d.step != RouteStep.CURRENT_OWNER
            and not (
                d.duplicate and d.duplicate.role == "duplicate" and d.duplicate.action == "append"
            )
        )
    )


class Decider:
    """The service's routing state: one pipeline, the latest decision per lead."""

    def __init__(
        self,
        policy: Policy,
        store: Store,
        host: PluginHost,
        reps: Sequence[Rep],
        accounts: Sequence[Account],
    ) -> None:
        self.policy = policy
        self.store = store
        self.host = host
        self.reps: dict[str, Rep] = {r.id: r for r in reps}
        self.latest: dict[str, Decision] = store.current_decisions()
        self.pipeline = Pipeline.build(
            host,
            policy,
            reps,
            AccountIndex.build(list(accounts)),
            assigned=_assigned(self.latest.values()),
            ledger=Ledger(store.load_ledger(), store.max_sequence()),
            prices=store.load_prices(),
            history=self.latest.values(),
        )
        if policy.duplicates.enabled:
            self.pipeline.people = People.load(store, self.latest)

    def decide(self, lead: Lead, at: datetime) -> Verdict:
        """The lead's stored decision, or a new one committed now, or its rejection."""
        stored = self.latest.get(lead.id)
        if stored is not None:
            return Verdict(decision=stored, replayed=True)
        outcome = self.pipeline.decide(lead, at)
        if not isinstance(outcome, Decided):
            return Verdict(decision=None, problems=outcome.problems)
        return self.commit(outcome, lead)

    def commit(self, outcome: Decided, lead: Lead | None = None) -> Verdict:
        """Record a decision with its effects and timers; the stored one if another won."""
        decision = outcome.decision
        effects = [
            *duplicate_effects(
                decision, owner_write_effect(decision, self.reps.get(decision.owner_id))
            ),
            *notification_effects(decision, self.policy, lead=lead),
        ]
        people = self.pipeline.people
        rows, merges = people.settle(decision) if people is not None else ([], {})
        timers = timers_for(decision, self.policy, self.reps)
        if not self.store.record(
            decision, effects, outcome.ledger, identities=rows, merges=merges, timers=timers
        ):
            # Another process decided this lead first: theirs stands.
            stored = self.store.current_decision(decision.lead_id) or decision
            self.latest[decision.lead_id] = stored
            return Verdict(decision=stored, replayed=True)
        self.latest[decision.lead_id] = decision
        self.host.decision_made(decision)
        log.info(
            "lead.routed",
            lead_id=decision.lead_id,
            rep_id=decision.owner_id,
            step=str(decision.step),
            policy_version=decision.policy_version,
        )
        return Verdict(decision=decision)
