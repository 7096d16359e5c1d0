"""Move caps for the rebalance: side constraints a flow cannot express, solved with CP-SAT.

"At most K leads move away from each rep" couples the leads of one owner across every
rep they could go to, which no network arc can carry. When the flow optimum already
respects the caps it is returned as is; otherwise CP-SAT solves the capped problem,
warm-started from the flow solution, within the policy's time limit, and the gap is
measured against the uncapped flow optimum, which is an upper bound.

Only discretionary moves count toward a cap: a lead whose current owner cannot keep it
(no "stay" pair: inactive, on leave) must move, whatever the caps say.
"""

from __future__ import annotations

import time

import attrs
import numpy as np
import structlog
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from leadroute.solver.flow import Solution, integer_scores, solve_flow
from leadroute.solver.problem import BatchProblem

__all__ = ["MoveCaps", "moves_within_caps", "solve_with_move_caps"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class MoveCaps:
    """Limits on how many leads may leave their current owner.

    Attributes:
        per_rep: Most discretionary moves away from any one rep (None: no cap).
        total: Most discretionary moves in all (None: no cap).
    """

    per_rep: int | None = None
    total: int | None = None


def _stay_pairs(problem: BatchProblem, stay: NDArray[np.int32]) -> NDArray[np.int64]:
    """Index of each lead's stay pair (lead -> current owner), -1 when it has none."""
    owner_of_pair = stay[problem.pair_lead]
    is_stay = (owner_of_pair >= 0) & (problem.pair_rep == owner_of_pair)
    out = np.full(len(problem.lead_ids), -1, np.int64)
    out[problem.pair_lead[is_stay]] = np.flatnonzero(is_stay)
    return out


def moves_within_caps(
    problem: BatchProblem, stay: NDArray[np.int32], assignment: NDArray[np.int32], caps: MoveCaps
) -> bool:
    """Whether an assignment's discretionary moves respect the caps."""
    stay_pair = _stay_pairs(problem, stay)
    optional = stay_pair >= 0
    moved = optional & (assignment != stay)
    if caps.total is not None and int(moved.sum()) > caps.total:
        return False
    if caps.per_rep is not None and moved.any():
        per_rep = np.bincount(stay[moved], minlength=len(problem.rep_ids))
        return bool(per_rep.max() <= caps.per_rep)
    return True


def solve_with_move_caps(
    problem: BatchProblem,
    stay: NDArray[np.int32],
    caps: MoveCaps,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
) -> Solution:
    """The best assignment whose discretionary moves respect ``caps``.

    :param stay: Current owner's rep index per lead (-1 when the lead has no owner).
    """
    flow = solve_flow(problem)
    if not flow.optimal or moves_within_caps(problem, stay, flow.assignment, caps):
        return flow
    started = time.perf_counter()
    scores, factor = integer_scores(problem.pair_fit)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{e}") for e in range(problem.num_pairs)]
    by_lead: list[list[int]] = [[] for _ in problem.lead_ids]
    by_rep: list[list[int]] = [[] for _ in problem.rep_ids]
    for e, (lead, rep) in enumerate(
        zip(problem.pair_lead.tolist(), problem.pair_rep.tolist(), strict=True)
    ):
        by_lead[lead].append(e)
        by_rep[rep].append(e)
    for pairs in by_lead:
        if pairs:
            model.add_at_most_one(x[e] for e in pairs)
    for rep, pairs in enumerate(by_rep):
        if pairs:
            model.add(sum(x[e] for e in pairs) <= int(problem.capacity[rep]))
    stay_pair = _stay_pairs(problem, stay).tolist()
    optional = [lead for lead, e in enumerate(stay_pair) if e >= 0]
    if caps.total is not None:
        model.add(sum(x[stay_pair[lead]] for lead in optional) >= len(optional) - caps.total)
    if caps.per_rep is not None:
        owners: dict[int, list[int]] = {}
        for lead in optional:
            owners.setdefault(int(stay[lead]), []).append(lead)
        for leads in owners.values():
            model.add(sum(x[stay_pair[lead]] for lead in leads) >= len(leads) - caps.per_rep)
    model.maximize(sum(int(s) * x[e] for e, s in enumerate(scores.tolist()) if s))
    used = set(np.flatnonzero(flow.assignment[problem.pair_lead] == problem.pair_rep).tolist())
    for e, var in enumerate(x):
        model.add_hint(var, e in used)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    built = time.perf_counter()
    status = solver.solve(model)
    solved = time.perf_counter()
    assignment = np.full(len(problem.lead_ids), -1, np.int32)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [e for e, var in enumerate(x) if solver.boolean_value(var)]
        assignment[problem.pair_lead[chosen]] = problem.pair_rep[chosen]
    objective = float(problem.pair_fit[assignment[problem.pair_lead] == problem.pair_rep].sum())
    # The uncapped flow optimum bounds the capped problem from above.
    bound = (
        min(flow.bound, solver.best_objective_bound / factor)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else flow.bound
    )
    bound = max(bound, objective)
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
        "solver.capped",
        status=result.status,
        objective=round(objective, 3),
        bound=round(bound, 3),
        gap=round(result.gap, 6),
        pairs=problem.num_pairs,
    )
    return result
