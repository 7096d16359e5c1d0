"""The nightly rebalance: move owned-but-unworked leads, as few as it must, jointly.

Selection (per lead, with stable reason codes): the owner is inactive or unknown
(``OWNER_INACTIVE``), on leave for longer than ``rebalance.leave_longer_than``
(``OWNER_ON_LEAVE``), over capacity (``OWNER_OVER_CAPACITY``), or has not touched the lead
within ``rebalance.unworked_after`` of assignment (``UNWORKED``). A lead with any activity
since its assignment is worked and never moves. A lead in the nurture queue moves only
once its score makes it an MQL or SQL (``QUALIFIED``); leads are re-read as routing sees
them (normalized, enriched, scored) before they are placed.

The movable leads get their candidates from the same pipeline as real-time routing (hard
constraints, availability), plus their current owner when the owner can still hold them,
with ``stay_bonus`` added to the owner's fit: a lead moves only when the joint optimum
gains more than the bonus. Pool caps (``pools[].max_per_batch``) count the leads each
pool takes in the rebalance, stays included. Capacity is solved jointly (min-cost flow); move caps, which a
flow cannot express, switch to CP-SAT warm-started from the flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs
import numpy as np

from leadroute.models import Candidate, Decision, Lead, Rep, RouteStep, SolveSummary
from leadroute.pipeline import Decided, Pipeline, Trail, with_solve
from leadroute.solver import (
    BatchProblem,
    MoveCaps,
    SideConstraints,
    Solution,
    unassigned_reasons,
)

__all__ = ["Move", "RebalancePlan", "movable_reasons", "plan_rebalance"]


@attrs.frozen(kw_only=True)
class Move:
    """One lead changing owner (``to_owner`` is the fallback owner when nobody can take it).

    Attributes:
        lead_id: The lead.
        from_owner: Its owner now.
        to_owner: Its owner after the move.
        reasons: Why it was up for a move (``UNWORKED``, ``OWNER_INACTIVE``...).
        fit_before: The current owner's fit for the lead (None when they cannot hold it).
        fit_after: The new owner's fit.
        decided: The decision to record (a new epoch) with its effects.
    """

    lead_id: str
    from_owner: str
    to_owner: str
    reasons: tuple[str, ...]
    fit_before: float | None
    fit_after: float | None
    decided: Decided


@attrs.frozen(kw_only=True)
class RebalancePlan:
    """What a rebalance would do.

    Attributes:
        considered: Owned leads looked at.
        movable: Leads up for a move, with their reasons.
        moves: Leads that change owner.
        solution: The joint solve (None when nothing was movable).
    """

    considered: int
    movable: Mapping[str, tuple[str, ...]]
    moves: tuple[Move, ...]
    solution: Solution | None

    @property
    def kept(self) -> int:
        """Movable leads that stay with their owner."""
        return len(self.movable) - len(self.moves)


def movable_reasons(
    lead: Lead, owner: Rep | None, assigned_at: datetime, at: datetime, pipeline: Pipeline
) -> tuple[str, ...]:
    """Why an owned lead may move now (empty: it stays, e.g. because it was worked)."""
    settings = pipeline.policy.rebalance
    if lead.last_activity_at is not None and lead.last_activity_at >= assigned_at:
        return ()  # worked since assignment: never moved
    reasons = []
    if owner is None or not owner.active:
        reasons.append("OWNER_INACTIVE")
    elif (
        window := owner.availability.leave_at(at)
    ) and window.end - at > settings.leave_longer_than:
        reasons.append("OWNER_ON_LEAVE")
    if (
        owner is not None
        and owner.capacity.max_open is not None
        and pipeline.loads.get(owner.id, 0) > owner.capacity.max_open
    ):
        reasons.append("OWNER_OVER_CAPACITY")
    if at - assigned_at >= settings.unworked_after:
        reasons.append("UNWORKED")
    return tuple(reasons)


@attrs.define
class _Movable:
    lead: Lead
    owner_id: str
    epoch: int
    reasons: tuple[str, ...]
    trail: Trail
    candidates: list[Candidate]
    stay_fit: float | None
    pool: str = ""
    rule: str = ""


def plan_rebalance(
    pipeline: Pipeline,
    leads: Sequence[Lead],
    known: Mapping[str, Decision],
    at: datetime,
    *,
    spent: Mapping[str, int] | None = None,
) -> RebalancePlan:
    """Select movable leads, solve them jointly, and return the moves with their decisions.

    ``spent``: rep id -> moves away from that rep an interrupted run already made; they
    count against this run's move caps, so a resumed run never exceeds them.
    """
    owned = []
    for lead in leads:
        stored = known.get(lead.id)
        owner_id = stored.owner_id if stored else lead.owner_id
        if owner_id:
            assigned_at = stored.decided_at if stored else (lead.created_at or at)
            owned.append((lead, owner_id, assigned_at, stored.epoch if stored else 0))
    movable = []
    for lead, owner_id, assigned_at, epoch in owned:
        reasons = movable_reasons(lead, pipeline.reps.get(owner_id), assigned_at, at, pipeline)
        stored = known.get(lead.id)
        if reasons and stored is not None and stored.step == RouteStep.NURTURE:
            # Marketing's queue is not sales backlog: a nurture lead moves only once its
            # score makes it an MQL or SQL.
            if pipeline.stays_in_nurture(*pipeline.intake(lead, at)):
                continue
            reasons = (*reasons, "QUALIFIED")
        if reasons:
            movable.append(_prepare(pipeline, lead, owner_id, epoch, reasons, at))
    for item in movable:  # their current places are what is being decided
        pipeline.loads[item.owner_id] = max(0, pipeline.loads.get(item.owner_id, 0) - 1)
    if not movable:
        return RebalancePlan(considered=len(owned), movable={}, moves=(), solution=None)
    solution, chosen, unplaced, summary = _solve(pipeline, movable, spent or {})
    # Every move keeps the solve's status, bound, gap and timings with its decision.
    moves = tuple(
        attrs.evolve(move, decided=with_solve(move.decided, summary))
        for item in movable
        if (move := _move(pipeline, item, chosen.get(item.lead.id), unplaced.get(item.lead.id, "")))
        is not None
    )
    return RebalancePlan(
        considered=len(owned),
        movable={m.lead.id: m.reasons for m in movable},
        moves=moves,
        solution=solution,
    )


def _prepare(
    pipeline: Pipeline,
    lead: Lead,
    owner_id: str,
    epoch: int,
    reasons: tuple[str, ...],
    at: datetime,
) -> _Movable:
    enriched, score = pipeline.intake(lead, at)
    trail = Trail(lead=enriched, at=at, epoch=epoch + 1, score=score)
    trail.path.append(f"rebalance:{','.join(reasons)}")
    found = pipeline.pool_candidates(trail, with_capacity=False)
    candidates = list(found[2]) if found else []
    item = _Movable(
        lead=enriched,
        owner_id=owner_id,
        epoch=epoch,
        reasons=reasons,
        trail=trail,
        candidates=candidates,
        stay_fit=None,
        pool=found[1].name if found else "",
        rule=found[0].name if found else "",
    )
    ctx = pipeline.context(at, ())
    forced = {"OWNER_INACTIVE", "OWNER_ON_LEAVE"} & set(reasons)
    owner = None if forced else pipeline.available(trail, owner_id, ctx)
    if owner is not None:
        stay = pipeline.candidate(enriched, owner, ctx)
        item.stay_fit = stay.fit
        bonus = pipeline.policy.rebalance.stay_bonus
        item.candidates = [c for c in candidates if c.rep_id != owner_id]
        item.candidates.append(attrs.evolve(stay, fit=round(stay.fit + bonus, 4)))
    return item


def _solve(
    pipeline: Pipeline, movable: list[_Movable], spent: Mapping[str, int]
) -> tuple[Solution, dict[str, str], dict[str, str], SolveSummary]:
    settings = pipeline.policy.rebalance
    reps = list(pipeline.reps)
    index = {rep_id: i for i, rep_id in enumerate(reps)}
    side = SideConstraints(
        stay=np.array([index.get(m.owner_id, -1) for m in movable], np.int32),
        move_caps=MoveCaps(
            per_rep=settings.max_moves_per_rep,
            total=settings.max_moves,
            # A rep no longer loaded has no leads left to move: only the total counts it.
            spent={index.get(rep_id, -1): n for rep_id, n in spent.items()},
        ),
        time_limit=settings.time_limit.total_seconds(),
    )
    room = pipeline.room(movable[0].trail.at)
    problem = BatchProblem.from_candidates(
        {m.lead.id: [(c.rep_id, max(0.0, c.fit)) for c in m.candidates] for m in movable},
        {rep_id: room[rep_id] for rep_id in reps},
        fairness=pipeline.policy.batch.fairness,
        side=side,
        pools={m.lead.id: m.pool for m in movable if m.pool},
        pool_caps={pool.name: pool.max_per_batch for pool in pipeline.policy.pools},
    )
    solution = pipeline.host.solve(problem)
    chosen = {
        problem.lead_ids[i]: problem.rep_ids[r]
        for i, r in enumerate(solution.assignment.tolist())
        if r >= 0
    }
    unplaced = {
        problem.lead_ids[i]: why for i, why in unassigned_reasons(problem, solution).items()
    }
    return solution, chosen, unplaced, solution.summary(problem)


def _move(pipeline: Pipeline, item: _Movable, to_rep: str | None, unplaced: str) -> Move | None:
    trail = item.trail
    if to_rep == item.owner_id or (to_rep is None and item.stay_fit is not None):
        return None  # stays: chosen by the optimum, or nowhere better has room
    why = ",".join(item.reasons)
    if to_rep is None:
        blocked = unplaced if unplaced.startswith("pool ") else "no eligible rep has room"
        decided = pipeline.fallback(
            trail,
            f"moved from {item.owner_id} ({why}); {blocked}, so it goes to the fallback queue",
        )
        to_owner, fit_after = decided.decision.owner_id, None
    else:
        chosen = next(c for c in item.candidates if c.rep_id == to_rep)
        ranked = sorted(item.candidates, key=lambda c: (c.rep_id != to_rep, -c.fit, c.rep_id))
        ranked = [
            attrs.evolve(
                c,
                rank=i,
                reason="chosen by the rebalance"
                if i == 1
                else (
                    "current owner (stay bonus included)"
                    if c.rep_id == item.owner_id
                    else "not chosen"
                ),
            )
            for i, c in enumerate(ranked, start=1)
        ]
        trail.path.append("strategy:optimize")
        gain = "" if item.stay_fit is None else f", fit {item.stay_fit:.2f} -> {chosen.fit:.2f}"
        decided = pipeline.decided(
            trail,
            RouteStep.REBALANCE,
            to_rep,
            f"moved from {item.owner_id} ({why}){gain}",
            rule=item.rule,
            pool=pipeline.policy.pool(item.pool) if item.pool else None,
            candidates=tuple(ranked),
            strategy="optimize",
        )
        to_owner, fit_after = to_rep, chosen.fit
    return Move(
        lead_id=item.lead.id,
        from_owner=item.owner_id,
        to_owner=to_owner,
        reasons=item.reasons,
        fit_before=item.stay_fit,
        fit_after=fit_after,
        decided=decided,
    )
