"""Joint assignment as a min-cost flow: the proven optimum of fit under capacity.

Network: one node per lead (supply 1), one per rep, one sink (demand = leads). Arcs:
lead -> rep for each eligible pair (capacity 1, cost ``S - score``), rep -> sink
(capacity = the rep's room, cost 0), and lead -> sink "unassigned" bypass (capacity 1,
cost ``S``, what a zero-score pair costs), so an infeasible lead is reported unassigned
instead of making the problem infeasible. Minimising cost maximises total score; the
constraint matrix is totally unimodular, so the integral optimum is the optimum. Leaving
a lead out and giving it a zero-score rep then cost the same; a last pass gives every
such lead a rep with room, which changes no score, so placing wins every tie without
trading any fit for it.

Pool caps ("pool P takes at most K leads in this batch") are one intermediate node per
capped pool on the way to the sink: the bypass arcs of P's leads go to P's node, which
passes them on to the sink and must itself absorb ``|P| - K`` units (a demand). At least
``|P| - K`` of P's leads are then unassigned, i.e. at most K placed, whichever reps take
them; rep capacities are untouched, so a rep in several pools stays one node and the
network stays exact (a lead reaches one pool, its rule's). Pool caps add one node and
one arc per capped pool, nothing per pair.

With ``fairness``, each rep's arc to the sink splits into four arcs, one per quarter of its
capacity, at rising unit cost: a convex cost on load that keeps the problem a flow.

Scores are integers (the algorithm's running time grows with log of the largest cost):
integral fits up to ``SCALE`` are used as they are, anything else is scaled to 0..SCALE
and the possible rounding loss is reported in ``bound`` and ``gap``. Arcs are added in
one vectorised call: no Python loop per arc.
"""

from __future__ import annotations

import time

import attrs
import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from leadroute.logs import get_logger
from leadroute.models import SolveSummary
from leadroute.solver.problem import BatchProblem

__all__ = ["SCALE", "Solution", "integer_scores", "solve_flow"]

log = get_logger(__name__)

SCALE = 1000
TINY = 1e-9


@attrs.frozen(kw_only=True, eq=False)
class Solution:
    """A batch assignment and how good it provably is.

    Attributes:
        status: ``OPTIMAL`` or the solver's failure status.
        assignment: Rep index per lead, -1 for unassigned.
        objective: Total fit of the assignment (original units).
        bound: An upper bound on the best possible total fit (original units). With
            fairness, on fit - fairness cost + the placement bonus (the costliest
            fairness step per placed lead, which keeps fairness from leaving leads out).
        gap: ``(bound - value) / bound`` for that value (0 when proven optimal).
        build_seconds: Time to build the network.
        solve_seconds: Time in the solver.
        extract_seconds: Time to read the assignment back.
        penalty: Fairness cost paid (fit units; 0 without fairness).
    """

    status: str
    assignment: NDArray[np.int32]
    objective: float
    bound: float
    gap: float
    build_seconds: float
    penalty: float = 0.0
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

    def summary(self, problem: BatchProblem) -> SolveSummary:
        """What to keep with the decisions: status, objective, bound, gap and timings."""
        return SolveSummary(
            status=self.status,
            objective=round(self.objective, 6),
            bound=round(self.bound, 6) if np.isfinite(self.bound) else None,
            gap=round(self.gap, 9),
            penalty=round(self.penalty, 6),
            leads=len(problem.lead_ids),
            pairs=problem.num_pairs,
            unassigned=self.unassigned,
            build_seconds=round(self.build_seconds, 6),
            solve_seconds=round(self.solve_seconds, 6),
            extract_seconds=round(self.extract_seconds, 6),
        )


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
    seg_tails, seg_caps, seg_costs = _capacity_arcs(problem, n, factor)
    # "Unassigned" costs what the costliest assignment (zero score, fullest quarter) does,
    # so fairness spreads load but never leaves a lead out for a better total, and the
    # optimum is of fit alone (no bonus per placed lead to trade fit against).
    bonus = int(seg_costs.max(initial=0))
    bypass = top + bonus
    # A lead of a capped pool leaves through its pool's node; the node must absorb the
    # leads the cap keeps out (its demand), then passes the rest on to the sink.
    k = len(problem.pool_ids)
    pool_nodes, pool_size, pool_demand, bypass_heads = _pool_arcs(problem, sink)
    tails = np.concatenate([problem.pair_lead, seg_tails, leads, pool_nodes])
    heads = np.concatenate(
        [
            n + problem.pair_rep,
            np.full(len(seg_tails), sink, np.int32),
            bypass_heads,
            np.full(k, sink, np.int32),
        ]
    )
    caps = np.concatenate([np.ones(e, np.int64), seg_caps, np.ones(n, np.int64), pool_size])
    costs = np.concatenate(
        [top - scores, seg_costs, np.full(n, bypass, np.int64), np.zeros(k, np.int64)]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 1 + k, np.int64)
    supplies[:n] = 1
    supplies[sink] = -(n - int(pool_demand.sum()))
    supplies[sink + 1 :] = -pool_demand
    flow.set_nodes_supplies(np.arange(n + m + 1 + k, dtype=np.int32), supplies)
    built = time.perf_counter()
    status = flow.solve()
    solved = time.perf_counter()
    assignment = np.full(n, -1, np.int32)
    penalty_scores = 0
    if status == flow.OPTIMAL and e:
        used = flow.flows(np.arange(e, dtype=np.int32)) > 0
        assignment[problem.pair_lead[used]] = problem.pair_rep[used]
        segment_flow = flow.flows(np.arange(e, e + len(seg_tails), dtype=np.int32))
        penalty_scores = int((segment_flow * seg_costs).sum())
    if status == flow.OPTIMAL:
        penalty_scores += _place_ties(problem, assignment, scores, bonus)
    done = time.perf_counter()
    placed = assignment >= 0
    objective = _objective(problem, assignment)
    penalty = penalty_scores / factor
    # The integer optimum is exact for the scores; rounding fits to scores can lose at most
    # half a score unit per placed lead, which bounds how far from the true optimum we are.
    # With fairness the optimum is of fit minus fairness cost, and so are bound and gap.
    rounding = 0.0 if factor == 1.0 else 0.5 * int(placed.sum()) / factor
    # The flow maximises fit - fairness + bonus per placed lead (bonus: the costliest
    # fairness step, 0 without fairness), so fairness never leaves a lead out; bound and
    # gap are of that value, which is fit alone without fairness.
    best_scores = n * bypass - flow.optimal_cost() if status == flow.OPTIMAL else 0
    net = objective - penalty + bonus * int(placed.sum()) / factor
    bound = max(net, best_scores / factor + rounding) if status == flow.OPTIMAL else float("inf")
    gap = (bound - net) / bound if bound and bound != float("inf") else 0.0
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
        penalty=penalty,
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
        capped_pools=k,
        objective=round(objective, 3),
        bound=round(bound, 3),
        gap=round(gap, 6),
        unassigned=solution.unassigned,
        build_seconds=round(solution.build_seconds, 3),
        solve_seconds=round(solution.solve_seconds, 3),
        extract_seconds=round(solution.extract_seconds, 3),
    )
    return solution


