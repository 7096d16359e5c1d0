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

__all__ = [
    "SCALE",
    "Network",
    "Room",
    "Run",
    "Solution",
    "build_network",
    "finish",
    "integer_scores",
    "run_network",
    "solve_flow",
]

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


@attrs.frozen(kw_only=True, eq=False)
class Network:
    """A problem's flow network, built once, solvable at any move penalty.

    Attributes:
        problem: The problem.
        scores: Integer score per pair (``fit * factor``).
        factor: The scaling of fits to scores.
        tails: Arc tails (pairs first, then capacity segments, bypasses, pool, intake and
            kind arcs).
        heads: Arc heads.
        caps: Arc capacities.
        costs: Arc unit costs, in scores.
        supplies: Supply per node.
        segments: Slice of the capacity-segment arcs.
        segment_costs: Their unit costs.
        bypass: What leaving a lead out costs (the costliest assignment).
        bonus: The costliest fairness step (0 without fairness).
        pair_node: Node each pair's arc enters (the rep, its intake or its kind node).
    """

    problem: BatchProblem
    scores: NDArray[np.int64]
    factor: float
    tails: NDArray[np.int32]
    heads: NDArray[np.int32]
    caps: NDArray[np.int64]
    costs: NDArray[np.int64]
    supplies: NDArray[np.int64]
    segments: slice
    segment_costs: NDArray[np.int64]
    bypass: int
    bonus: int

    @property
    def top(self) -> int:
        """The largest score."""
        return int(self.scores.max()) if self.scores.size else 0


def build_network(problem: BatchProblem) -> Network:
    """The flow network of a problem (see the module docstring); vectorised, no arc loop."""
    n, e = len(problem.lead_ids), problem.num_pairs
    scores, factor = integer_scores(problem.pair_fit)
    top = int(scores.max()) if e else 0
    sink = n + len(problem.rep_ids)
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
    pair_heads, gate_tails, gate_heads, gate_caps, nodes = _intake_arcs(problem, sink + 1 + k)
    tails = np.concatenate([problem.pair_lead, seg_tails, leads, pool_nodes, gate_tails])
    heads = np.concatenate(
        [
            pair_heads,
            np.full(len(seg_tails), sink, np.int32),
            bypass_heads,
            np.full(k, sink, np.int32),
            gate_heads,
        ]
    )
    caps = np.concatenate(
        [np.ones(e, np.int64), seg_caps, np.ones(n, np.int64), pool_size, gate_caps]
    )
    costs = np.concatenate(
        [
            top - scores,
            seg_costs,
            np.full(n, bypass, np.int64),
            np.zeros(k + len(gate_tails), np.int64),
        ]
    )
    supplies = np.zeros(nodes, np.int64)
    supplies[:n] = 1
    supplies[sink] = -(n - int(pool_demand.sum()))
    supplies[sink + 1 : sink + 1 + k] = -pool_demand
    return Network(
        problem=problem,
        scores=scores,
        factor=factor,
        tails=tails.astype(np.int32),
        heads=heads.astype(np.int32),
        caps=caps,
        costs=costs,
        supplies=supplies,
        segments=slice(e, e + len(seg_tails)),
        segment_costs=seg_costs,
        bypass=bypass,
        bonus=bonus,
    )


@attrs.frozen(kw_only=True, eq=False)
class Run:
    """One solve of a network.

    Attributes:
        status: The solver's status name.
        assignment: Rep index per lead, -1 for unassigned.
        fairness: Fairness cost paid, in scores.
        optimal_cost: The network's optimal cost (in scores x resolution).
        seconds: Time in the solver.
    """

    status: str
    assignment: NDArray[np.int32]
    fairness: int
    optimal_cost: int
    seconds: float

    @property
    def optimal(self) -> bool:
        """Whether the solver proved optimality."""
        return self.status == "OPTIMAL"


