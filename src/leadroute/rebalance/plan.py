"""The nightly rebalance plan: the movable leads, solved jointly, checked against every cap.

1. **Select** (``leadroute.rebalance.select``): owned leads that may move, and those held
   although they could (recently moved, account-owned, a person held by another record,
   a rebalance already ran tonight).
2. **People move whole.** A person's records follow the one that moves (the engine's
   rule). So a person is one unit: its first movable record (a forced one first) is
   solved, the others ride along and are counted wherever it goes. A person with a
   record that must stay (worked, held, too fresh) keeps every discretionary record
   with it; a forced record of such a person joins the owner who keeps the person.
3. **Solve** (``leadroute_solve``): the units' candidates come from the same pipeline as
   real-time routing (hard constraints, availability), plus the current owner when they
   can still hold the lead, with ``stay_bonus`` added to the owner's fit. Stays use the
   owner's open-lead room only; a lead new to a rep also uses the rep's daily, weekly
   and per-type room (one network: ``BatchProblem.current/intake/kind_room``). Pool caps
   count the leads each pool takes in the rebalance, stays included. Move caps are kept
   in the network by a churn-penalty search (``leadroute.solver.moves``), so the same
   inputs give the same plan.
4. **Check every cap** (``leadroute.rebalance.caps``) on the end state, followers and
   backups included. A move that would break one is not made; it is forbidden and the
   plan solved again (up to ``ROUNDS`` times), so the room it leaves goes to the next
   best lead. What is still rejected after that stays, with the cap recorded (``held``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs
import numpy as np

from leadroute.engine.state import carries_load, counts_usage
from leadroute.models import Candidate, Decision, Lead, RouteStep, SolveSummary
from leadroute.pipeline import Decided, Pipeline, Trail, with_solve
from leadroute.rebalance.caps import Arrival, Transfer, rejected_arrivals
from leadroute.rebalance.select import FORCED, hold_reason, movable_reasons
from leadroute.solver import (
    BatchProblem,
    MoveCaps,
    SideConstraints,
    Solution,
    unassigned_reasons,
)
from leadroute.usage import lead_load

__all__ = ["ROUNDS", "Move", "RebalancePlan", "plan_rebalance"]

ROUNDS = 8  # solves with cap-breaking moves forbidden, before what remains is dropped


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
        followers: The person's other records that follow it: (lead id, owner now).
        carries_person: Whether the person's other records follow it when committed (False
            for a forced record leaving a person that stays with another owner).
    """

    lead_id: str
    from_owner: str
    to_owner: str
    reasons: tuple[str, ...]
    fit_before: float | None
    fit_after: float | None
    decided: Decided
    followers: tuple[tuple[str, str], ...] = ()
    carries_person: bool = True


@attrs.frozen(kw_only=True)
class RebalancePlan:
    """What a rebalance would do.

    Attributes:
        considered: Owned leads looked at.
        movable: Leads up for a move, with their reasons.
        moves: Leads that change owner (their followers listed on each move).
        solution: The joint solve (None when nothing was solved).
        held: Movable leads that stay anyway, with why (``MOVED_RECENTLY``,
            ``ACCOUNT_OWNED``, ``PERSON_HELD``, ``REBALANCED_RECENTLY``, or the cap a move
            would have broken: ``OPEN_CAP rep-003 36/35``).
    """

    considered: int
    movable: Mapping[str, tuple[str, ...]]
    moves: tuple[Move, ...]
    solution: Solution | None
    held: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def kept(self) -> int:
        """Movable leads that stay with their owner (held ones included)."""
        moved = {m.lead_id for m in self.moves}
        moved.update(f for m in self.moves for f, _ in m.followers)
        return sum(1 for lead_id in self.movable if lead_id not in moved)


@attrs.define
class _Unit:
    """A movable lead as the solve sees it, with the records of its person that follow."""

    lead: Lead
    owner_id: str
    epoch: int
    reasons: tuple[str, ...]
    trail: Trail
    candidates: list[Candidate]
    stay_fit: float | None
    order: tuple[datetime, int]
    pool: str = ""
    rule: str = ""
    siblings: tuple[Decision, ...] = ()  # the person's other records, latest decisions
    join: str = ""  # a forced record of a held person: the owner keeping the person

    @property
    def forced(self) -> bool:
        return bool(FORCED & set(self.reasons))

    def followers(self, to_rep: str) -> tuple[Decision, ...]:
        """The records that follow this lead to ``to_rep`` (the engine's rule)."""
        if self.join:
            return ()
        return tuple(s for s in self.siblings if s.owner_id != to_rep)


