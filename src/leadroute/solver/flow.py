"""Joint assignment as a min-cost flow: the proven optimum of fit under capacity.

Network: one node per lead (supply 1), one per rep, one sink (demand = leads). Arcs:
lead -> rep for each eligible pair (capacity 1, cost ``S - score``), rep -> sink
(capacity = the rep's room, cost 0), and lead -> sink "unassigned" bypass (capacity 1,
cost ``S + 1``), so an infeasible lead is reported unassigned instead of making the
problem infeasible. Minimising cost maximises total score; the constraint matrix is
totally unimodular, so the integral optimum is the optimum.

Scores are integers (the algorithm's running time grows with log of the largest cost):
integral fits up to ``SCALE`` are used as they are, anything else is scaled to 0..SCALE
and the possible rounding loss is reported in ``bound`` and ``gap``. Arcs are added in
one vectorised call: no Python loop per arc.
"""

from __future__ import annotations

import time

import attrs
import numpy as np
import structlog
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from leadroute.solver.problem import BatchProblem

__all__ = ["SCALE", "Solution", "integer_scores", "solve_flow"]

log = structlog.get_logger(__name__)

SCALE = 1000
TINY = 1e-9


@attrs.frozen(kw_only=True, eq=False)
class Solution:
    """A batch assignment and how good it provably is.

    Attributes:
        status: ``OPTIMAL`` or the solver's failure status.
        assignment: Rep index per lead, -1 for unassigned.
        objective: Total fit of the assignment (original units).
        bound: An upper bound on the best possible total fit (original units).
        gap: ``(bound - objective) / bound`` (0 when proven optimal).
        build_seconds: Time to build the network.
        solve_seconds: Time in the solver.
        extract_seconds: Time to read the assignment back.
    """

    status: str
    assignment: NDArray[np.int32]
    objective: float
    bound: float
    gap: float
    build_seconds: float
    solve_seconds: float
    extract_seconds: float

    @property
    def unassigned(self) -> int:
        """Leads the solve could not place (no eligible rep with room)."""
        return int(np.count_nonzero(self.assignment < 0))

    @property
    def optimal(self) -> bool:
        """Whether the solver proved optimality."""
        return self.status == "OPTIMAL"


def integer_scores(fit: NDArray[np.float64]) -> tuple[NDArray[np.int64], float]:
    """Integer scores for the network and the factor that produced them (score = fit * factor)."""
    if fit.size == 0:
        return fit.astype(np.int64), 1.0
    top = float(fit.max())
    if top <= SCALE and np.all(fit == np.round(fit)):
        return fit.astype(np.int64), 1.0
    if top < TINY:
        # Every fit is (numerically) zero: scaling would divide by ~0, and nothing separates
        # the pairs anyway.
        return np.zeros(fit.shape, np.int64), 1.0
    factor = SCALE / top
    return np.rint(fit * factor).astype(np.int64), factor


def solve_flow(problem: BatchProblem) -> Solution:
    """Assign leads to reps maximising total fit within every rep's capacity."""
    n, m, e = len(problem.lead_ids), len(problem.rep_ids), problem.num_pairs
    started = time.perf_counter()
    scores, factor = integer_scores(problem.pair_fit)
    top = int(scores.max()) if e else 0
    sink = n + m
    leads = np.arange(n, dtype=np.int32)
    tails = np.concatenate([problem.pair_lead, n + np.arange(m, dtype=np.int32), leads])
    heads = np.concatenate(
        [n + problem.pair_rep, np.full(m, sink, np.int32), np.full(n, sink, np.int32)]
    )
    caps = np.concatenate([np.ones(e, np.int64), problem.capacity, np.ones(n, np.int64)])
    costs = np.concatenate([top - scores, np.zeros(m, np.int64), np.full(n, top + 1, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 1, np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), supplies)
    built = time.perf_counter()
    status = flow.solve()
    solved = time.perf_counter()
    assignment = np.full(n, -1, np.int32)
    if status == flow.OPTIMAL and e:
        used = flow.flows(np.arange(e, dtype=np.int32)) > 0
        assignment[problem.pair_lead[used]] = problem.pair_rep[used]
    done = time.perf_counter()
    placed = assignment >= 0
    objective = _objective(problem, assignment)
    # The integer optimum is exact for the scores; rounding fits to scores can lose at most
    # half a score unit per placed lead, which bounds how far from the true optimum we are.
    rounding = 0.0 if factor == 1.0 else 0.5 * int(placed.sum()) / factor
    optimum_of_scores = (
        (n * top + int(placed.size - placed.sum()) - flow.optimal_cost())
        if status == flow.OPTIMAL
        else 0
    )
    bound = (
        max(objective, optimum_of_scores / factor + rounding)
        if status == flow.OPTIMAL
        else float("inf")
    )
    gap = (bound - objective) / bound if bound and bound != float("inf") else 0.0
    names = {
        flow.OPTIMAL: "OPTIMAL",
        flow.INFEASIBLE: "INFEASIBLE",
        flow.UNBALANCED: "UNBALANCED",
        flow.BAD_RESULT: "BAD_RESULT",
        flow.BAD_COST_RANGE: "BAD_COST_RANGE",
        flow.NOT_SOLVED: "NOT_SOLVED",
    }
    solution = Solution(
        status=names.get(status, str(status)),
        assignment=assignment,
        objective=objective,
        bound=bound,
        gap=gap,
        build_seconds=built - started,
        solve_seconds=solved - built,
        extract_seconds=done - solved,
    )
    log.info(
        "solver.solved",
        status=solution.status,
        leads=n,
        reps=m,
        pairs=e,
        objective=round(objective, 3),
        gap=round(gap, 6),
        unassigned=solution.unassigned,
        solve_seconds=round(solution.solve_seconds, 3),
    )
    return solution


def _objective(problem: BatchProblem, assignment: NDArray[np.int32]) -> float:
    """Total fit of an assignment, read off the pairs it uses."""
    if not problem.num_pairs:
        return 0.0
    chosen = assignment[problem.pair_lead] == problem.pair_rep
    return float(problem.pair_fit[chosen].sum())