def run_network(
    net: Network, *, penalty: NDArray[np.int64] | None = None, resolution: int = 1
) -> Run:
    """Solve the network once: every cost times ``resolution``, plus ``penalty`` per pair.

    A penalty on the pairs that move a lead away from its current owner is a churn
    penalty (``leadroute.solver.moves``); ``resolution`` leaves room below one score for
    a tie-break.
    """
    problem = net.problem
    e = problem.num_pairs
    costs = net.costs * resolution
    if penalty is not None:
        costs[:e] += penalty
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, costs)
    flow.set_nodes_supplies(np.arange(len(net.supplies), dtype=np.int32), net.supplies)
    started = time.perf_counter()
    status = flow.solve()
    seconds = time.perf_counter() - started
    assignment = np.full(len(problem.lead_ids), -1, np.int32)
    fairness = 0
    if status == flow.OPTIMAL and e:
        used = flow.flows(np.arange(e, dtype=np.int32)) > 0
        assignment[problem.pair_lead[used]] = problem.pair_rep[used]
        seg = net.segments
        segment_flow = flow.flows(np.arange(seg.start, seg.stop, dtype=np.int32))
        fairness = int((segment_flow * net.segment_costs).sum())
    names = {
        flow.OPTIMAL: "OPTIMAL",
        flow.INFEASIBLE: "INFEASIBLE",
        flow.UNBALANCED: "UNBALANCED",
        flow.BAD_RESULT: "BAD_RESULT",
        flow.BAD_COST_RANGE: "BAD_COST_RANGE",
        flow.NOT_SOLVED: "NOT_SOLVED",
    }
    return Run(
        status=names.get(status, str(status)),
        assignment=assignment,
        fairness=fairness,
        optimal_cost=int(flow.optimal_cost()) if status == flow.OPTIMAL else 0,
        seconds=seconds,
    )


def solve_flow(problem: BatchProblem) -> Solution:
    """Assign leads to reps maximising total fit within every rep's capacity."""
    started = time.perf_counter()
    net = build_network(problem)
    built = time.perf_counter()
    result = run_network(net)
    solution = finish(net, result, build_seconds=built - started)
    log.info(
        "solver.solved",
        status=solution.status,
        leads=len(problem.lead_ids),
        reps=len(problem.rep_ids),
        pairs=problem.num_pairs,
        capped_pools=len(problem.pool_ids),
        objective=round(solution.objective, 3),
        bound=round(solution.bound, 3),
        gap=round(solution.gap, 6),
        unassigned=solution.unassigned,
        build_seconds=round(solution.build_seconds, 3),
        solve_seconds=round(solution.solve_seconds, 3),
        extract_seconds=round(solution.extract_seconds, 3),
    )
    return solution


def finish(
    net: Network,
    result: Run,
    *,
    build_seconds: float,
    best_scores: int | None = None,
    status: str | None = None,
) -> Solution:
    """The ``Solution`` of a run: ties placed, objective, bound and gap.

    ``best_scores`` is the network's best value in scores (default: this run's own, which
    is right for a run without penalty); ``status`` overrides the run's.
    """
    problem = net.problem
    n = len(problem.lead_ids)
    started = time.perf_counter()
    assignment = result.assignment.copy()
    fairness = result.fairness
    if result.optimal:
        fairness += _place_ties(problem, assignment, net.scores, net.bonus)
    placed = assignment >= 0
    objective = _objective(problem, assignment)
    factor = net.factor
    penalty = fairness / factor
    # The integer optimum is exact for the scores; rounding fits to scores can lose at most
    # half a score unit per placed lead, which bounds how far from the true optimum we are.
    # With fairness the optimum is of fit minus fairness cost, and so are bound and gap.
    rounding = 0.0 if factor == 1.0 else 0.5 * int(placed.sum()) / factor
    # The flow maximises fit - fairness + bonus per placed lead (bonus: the costliest
    # fairness step, 0 without fairness), so fairness never leaves a lead out; bound and
    # gap are of that value, which is fit alone without fairness.
    if best_scores is None:
        best_scores = n * net.bypass - result.optimal_cost if result.optimal else 0
    net_value = objective - penalty + net.bonus * int(placed.sum()) / factor
    bound = max(net_value, best_scores / factor + rounding) if result.optimal else float("inf")
    gap = (bound - net_value) / bound if bound and bound != float("inf") else 0.0
    return Solution(
        status=status or result.status,
        assignment=assignment,
        objective=objective,
        bound=bound,
        gap=gap,
        penalty=penalty,
        build_seconds=build_seconds,
        solve_seconds=result.seconds,
        extract_seconds=time.perf_counter() - started,
    )


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