SEGMENTS = 4


def _capacity_arcs(
    problem: BatchProblem, n: int, factor: float
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]]:
    """Rep -> sink arcs: one per rep, or, with fairness, one per capacity quarter at rising cost."""
    m = len(problem.rep_ids)
    reps = n + np.arange(m, dtype=np.int32)
    step = round(problem.fairness * factor)
    if not step:
        return reps, problem.capacity.astype(np.int64), np.zeros(m, np.int64)
    edges = problem.capacity[:, None] * np.arange(SEGMENTS + 1)[None, :] // SEGMENTS
    return (
        np.repeat(reps, SEGMENTS),
        np.diff(edges, axis=1).ravel().astype(np.int64),
        np.tile(np.arange(SEGMENTS, dtype=np.int64) * step, m),
    )


def _pool_arcs(
    problem: BatchProblem, sink: int
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64], NDArray[np.int32]]:
    """Pool nodes, their sizes (arc capacities to the sink), demands, and each bypass head."""
    lead_pool = problem.pool_of_lead
    k = len(problem.pool_ids)
    nodes = sink + 1 + np.arange(k, dtype=np.int32)
    size = np.bincount(lead_pool[lead_pool >= 0], minlength=k).astype(np.int64)
    demand = np.maximum(0, size - problem.pool_cap)
    heads = np.where(lead_pool >= 0, sink + 1 + lead_pool, sink).astype(np.int32)
    return nodes, size, demand, heads


def _place_ties(
    problem: BatchProblem, assignment: NDArray[np.int32], scores: NDArray[np.int64], top_seg: int
) -> int:
    """Give each lead the optimum left out a rep with room, where that costs nothing.

    At the optimum a lead is left out with an eligible rep (and pool) still having room
    only on a tie: its score there is 0 and the rep's next lead falls in its costliest
    quarter. Placing it keeps the optimum. Returns the fairness cost added (scores).
    """
    if problem.num_pairs == 0:
        return 0
    m, k = len(problem.rep_ids), len(problem.pool_ids)
    placed = assignment >= 0
    load = np.bincount(assignment[placed], minlength=m)
    lead_pool = problem.pool_of_lead
    taken = np.bincount(lead_pool[placed & (lead_pool >= 0)], minlength=k)
    pool_room = np.append(problem.pool_cap - taken, 1)  # index -1: no pool cap
    # Narrow to the pairs of leads left out first: at scale that is a sliver of the pairs.
    out = np.flatnonzero(~placed[problem.pair_lead])
    reps = problem.pair_rep[out]
    open_pairs = out[
        (scores[out] == 0)
        & (load[reps] < problem.capacity[reps])
        & (pool_room[lead_pool[problem.pair_lead[out]]] > 0)
    ]
    added = 0
    for pair in open_pairs.tolist():  # only tied pairs: usually none at all
        lead, rep = int(problem.pair_lead[pair]), int(problem.pair_rep[pair])
        pool = int(lead_pool[lead])
        if assignment[lead] >= 0 or load[rep] >= problem.capacity[rep] or pool_room[pool] <= 0:
            continue
        assignment[lead] = rep
        load[rep] += 1
        if pool >= 0:
            pool_room[pool] -= 1
        added += top_seg
    return added


def _objective(problem: BatchProblem, assignment: NDArray[np.int32]) -> float:
    """Total fit of an assignment, read off the pairs it uses."""
    if not problem.num_pairs:
        return 0.0
    chosen = assignment[problem.pair_lead] == problem.pair_rep
    return float(problem.pair_fit[chosen].sum())
