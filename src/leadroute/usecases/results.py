"""What a run reports: the decisions it made and replayed, its problems, its counts.

``RunResult`` is a routing run's (``leadroute.usecases.route``); ``RebalanceResult`` and
``ReassignResult`` wrap the plans of the nightly rebalance and of a reassignment with
what was applied. ``Tally`` keeps a run's decisions in input order while grouped commits
report them as their groups are written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from leadroute.engine import Committed
from leadroute.host import PluginFailure
from leadroute.measures import flagged_codes, headline, is_duplicate
from leadroute.models import Decision, DecisionStatus, InputProblem
from leadroute.reassign import ReassignPlan
from leadroute.rebalance import RebalancePlan
from leadroute.solver import Solution
from leadroute.store import RelayReport

__all__ = ["ReassignResult", "RebalanceResult", "RunResult", "Tally"]


@attrs.define
class RunResult:
    """What one routing run did.

    Attributes:
        decisions: One decision per routed lead (new and replayed), in input order.
        new_ids: Ids of the decisions made by this run (the rest were replayed).
        problems: Every record not routed (adapter rejects and validation rejects) and
            every data problem worth a human's look (reps, accounts).
        relay: What the outbox relay applied, when an adapter was given.
        solution: The batch solve (status, objective, bound, gap, timings) in batch mode.
        rerouted: Leads decided again in this run because the target refused their owner.
        followers: Decisions of earlier records that followed a reassigned duplicate to
            its new owner (their leads' entries in ``decisions`` are replaced when present).
        plugin_failures: Plugins that failed to load: the run went on without them.
        waiting: Leads created after the run's time: not decided, left for a later run.
    """

    decisions: list[Decision] = attrs.field(factory=list)
    new_ids: set[str] = attrs.field(factory=set)
    problems: list[InputProblem] = attrs.field(factory=list)
    relay: RelayReport | None = None
    solution: Solution | None = None
    rerouted: set[str] = attrs.field(factory=set)
    followers: list[Decision] = attrs.field(factory=list)
    plugin_failures: list[PluginFailure] = attrs.field(factory=list)
    waiting: list[str] = attrs.field(factory=list)

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``; ``input == routed + fallback + exceptions``.

        ``exceptions`` (also ``rejected``) are the leads with no decision; the headline
        numbers (``needs_human``, ``exception_rate``, ``duplicates``, ``duplicate_rate``)
        are ``leadroute.measures``', the dashboard's definitions. ``followed`` counts the
        earlier records this run moved to follow a reassigned duplicate. ``waiting``
        counts the leads created after the run's time (not in ``input``).
        """
        head = headline(self.decisions, self.problems)
        data = [p for p in self.problems if p.kind not in ("lead", "fallback")]
        actions = Counter(
            d.duplicate.action for d in self.decisions if d.duplicate and is_duplicate(d)
        )
        return {
            "input": head.input,
            "routed": head.routed,
            "fallback": head.fallback,
            "exceptions": head.rejected,
            "rejected": head.rejected,
            "needs_human": head.needs_human,
            "new": len(self.new_ids),
            "replayed": len(self.decisions) - len(self.new_ids),
            "data_problems": len(data),
            "rerouted": len(self.rerouted),
            "plugins_failed": len(self.plugin_failures),
            "by_step": dict(sorted(Counter(str(d.step) for d in self.decisions).items())),
            "by_owner": dict(sorted(Counter(d.owner_id for d in self.decisions).items())),
            "exceptions_by_code": dict(sorted(head.rejected_by_code.items())),
            "exception_rate": round(head.exception_rate or 0.0, 4),
            "flagged": sum(1 for d in self.decisions if flagged_codes(d)),
            "by_lifecycle_stage": dict(
                sorted(
                    Counter(d.lifecycle_stage for d in self.decisions if d.lifecycle_stage).items()
                )
            ),
            "flagged_by_code": dict(
                sorted(Counter(p.code for d in self.decisions for p in d.problems).items())
            ),
            "fallback_by_code": dict(sorted(head.fallback_by_code.items())),
            "duplicates": head.duplicates,
            "duplicate_rate": round(head.duplicate_rate or 0.0, 4),
            "duplicates_by_action": dict(sorted(actions.items())),
            "followed": len(self.followers),
            "waiting": len(self.waiting),
        }


@attrs.frozen(kw_only=True)
class RebalanceResult:
    """What a rebalance planned and applied.

    Attributes:
        plan: The selection, the moves and the solve.
        applied: Moves committed by this run (0 on a dry run).
        relay: What the outbox relay applied, when an adapter was given.
    """

    plan: RebalancePlan
    applied: int
    relay: RelayReport | None

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``."""
        plan = self.plan
        return {
            "considered": plan.considered,
            "movable": len(plan.movable),
            "moves": len(plan.moves),
            "kept": plan.kept,
            "applied": self.applied,
            "movable_by_reason": dict(
                sorted(Counter(r for reasons in plan.movable.values() for r in reasons).items())
            ),
            "held": len(plan.held),
            # A cap a move would break reads "OPEN_CAP rep-003 36/35": counted by its code.
            "held_by_reason": dict(
                sorted(Counter(why.split(" ", 1)[0] for why in plan.held.values()).items())
            ),
            "followers": sum(len(m.followers) for m in plan.moves),
        }


@attrs.frozen(kw_only=True)
class ReassignResult:
    """What a reassignment planned and applied.

    Attributes:
        plan: The departing rep's leads and where each goes.
        applied: Moves committed by this run (0 on a dry run).
        relay: What the outbox relay applied, when an adapter was given.
    """

    plan: ReassignPlan
    applied: int
    relay: RelayReport | None

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``."""
        moves = self.plan.moves
        return {
            "owned": self.plan.owned,
            "worked_kept": self.plan.worked,
            "rejected": len(self.plan.rejected),
            "moves": len(moves),
            "to_fallback": sum(1 for m in moves if m.status == str(DecisionStatus.FALLBACK)),
            "applied": self.applied,
            "by_new_owner": dict(sorted(Counter(m.to_owner for m in moves).items())),
        }


@attrs.define
class Tally:
    """A run's decisions in input order, filled as decisions are replayed and committed.

    A staged decision holds its lead's place (``hold``) until its group is written;
    ``committed`` then puts the decision that stands there, and the person's other
    records that followed it in theirs.
    """

    result: RunResult
    position: dict[str, int] = attrs.field(factory=dict)

    def place(self, decision: Decision) -> None:
        """Put a lead's decision (replayed, or held for its commit) in the next place."""
        self.position[decision.lead_id] = len(self.result.decisions)
        self.result.decisions.append(decision)

    def committed(self, done: Committed) -> None:
        """A held decision's group was written: the decision that stands takes its place."""
        decision = done.decision
        position = self.position.get(decision.lead_id)
        if position is None:
            self.place(decision)
        else:
            self.result.decisions[position] = decision
        if not done.new:
            return
        self.result.new_ids.add(decision.id)
        if done.replaced is not None:
            self.result.new_ids.discard(done.replaced.id)  # replaced: not one of this run's
        for follower in done.followers:
            self.result.followers.append(follower)
            at = self.position.get(follower.lead_id)
            if at is not None:
                self.result.decisions[at] = follower

    def rerouted(self, done: Committed) -> None:
        """A lead decided again after the target refused its owner."""
        self.committed(done)
        if done.new:
            self.result.rerouted.add(done.decision.lead_id)
