"""Side constraints a flow cannot express, solved with CP-SAT when the flow breaks one.

* **Move caps** (rebalance): "at most K leads move away from each rep" couples one
  owner's leads across every rep they could go to. Only discretionary moves count (a
  lead whose owner cannot keep it, with no stay pair, must move whatever the caps say),
  and a move is an assignment to another rep: a lead left unplaced keeps its owner.
* **One rep per account**: all leads of one account in the batch go to the same rep.
* **Type shares**: a lead type may take at most a share of a rep's remaining capacity in
  one batch (``{demo: 0.5}``: no rep gets more demo leads than half its room).

Move caps alone never come here: ``leadroute.solver.moves`` keeps them in the network.

When the flow optimum already satisfies every rule it is returned as is (it is then
optimal for the constrained problem too). Otherwise CP-SAT solves the constrained model,
warm-started from the flow, within the time limit; the uncapped flow optimum is an upper
bound, and the reported gap is measured against it. Pool caps, intake (daily/weekly room)
and per-kind caps are in the flow and are added to the CP-SAT model as they are.
Fairness is not modelled in CP-SAT: when side constraints force CP-SAT, the solve
maximises fit.

**The same problem gives the same answer.** CP-SAT runs with one worker and a fixed
seed, and its time limit is a *deterministic* time (``max_deterministic_time``, CP-SAT's
own work measure, about a second each on this kind of machine), so where it stops does
not depend on the machine's load; a wall-clock limit of ten times that is a guard only.
The tie-break is in the objective, lexicographically: total fit first, then the number
of leads placed, then the number of the flow optimum's own pairs kept, so among equally
good answers the one closest to the flow's wins.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import attrs
import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from leadroute.logs import get_logger
from leadroute.solver.flow import Solution, integer_scores, solve_flow
from leadroute.solver.problem import BatchProblem, MoveCaps, SideConstraints

__all__ = ["MoveCaps", "SideConstraints", "satisfies", "solve_with_side_constraints"]

log = get_logger(__name__)


def _stay_pairs(problem: BatchProblem, stay: NDArray[np.int32]) -> NDArray[np.int64]:
    """Index of each lead's stay pair (lead -> current owner), -1 when it has none."""
    owner_of_pair = stay[problem.pair_lead]
    is_stay = (owner_of_pair >= 0) & (problem.pair_rep == owner_of_pair)
    out = np.full(len(problem.lead_ids), -1, np.int64)
    out[problem.pair_lead[is_stay]] = np.flatnonzero(is_stay)
    return out


def _type_limit(problem: BatchProblem, share: float, rep: int) -> int:
    return math.floor(share * int(problem.capacity[rep]) + 1e-9)


def satisfies(problem: BatchProblem, side: SideConstraints, assignment: NDArray[np.int32]) -> bool:
    """Whether an assignment keeps every side constraint."""
    placed = assignment >= 0
    if side.stay is not None:
        # A move is a new rep: a lead left unplaced keeps its owner (the rebalance's rule).
        optional = _stay_pairs(problem, side.stay) >= 0
        moved = optional & placed & (assignment != side.stay)
        caps = side.move_caps
        total = caps.total_left()
        if total is not None and int(moved.sum()) > total:
            return False
        if caps.per_rep is not None and moved.any():
            per_rep = np.bincount(side.stay[moved], minlength=len(problem.rep_ids))
            if any(n > (caps.left_for(r) or 0) for r, n in enumerate(per_rep.tolist())):
                return False
    if side.account:
        owners: dict[str, set[int]] = defaultdict(set)
        for lead in np.flatnonzero(placed).tolist():
            if side.account[lead]:
                owners[side.account[lead]].add(int(assignment[lead]))
        if any(len(reps) > 1 for reps in owners.values()):
            return False
    for kind, share in side.max_type_share.items() if side.lead_type else ():
        of_type = placed & (np.array(side.lead_type) == kind)
        counts = np.bincount(assignment[of_type], minlength=len(problem.rep_ids))
        if any(n > _type_limit(problem, share, r) for r, n in enumerate(counts.tolist())):
            return False
    return True


SEED = 0
WALL_GUARD = 10.0