PersonRecords = Callable[[str], tuple[str, ...]]


def plan_rebalance(
    pipeline: Pipeline,
    leads: Sequence[Lead],
    known: Mapping[str, Decision],
    at: datetime,
    *,
    spent: Mapping[str, int] | None = None,
    person_records: PersonRecords | None = None,
    quiet: bool = False,
) -> RebalancePlan:
    """Select movable leads, solve them jointly, check every cap, and return the moves.

    ``spent``: rep id -> moves away from that rep an interrupted run already made; they
    count against this run's move caps, so a resumed run never exceeds them.
    ``person_records``: lead id -> every lead of its person (the engine's
    ``person_records``); without it each lead is its own person. ``quiet``: a rebalance
    finished within ``min_interval``, so only forced moves are made.
    """
    records = person_records or (lambda lead_id: (lead_id,))
    considered, movable, held, candidates = _select(pipeline, leads, known, at, quiet=quiet)
    units = _units(pipeline, candidates, known, held, records, at)
    loads = dict(pipeline.loads)  # the cap check starts from the loads now
    for unit in units:  # their current places are what is being decided
        pipeline.loads[unit.owner_id] = max(0, pipeline.loads.get(unit.owner_id, 0) - 1)
    if not units:
        return RebalancePlan(
            considered=considered, movable=movable, moves=(), solution=None, held=held
        )
    solution, moves = _solve_checked(pipeline, units, spent or {}, loads, held, at)
    return RebalancePlan(
        considered=considered,
        movable=movable,
        moves=tuple(moves),
        solution=solution,
        held=held,
    )


_Candidate = tuple[int, Lead, str, datetime, Decision | None, tuple[str, ...]]


def _select(
    pipeline: Pipeline,
    leads: Sequence[Lead],
    known: Mapping[str, Decision],
    at: datetime,
    *,
    quiet: bool,
) -> tuple[int, dict[str, tuple[str, ...]], dict[str, str], list[_Candidate]]:
    """Owned leads considered, the movable ones with their reasons, the held ones with
    why, and the movable ones nothing holds (index, lead, owner, assigned, stored, reasons)."""
    owned = []
    for index, lead in enumerate(leads):
        stored = known.get(lead.id)
        owner_id = stored.owner_id if stored else lead.owner_id
        if owner_id:
            assigned_at = stored.decided_at if stored else (lead.created_at or at)
            owned.append((index, lead, owner_id, assigned_at, stored))
    movable: dict[str, tuple[str, ...]] = {}
    held: dict[str, str] = {}
    candidates: list[_Candidate] = []
    for index, lead, owner_id, assigned_at, stored in owned:
        reasons = movable_reasons(lead, pipeline.reps.get(owner_id), assigned_at, at, pipeline)
        if reasons and stored is not None and stored.step == RouteStep.NURTURE:
            # Marketing's queue is not sales backlog: a nurture lead moves only once its
            # score makes it an MQL or SQL.
            if pipeline.stays_in_nurture(*pipeline.intake(lead, at)):
                continue
            reasons = (*reasons, "QUALIFIED")
        if not reasons:
            continue
        movable[lead.id] = reasons
        why = hold_reason(lead, owner_id, stored, reasons, at, pipeline, quiet=quiet)
        if why:
            held[lead.id] = why
        else:
            candidates.append((index, lead, owner_id, assigned_at, stored, reasons))
    return len(owned), movable, held, candidates


def _solve_checked(
    pipeline: Pipeline,
    units: Sequence[_Unit],
    spent: Mapping[str, int],
    loads: Mapping[str, int],
    held: dict[str, str],
    at: datetime,
) -> tuple[Solution | None, list[Move]]:
    """Solve, check every cap on the end state, forbid what breaks one and solve again;
    then the moves (a discretionary move still breaking a cap is held, a forced one goes
    to the fallback queue with the caps it met)."""
    forbidden: set[tuple[str, str]] = set()
    blocked: dict[str, list[str]] = {}  # lead id -> every cap its moves would have broken
    for _ in range(ROUNDS):
        solution, chosen, unplaced, summary = _solve(pipeline, units, spent, forbidden)
        targets = _targets(pipeline, units, chosen, unplaced, forbidden, at)
        arrivals = _arrivals(pipeline, units, targets)
        rejected = rejected_arrivals(arrivals, pipeline.reps, loads, pipeline.usage, at)
        if not rejected:
            break
        forbidden.update((key, targets[key][0]) for key in rejected)
        for key, why in rejected.items():
            blocked.setdefault(key, []).append(why)
    moves = []
    for unit in units:
        target = targets.get(unit.lead.id)
        if target is None:
            continue  # stays: chosen by the optimum, or nowhere better has room
        to_rep, why = target
        broken = rejected.get(unit.lead.id, "")
        if broken and not unit.forced:
            held[unit.lead.id] = broken  # the move would break a cap: not made
            continue
        caps = blocked.get(unit.lead.id)
        if broken or (caps and not to_rep):
            to_rep = ""
            why = f"every rep it could go to would break a cap ({'; '.join(caps or [broken])})"
        move = _move(pipeline, unit, to_rep, why)
        if summary is not None:  # every move keeps the solve's status, bound, gap, timings
            move = attrs.evolve(move, decided=with_solve(move.decided, summary))
        moves.append(move)
    return solution, moves