def _intake_arcs(
    problem: BatchProblem, first: int
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int64], int]:
    """Where each pair enters, and the gates in front of reps: intake and kind nodes.

    A stay enters its rep's node. A lead new to a rep enters the rep's intake node when
    its intake is tighter than its capacity (the node passes at most ``intake`` leads on
    to the rep), or first the node of its kind at that rep when the rep caps that kind.
    Returns the pair heads, the gate arcs (tails, heads, capacities) and the node count.
    """
    n, m = len(problem.lead_ids), len(problem.rep_ids)
    heads = (n + problem.pair_rep).astype(np.int32)
    new = ~problem.stay_pair
    node = first
    tails: list[NDArray[np.int32]] = []
    gate_heads: list[NDArray[np.int32]] = []
    caps: list[NDArray[np.int64]] = []
    entry = n + np.arange(m, dtype=np.int32)  # where a new lead enters each rep
    if problem.intake is not None:
        gated = np.flatnonzero(problem.intake < problem.capacity).astype(np.int32)
        nodes = node + np.arange(len(gated), dtype=np.int32)
        tails.append(nodes)
        gate_heads.append(n + gated)
        caps.append(problem.intake[gated].astype(np.int64))
        entry[gated] = nodes
        node += len(gated)
    heads[new] = entry[problem.pair_rep[new]]
    if problem.lead_kind is not None and problem.kind_room is not None and problem.num_pairs:
        kind = problem.lead_kind[problem.pair_lead]
        capped = new & (kind >= 0)
        capped[capped] = problem.kind_room[problem.pair_rep[capped], kind[capped]] >= 0
        pairs = np.flatnonzero(capped)
        # One node per (rep, kind) cap that some pair uses, in (rep, kind) order.
        key = problem.pair_rep[pairs].astype(np.int64) * len(problem.kind_ids) + kind[pairs]
        used, where = np.unique(key, return_inverse=True)
        nodes = node + np.arange(len(used), dtype=np.int32)
        reps, kinds = used // len(problem.kind_ids), used % len(problem.kind_ids)
        tails.append(nodes)
        gate_heads.append(entry[reps])
        caps.append(problem.kind_room[reps, kinds].astype(np.int64))
        heads[pairs] = nodes[where]
        node += len(used)
    if not tails:
        empty = np.zeros(0, np.int32)
        return heads, empty, empty, np.zeros(0, np.int64), node
    return (
        heads,
        np.concatenate(tails).astype(np.int32),
        np.concatenate(gate_heads).astype(np.int32),
        np.concatenate(caps),
        node,
    )