def solve_with_side_constraints(
    problem: BatchProblem, *, time_limit: float | None = None, workers: int = 1
) -> Solution:
    """The best assignment keeping ``problem.side`` (flow first; CP-SAT when it must)."""
    side = problem.side or SideConstraints()
    flow = solve_flow(problem)
    if not flow.optimal or satisfies(problem, side, flow.assignment):
        return flow
    started = time.perf_counter()
    scores, factor = integer_scores(problem.pair_fit)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{e}") for e in range(problem.num_pairs)]
    by_lead: list[list[int]] = [[] for _ in problem.lead_ids]
    by_rep: list[list[int]] = [[] for _ in problem.rep_ids]
    pairs = zip(problem.pair_lead.tolist(), problem.pair_rep.tolist(), strict=True)
    for e, (lead, rep) in enumerate(pairs):
        by_lead[lead].append(e)
        by_rep[rep].append(e)
    for lead_pairs in by_lead:
        if lead_pairs:
            model.add_at_most_one(x[e] for e in lead_pairs)
    for rep, rep_pairs in enumerate(by_rep):
        if rep_pairs:
            model.add(sum(x[e] for e in rep_pairs) <= int(problem.capacity[rep]))
    _add_move_caps(model, x, problem, side)
    _add_accounts(model, x, problem, side, by_lead)
    _add_type_shares(model, x, problem, side, by_rep)
    _add_pool_caps(model, x, problem)
    _add_intake(model, x, problem, by_rep)
    used = set(np.flatnonzero(flow.assignment[problem.pair_lead] == problem.pair_rep).tolist())
    # Fit first; among assignments of equal fit, the one placing the most leads (the
    # flow's tie rule); then the one keeping most of the flow's pairs. Weighting each
    # level by (n + 1) times the next makes it lexicographic.
    weight = len(problem.lead_ids) + 1
    model.maximize(
        sum(
            ((int(s) * weight + 1) * weight + (e in used)) * x[e]
            for e, s in enumerate(scores.tolist())
        )
    )
    for e, var in enumerate(x):
        model.add_hint(var, e in used)
    solver = cp_model.CpSolver()
    limit = time_limit if time_limit is not None else side.time_limit
    solver.parameters.max_deterministic_time = limit
    solver.parameters.max_time_in_seconds = WALL_GUARD * limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = SEED
    built = time.perf_counter()
    status = solver.solve(model)
    solved = time.perf_counter()
    assignment = np.full(len(problem.lead_ids), -1, np.int32)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [e for e, var in enumerate(x) if solver.boolean_value(var)]
        assignment[problem.pair_lead[chosen]] = problem.pair_rep[chosen]
    objective = float(problem.pair_fit[assignment[problem.pair_lead] == problem.pair_rep].sum())
    # The flow optimum without the side rules bounds fit from above; with fairness the
    # flow's value includes fairness, so the bound comes from a fit-only flow.
    fit_bound = (
        flow.bound
        if not problem.fairness
        else solve_flow(attrs.evolve(problem, fairness=0.0)).bound
    )
    bound = max(fit_bound, objective)
    result = Solution(
        status=solver.status_name(status),
        assignment=assignment,
        objective=objective,
        bound=bound,
        gap=(bound - objective) / bound if bound else 0.0,
        build_seconds=flow.build_seconds + (built - started),
        solve_seconds=solved - built,
        extract_seconds=time.perf_counter() - solved,
    )
    log.info(
        "solver.side_constraints",
        status=result.status,
        objective=round(objective, 3),
        bound=round(bound, 3),
        gap=round(result.gap, 6),
        pairs=problem.num_pairs,
        factor=factor,
        build_seconds=round(result.build_seconds, 3),
        solve_seconds=round(result.solve_seconds, 3),
        extract_seconds=round(result.extract_seconds, 3),
    )
    return result


def _add_move_caps(
    model: cp_model.CpModel, x: list[cp_model.IntVar], problem: BatchProblem, side: SideConstraints
) -> None:
    if side.stay is None:
        return
    stay, caps = side.stay, side.move_caps
    stay_pair = _stay_pairs(problem, stay)
    # Discretionary moves: pairs that take a lead with a stay option to another rep. Never
    # forcing a stay keeps the caps feasible even when an owner has no room left.
    leads = problem.pair_lead
    moving = np.flatnonzero((stay_pair[leads] >= 0) & (problem.pair_rep != stay[leads])).tolist()
    total = caps.total_left()
    if total is not None:
        model.add(sum(x[e] for e in moving) <= total)
    if caps.per_rep is not None:
        by_owner: dict[int, list[int]] = defaultdict(list)
        for e in moving:
            by_owner[int(stay[leads[e]])].append(e)
        for owner, pairs in by_owner.items():
            model.add(sum(x[e] for e in pairs) <= (caps.left_for(owner) or 0))


def _add_accounts(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    problem: BatchProblem,
    side: SideConstraints,
    by_lead: list[list[int]],
) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for lead, account in enumerate(side.account):
        if account:
            groups[account].append(lead)
    for leads in groups.values():
        if len(leads) < 2:
            continue
        chosen: dict[int, cp_model.IntVar] = {}
        for lead in leads:
            for e in by_lead[lead]:
                rep = int(problem.pair_rep[e])
                if rep not in chosen:
                    chosen[rep] = model.new_bool_var(f"acct{leads[0]}r{rep}")
                model.add_implication(x[e], chosen[rep])
        model.add_at_most_one(chosen.values())


def _add_type_shares(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    problem: BatchProblem,
    side: SideConstraints,
    by_rep: list[list[int]],
) -> None:
    if not side.lead_type:
        return
    for kind, share in side.max_type_share.items():
        for rep, rep_pairs in enumerate(by_rep):
            typed = [e for e in rep_pairs if side.lead_type[int(problem.pair_lead[e])] == kind]
            if typed:
                model.add(sum(x[e] for e in typed) <= _type_limit(problem, share, rep))


def _add_intake(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    problem: BatchProblem,
    by_rep: list[list[int]],
) -> None:
    """The rep's intake and per-kind caps on new leads, as in the flow."""
    new = ~problem.stay_pair
    kind_of = (
        problem.lead_kind[problem.pair_lead]
        if problem.lead_kind is not None
        else np.full(problem.num_pairs, -1, np.int32)
    )
    for rep, rep_pairs in enumerate(by_rep):
        fresh = [e for e in rep_pairs if new[e]]
        if problem.intake is not None and len(fresh) > problem.intake[rep]:
            model.add(sum(x[e] for e in fresh) <= int(problem.intake[rep]))
        if problem.kind_room is None:
            continue
        for kind, room in enumerate(problem.kind_room[rep].tolist()):
            typed = [e for e in fresh if kind_of[e] == kind]
            if room >= 0 and len(typed) > room:
                model.add(sum(x[e] for e in typed) <= room)


def _add_pool_caps(
    model: cp_model.CpModel, x: list[cp_model.IntVar], problem: BatchProblem
) -> None:
    """At most ``pool_cap`` placed leads per capped pool, as in the flow."""
    pool_of_pair = problem.pool_of_lead[problem.pair_lead]
    for k, cap in enumerate(problem.pool_cap.tolist()):
        pairs = np.flatnonzero(pool_of_pair == k).tolist()
        if len(pairs) > cap:
            model.add(sum(x[e] for e in pairs) <= cap)