def _units(
    pipeline: Pipeline,
    candidates: Sequence[_Candidate],
    known: Mapping[str, Decision],
    held: dict[str, str],
    records: PersonRecords,
    at: datetime,
) -> list[_Unit]:
    """One unit per person with movable records; records that ride along, or stay, noted."""
    free = {lead.id for _, lead, *_ in candidates}
    # A person's records, by the first of them seen (persons keyed by their oldest record).
    persons: dict[str, list[_Candidate]] = {}
    for item in candidates:
        persons.setdefault(records(item[1].id)[0], []).append(item)
    units = []
    for items in persons.values():
        mine = {item[1].id for item in items}
        others = [known[r] for r in records(items[0][1].id) if r not in mine and r in known]
        # Records that must stay with their owner pin the person there.
        staying = [
            d for d in others if d.lead_id not in free and carries_load(d) and not _appended(d)
        ]
        forced_first = sorted(items, key=lambda it: (not (FORCED & set(it[5])), it[0]))
        if staying:
            keeper = staying[0]
            for index, lead, owner_id, assigned_at, stored, reasons in forced_first:
                if FORCED & set(reasons):
                    unit = _prepare(
                        pipeline, lead, owner_id, stored, reasons, at, (assigned_at, index)
                    )
                    unit.join = keeper.owner_id
                    units.append(unit)
                else:
                    held[lead.id] = "PERSON_HELD"
            continue
        index, lead, owner_id, assigned_at, stored, reasons = forced_first[0]
        unit = _prepare(pipeline, lead, owner_id, stored, reasons, at, (assigned_at, index))
        riders = [known[it[1].id] for it in forced_first[1:] if it[1].id in known]
        unit.siblings = tuple(d for d in (*riders, *others) if d.lead_id != lead.id)
        units.append(unit)
    units.sort(key=lambda u: u.order[1])
    return units


def _appended(decision: Decision) -> bool:
    dup = decision.duplicate
    return dup is not None and dup.action == "append"


def _prepare(
    pipeline: Pipeline,
    lead: Lead,
    owner_id: str,
    stored: Decision | None,
    reasons: tuple[str, ...],
    at: datetime,
    order: tuple[datetime, int],
) -> _Unit:
    epoch = stored.epoch if stored else 0
    enriched, score = pipeline.intake(lead, at)
    trail = Trail(lead=enriched, at=at, epoch=epoch + 1, score=score)
    trail.path.append(f"rebalance:{','.join(reasons)}")
    trail.path.append(f"rebalance:from-{owner_id}")
    found = pipeline.pool_candidates(trail, with_capacity=False)
    unit = _Unit(
        lead=enriched,
        owner_id=owner_id,
        epoch=epoch,
        reasons=reasons,
        trail=trail,
        candidates=list(found[2]) if found else [],
        stay_fit=None,
        order=order,
        pool=found[1].name if found else "",
        rule=found[0].name if found else "",
    )
    ctx = pipeline.context(at, ())
    owner = None if FORCED & set(reasons) else pipeline.available(trail, owner_id, ctx)
    if owner is not None:
        stay = pipeline.candidate(enriched, owner, ctx)
        unit.stay_fit = stay.fit
        bonus = pipeline.policy.rebalance.stay_bonus
        unit.candidates = [c for c in unit.candidates if c.rep_id != owner_id]
        unit.candidates.append(attrs.evolve(stay, fit=round(stay.fit + bonus, 4)))
    return unit