@attrs.define
class Room:
    """What an assignment leaves of every limit: rep capacity, intake, kind caps, pools.

    Build with ``Room.of(problem, assignment)``; ``fits(pair)`` says whether one more lead
    could take that pair, ``take(pair)`` counts it.
    """

    problem: BatchProblem
    load: NDArray[np.int64]
    new: NDArray[np.int64]
    kind_new: NDArray[np.int64]
    pool_taken: NDArray[np.int64]

    @classmethod
    def of(cls, problem: BatchProblem, assignment: NDArray[np.int32]) -> Room:
        """The room left after ``assignment``."""
        m, k = len(problem.rep_ids), len(problem.pool_ids)
        placed = assignment >= 0
        load = np.bincount(assignment[placed], minlength=m).astype(np.int64)
        current = problem.current
        fresh = placed if current is None else placed & (assignment != current)
        new = np.bincount(assignment[fresh], minlength=m).astype(np.int64)
        kinds = max(1, len(problem.kind_ids))
        kind_new = np.zeros(m * kinds, np.int64)
        if problem.lead_kind is not None:
            typed = fresh & (problem.lead_kind >= 0)
            keys = assignment[typed].astype(np.int64) * kinds + problem.lead_kind[typed]
            kind_new = np.bincount(keys, minlength=m * kinds).astype(np.int64)
        pool = problem.pool_of_lead
        taken = np.bincount(pool[placed & (pool >= 0)], minlength=k).astype(np.int64)
        return cls(problem, load, new, kind_new.reshape(m, kinds), taken)

    def fits(self, lead: int, rep: int) -> bool:
        """Whether ``lead`` could also go to ``rep`` within every limit."""
        p = self.problem
        if self.load[rep] >= p.capacity[rep]:
            return False
        pool = int(p.pool_of_lead[lead])
        if pool >= 0 and self.pool_taken[pool] >= p.pool_cap[pool]:
            return False
        if p.current is not None and p.current[lead] == rep:
            return True  # a stay uses capacity only
        if p.intake is not None and self.new[rep] >= p.intake[rep]:
            return False
        kind = -1 if p.lead_kind is None else int(p.lead_kind[lead])
        if kind >= 0 and p.kind_room is not None:
            room = int(p.kind_room[rep, kind])
            if room >= 0 and self.kind_new[rep, kind] >= room:
                return False
        return True

    def take(self, lead: int, rep: int) -> None:
        """Count ``lead`` at ``rep``."""
        p = self.problem
        self.load[rep] += 1
        pool = int(p.pool_of_lead[lead])
        if pool >= 0:
            self.pool_taken[pool] += 1
        if p.current is not None and p.current[lead] == rep:
            return
        self.new[rep] += 1
        kind = -1 if p.lead_kind is None else int(p.lead_kind[lead])
        if kind >= 0:
            self.kind_new[rep, kind] += 1

    def within(self) -> bool:
        """Whether nothing is over a limit."""
        p = self.problem
        if np.any(self.load > p.capacity) or np.any(self.pool_taken > p.pool_cap):
            return False
        if p.intake is not None and np.any(self.new > p.intake):
            return False
        if p.kind_room is not None and p.kind_room.size:
            capped = p.kind_room >= 0
            if np.any(self.kind_new[:, : len(p.kind_ids)][capped] > p.kind_room[capped]):
                return False
        return True


def _place_ties(
    problem: BatchProblem, assignment: NDArray[np.int32], scores: NDArray[np.int64], top_seg: int
) -> int:
    """Give each lead the optimum left out a rep with room, where that costs nothing.

    At the optimum a lead is left out with an eligible rep (and pool) still having room
    only on a tie: its score there is 0 and the rep's next lead falls in its costliest
    quarter. Placing it keeps the optimum. A lead with a current owner is not placed: left
    out, it keeps its owner, and a move for nothing is no tie. Returns the fairness cost
    added (scores).
    """
    if problem.num_pairs == 0:
        return 0
    placed = assignment >= 0
    # Narrow to the pairs of leads left out first: at scale that is a sliver of the pairs.
    out = np.flatnonzero(~placed[problem.pair_lead] & (scores == 0))
    if problem.current is not None:
        out = out[problem.current[problem.pair_lead[out]] < 0]
    if not len(out):
        return 0
    room = Room.of(problem, assignment)
    added = 0
    for pair in out.tolist():  # only tied pairs: usually none at all
        lead, rep = int(problem.pair_lead[pair]), int(problem.pair_rep[pair])
        if assignment[lead] >= 0 or not room.fits(lead, rep):
            continue
        assignment[lead] = rep
        room.take(lead, rep)
        added += top_seg
    return added


def _objective(problem: BatchProblem, assignment: NDArray[np.int32]) -> float:
    """Total fit of an assignment, read off the pairs it uses."""
    if not problem.num_pairs:
        return 0.0
    chosen = assignment[problem.pair_lead] == problem.pair_rep
    return float(problem.pair_fit[chosen].sum())