def _solve(
    pipeline: Pipeline,
    units: Sequence[_Unit],
    spent: Mapping[str, int],
    forbidden: set[tuple[str, str]],
) -> tuple[Solution | None, dict[str, str], dict[str, str], SolveSummary | None]:
    """The joint solve of the units (a forced record joining its person is not solved)."""
    solved = [u for u in units if not u.join]
    if not solved:
        return None, {}, {}, None
    settings = pipeline.policy.rebalance
    at = solved[0].trail.at
    reps = list(pipeline.reps)
    index = {rep_id: i for i, rep_id in enumerate(reps)}
    open_room, intake, kind_caps = _rooms(pipeline, at)
    order = sorted(range(len(solved)), key=lambda i: solved[i].order)
    rank = np.empty(len(solved), np.int64)
    rank[order] = np.arange(len(solved))
    stay = np.array(
        [index.get(u.owner_id, -1) if u.stay_fit is not None else -1 for u in solved], np.int32
    )
    side = SideConstraints(
        stay=stay,
        move_caps=MoveCaps(
            per_rep=settings.max_moves_per_rep,
            total=settings.max_moves,
            # A rep no longer loaded has no leads left to move: only the total counts it.
            spent={index.get(rep_id, -1): n for rep_id, n in spent.items()},
        ),
        # Among equal gains, the lead assigned the longest ago moves first.
        move_order=rank,
    )
    problem = BatchProblem.from_candidates(
        {
            u.lead.id: [
                (c.rep_id, max(0.0, c.fit))
                for c in u.candidates
                if (u.lead.id, c.rep_id) not in forbidden
            ]
            for u in solved
        },
        open_room,
        fairness=pipeline.policy.batch.fairness,
        side=side,
        pools={u.lead.id: u.pool for u in solved if u.pool},
        pool_caps={pool.name: pool.max_per_batch for pool in pipeline.policy.pools},
        current={u.lead.id: u.owner_id for u in solved if u.stay_fit is not None},
        intake=intake,
        kinds={u.lead.id: u.lead.lead_type.strip().lower() for u in solved},
        kind_caps=kind_caps,
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


def _rooms(
    pipeline: Pipeline, at: datetime
) -> tuple[dict[str, int | None], dict[str, int | None], dict[str, dict[str, int]]]:
    """Per rep: open-lead room, room for new leads (day and week), room per lead type."""
    counting = pipeline.policy.capacity.load == "count"
    open_room: dict[str, int | None] = {}
    intake: dict[str, int | None] = {}
    kinds: dict[str, dict[str, int]] = {}
    for rep in pipeline.reps.values():
        cap = rep.capacity
        open_room[rep.id] = (
            None if cap.max_open is None else max(0, cap.max_open - pipeline.loads.get(rep.id, 0))
        )
        rooms = []
        for limit, used in (
            (cap.per_day, pipeline.usage.day(rep.id, at)),
            (cap.per_week, pipeline.usage.week(rep.id, at)),
        ):
            if limit is not None:
                left = limit - used
                # Under a load field a lead's weight is not 1: the cap check weighs it.
                if counting or left <= 0:
                    rooms.append(max(0, int(left + 1e-9)))
        intake[rep.id] = min(rooms) if rooms else None
        if cap.per_type:
            kinds[rep.id] = {
                kind: max(0, limit - pipeline.usage.of_type(rep.id, at, kind))
                for kind, limit in cap.per_type.items()
            }
    return open_room, intake, kinds


def _targets(
    pipeline: Pipeline,
    units: Sequence[_Unit],
    chosen: Mapping[str, str],
    unplaced: Mapping[str, str],
    forbidden: set[tuple[str, str]],
    at: datetime,
) -> dict[str, tuple[str, str]]:
    """Lead id -> (new owner, or ``""`` for the fallback queue; why) for every unit that
    moves: the solve's choice, the person's keeper, or, for a forced lead nobody in its
    pool can take, the pool's backup."""
    ctx = pipeline.context(at, ())
    out: dict[str, tuple[str, str]] = {}
    for unit in units:
        lead_id = unit.lead.id
        if unit.join:
            keeper = unit.join
            if (lead_id, keeper) not in forbidden and pipeline.available(unit.trail, keeper, ctx):
                out[lead_id] = (keeper, "")
            else:
                out[lead_id] = ("", f"its person's owner {keeper} cannot take it")
            continue
        to_rep = chosen.get(lead_id)
        if to_rep == unit.owner_id or (to_rep is None and unit.stay_fit is not None):
            continue  # stays
        if to_rep is not None:
            out[lead_id] = (to_rep, "")
            continue
        why = unplaced.get(lead_id, "")
        pool = pipeline.policy.pool(unit.pool) if unit.pool else None
        backup = pool.backup if pool is not None else ""
        if (
            backup
            and not why.startswith("pool ")
            and (lead_id, backup) not in forbidden
            and pipeline.available(unit.trail, backup, ctx)
        ):
            out[lead_id] = (backup, why or "no eligible rep has room")
        else:
            out[lead_id] = ("", why)
    return out


def _arrivals(
    pipeline: Pipeline, units: Sequence[_Unit], targets: Mapping[str, tuple[str, str]]
) -> list[Arrival]:
    """The moves to a rep (the fallback queue is the last resort: never checked), each
    with its followers, in priority order: forced moves first, then larger gains, then
    the lead assigned longest ago."""
    items = []
    for unit in units:
        target = targets.get(unit.lead.id)
        if target is None or not target[0]:
            continue
        to_rep = target[0]
        fit = next((c.fit for c in unit.candidates if c.rep_id == to_rep), 0.0)
        gain = fit - (unit.stay_fit if unit.stay_fit is not None else 0.0)
        itself = Transfer(
            lead_id=unit.lead.id,
            from_owner=unit.owner_id,
            usage=lead_load(unit.lead, pipeline.policy),
            lead_type=unit.lead.lead_type.strip().lower(),
        )
        riders = tuple(
            Transfer(
                lead_id=d.lead_id,
                from_owner=d.owner_id,
                load=carries_load(d) and not _appended(d),
                usage=d.load if counts_usage(d) and not _appended(d) else 0.0,
                lead_type=d.features.get("lead_type", "").strip().lower(),
            )
            for d in unit.followers(to_rep)
        )
        arrival = Arrival(key=unit.lead.id, rep_id=to_rep, records=(itself, *riders))
        items.append(((not unit.forced, -gain, unit.order), arrival))
    items.sort(key=lambda item: item[0])
    return [arrival for _, arrival in items]


def _move(pipeline: Pipeline, unit: _Unit, to_rep: str, why: str) -> Move:
    """The decision of one move: to a chosen rep, the person's keeper, a pool's backup, or
    the fallback queue (``to_rep`` empty)."""
    trail = unit.trail
    reasons = ",".join(unit.reasons)
    fit_after: float | None = None
    pool = pipeline.policy.pool(unit.pool) if unit.pool else None
    chosen = next((c for c in unit.candidates if c.rep_id == to_rep), None)
    if not to_rep:
        blocked = (
            why
            if why.startswith(("pool ", "its person")) or "cap" in why
            else ("no eligible rep has room")
        )
        decided = pipeline.fallback(
            trail,
            f"moved from {unit.owner_id} ({reasons}); {blocked}, so it goes to the fallback queue",
        )
        to_rep = decided.decision.owner_id
    elif unit.join:
        trail.path.append("rebalance:joins-person")
        decided = pipeline.decided(
            trail,
            RouteStep.REBALANCE,
            to_rep,
            f"moved from {unit.owner_id} ({reasons}) to {to_rep}, who keeps the same person's "
            "other records",
        )
    elif chosen is None:
        trail.path.append("pool:backup")
        decided = pipeline.decided(
            trail,
            RouteStep.BACKUP,
            to_rep,
            f"moved from {unit.owner_id} ({reasons}); {why}: pool backup {to_rep} takes it",
            rule=unit.rule,
            pool=pool,
        )
    else:
        ranked = sorted(unit.candidates, key=lambda c: (c.rep_id != to_rep, -c.fit, c.rep_id))
        ranked = [
            attrs.evolve(
                c,
                rank=i,
                reason="chosen by the rebalance"
                if i == 1
                else (
                    "current owner (stay bonus included)"
                    if c.rep_id == unit.owner_id
                    else "not chosen"
                ),
            )
            for i, c in enumerate(ranked, start=1)
        ]
        trail.path.append("strategy:optimize")
        gain = "" if unit.stay_fit is None else f", fit {unit.stay_fit:.2f} -> {chosen.fit:.2f}"
        decided = pipeline.decided(
            trail,
            RouteStep.REBALANCE,
            to_rep,
            f"moved from {unit.owner_id} ({reasons}){gain}",
            rule=unit.rule,
            pool=pool,
            candidates=tuple(ranked),
            strategy="optimize",
        )
        fit_after = chosen.fit
    return Move(
        lead_id=unit.lead.id,
        from_owner=unit.owner_id,
        to_owner=to_rep,
        reasons=unit.reasons,
        fit_before=unit.stay_fit,
        fit_after=fit_after,
        decided=decided,
        followers=tuple((d.lead_id, d.owner_id) for d in unit.followers(to_rep)),
        carries_person=not unit.join,
    )
