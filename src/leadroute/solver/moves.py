"""Move caps kept inside the network: a churn-penalty search over min-cost-flow solves.

"At most K leads move" couples every lead's choice, which no flow expresses directly.
But a penalty on moving (a churn penalty: the same as a larger stay bonus) is a flow
cost, and the more it costs to move, the fewer leads move. So the search solves the flow
at a sequence of penalties and keeps the smallest that moves at most the budget:

* A discretionary move is a lead placed with a rep other than its current owner while a
  stay pair exists (the owner could keep it). Forced leads (no stay pair) pay nothing
  and count against nothing.
* The penalty of a lead is ``L + M[owner] + rank``: ``L`` serves the total budget
  (bisection on ``L``), ``M[owner]`` the per-owner budget (raised for owners over their
  cap to just above the gain of the first move past the cap, then doubled while they
  stay over), and ``rank`` is the documented tie-break. Costs are multiplied by a
  resolution of 2 x (leads + 1) first, so ranks (0, 2, .. 2 x (leads - 1)) sit below one
  score unit: among
  moves of equal gain, the lead with the lower ``move_order`` moves first, and the budget
  is met one lead at a time instead of all-or-nothing across a tie.
* A penalty of (largest score + costliest fairness step + 1) per lead moves nobody (no
  move can gain that much), so the search always ends with a plan within the caps.

Every step is a deterministic function of the problem (OR-Tools' min-cost flow is
deterministic for the same arcs in the same order), so the same problem gives the same
plan, every time. The answer is optimal for the penalised objective; the bound reported
is the uncapped optimum, so ``gap`` says what the caps cost.
"""

from __future__ import annotations

import time

import attrs
import numpy as np
from numpy.typing import NDArray

from leadroute.logs import get_logger
from leadroute.solver.flow import Network, Run, Solution, build_network, finish, run_network
from leadroute.solver.problem import BatchProblem, MoveCaps

__all__ = ["discretionary_moves", "solve_with_move_caps"]

log = get_logger(__name__)

# Rounds of raising per-owner penalties at one total penalty (each round raises at least one
# owner's penalty; at the largest penalty nobody moves, so this is a safety net only).
MAX_OWNER_ROUNDS = 64


def discretionary_moves(
    problem: BatchProblem, stay: NDArray[np.int32], assignment: NDArray[np.int32]
) -> NDArray[np.bool_]:
    """Per lead, whether the assignment moves it away from an owner who could keep it."""
    has_stay = np.zeros(len(problem.lead_ids), np.bool_)
    owner_of_pair = stay[problem.pair_lead]
    is_stay = (owner_of_pair >= 0) & (problem.pair_rep == owner_of_pair)
    has_stay[problem.pair_lead[is_stay]] = True
    moved: NDArray[np.bool_] = has_stay & (assignment >= 0) & (assignment != stay)
    return moved


class _Search:
    """The penalised solves of one problem, with its fixed parts computed once."""

    def __init__(self, problem: BatchProblem, stay: NDArray[np.int32], caps: MoveCaps) -> None:
        self.problem, self.stay, self.caps = problem, stay, caps
        self.net: Network = build_network(problem)
        n, m = len(problem.lead_ids), len(problem.rep_ids)
        # Ranks are even (0, 2, 4...), so gains of distinct leads differ by at least 2 and
        # a penalty can always sit strictly between two of them.
        self.resolution = 2 * (n + 1)
        order = problem.side.move_order if problem.side is not None else None
        raw = np.arange(n, dtype=np.int64) if order is None else np.asarray(order, np.int64)
        # Ranks 0..n-1 in move_order (ties in the given order broken by lead index).
        self.rank = np.empty(n, np.int64)
        self.rank[np.lexsort((np.arange(n), raw))] = 2 * np.arange(n, dtype=np.int64)
        lead = problem.pair_lead
        owner = stay[lead]
        stay_pair = (owner >= 0) & (problem.pair_rep == owner)
        optional = np.zeros(n, np.bool_)
        optional[lead[stay_pair]] = True
        self.optional = optional
        # Pairs that move an optional lead: the ones a penalty applies to.
        self.moving = optional[lead] & ~stay_pair
        self.moving_lead = lead[self.moving]
        self.moving_owner = owner[self.moving]
        # Each lead's stay score, to read a move's gain off the scores.
        self.stay_score = np.zeros(n, np.int64)
        self.stay_score[lead[stay_pair]] = self.net.scores[stay_pair]
        self.limit = (self.net.top + self.net.bonus + 1) * self.resolution
        self.per_owner = np.array(
            [caps.left_for(r) if caps.per_rep is not None else n for r in range(m)], np.int64
        )
        self.total = caps.total_left()
        self.capped = caps.active
        self.solves = 0

    def run(self, total: int, owners: NDArray[np.int64]) -> Run:
        """One solve with a total penalty and per-owner penalties (fine units)."""
        penalty = np.zeros(self.problem.num_pairs, np.int64)
        penalty[self.moving] = (
            total + owners[self.moving_owner] + self.rank[self.moving_lead]
        ).clip(max=self.limit)
        self.solves += 1
        return run_network(self.net, penalty=penalty, resolution=self.resolution)

    def moved(self, run: Run) -> NDArray[np.bool_]:
        return discretionary_moves(self.problem, self.stay, run.assignment)

    def within_owners(self, total: int) -> tuple[Run, NDArray[np.int64]]:
        """The plan at a total penalty with per-owner penalties raised until every owner
        is within their cap."""
        m = len(self.problem.rep_ids)
        owners = np.zeros(m, np.int64)
        step = np.ones(m, np.int64)
        result = self.run(total, owners)
        if self.caps.per_rep is None:
            return result, owners
        for _ in range(MAX_OWNER_ROUNDS):
            moved = self.moved(result)
            counts = np.bincount(self.stay[moved], minlength=m)
            over = np.flatnonzero(counts > self.per_owner)
            if not len(over):
                return result, owners
            gains = self._gains(result.assignment)
            for o in over.tolist():
                mine = np.sort(gains[moved & (self.stay == o)])[::-1]
                first_past = int(mine[self.per_owner[o]])
                raised = max(owners[o] + step[o], first_past - total + 1)
                owners[o] = min(self.limit, raised)
                step[o] *= 2
            result = self.run(total, owners)
        return result, owners

    def _gains(self, assignment: NDArray[np.int32]) -> NDArray[np.int64]:
        """Per lead, the fine-unit gain of its move (score there - stay score, less rank)."""
        problem = self.problem
        there = np.zeros(len(problem.lead_ids), np.int64)
        chosen = assignment[problem.pair_lead] == problem.pair_rep
        there[problem.pair_lead[chosen]] = self.net.scores[chosen]
        return (there - self.stay_score) * self.resolution - self.rank

    def feasible(self, run: Run) -> bool:
        if not run.optimal:
            return False
        if not self.capped:
            return True
        moved = self.moved(run)
        if self.total is not None and int(moved.sum()) > self.total:
            return False
        counts = np.bincount(self.stay[moved], minlength=len(self.problem.rep_ids))
        return bool(np.all(counts <= self.per_owner))


def solve_with_move_caps(problem: BatchProblem) -> Solution:
    """The best plan found within the move caps of ``problem.side`` (see the module doc).

    The first solve is the uncapped optimum with one more rule: among assignments of
    equal fit, the one moving the fewest leads (a move costs 1 at a resolution of
    leads + 1, below one score in total), so a lead never moves for nothing and a plan
    run again on its own result stays put. Without caps, or when it keeps them, it is
    the answer (proven optimal).
    """
    side = problem.side
    if side is None or side.stay is None:
        raise ValueError("solve_with_move_caps needs side.stay")
    started = time.perf_counter()
    if problem.current is None:
        # Left out, a lead keeps its owner: the tie pass must not place it elsewhere.
        problem = attrs.evolve(problem, current=side.stay)
    search = _Search(problem, side.stay, side.move_caps)
    built = time.perf_counter()
    # The uncapped optimum, fewest moves among equals: 1 per move at resolution n + 1.
    lexicographic = len(problem.lead_ids) + 1
    free = run_network(search.net, penalty=search.moving.astype(np.int64), resolution=lexicographic)
    search.solves += 1
    best_scores = len(problem.lead_ids) * search.net.bypass - free.optimal_cost // lexicographic
    if not free.optimal or search.feasible(free):
        return _solution(search, free, best_scores, built - started, capped=False)
    chosen, total = _bisect_total(search, free)
    return _solution(search, chosen, best_scores, built - started, capped=True, total=total)


def _bisect_total(search: _Search, free: Run) -> tuple[Run, int]:
    """The smallest total penalty whose plan (owners' penalties raised) keeps every cap."""
    at_zero, _ = search.within_owners(0)
    if search.feasible(at_zero):
        return at_zero, 0
    lo, hi = 0, search.limit
    best: Run | None = None
    if search.total is not None:
        # First guess: just above the gain of the first move past the budget.
        moved = search.moved(at_zero)
        gains = np.sort(search._gains(at_zero.assignment)[moved])[::-1]
        if len(gains) > search.total:
            guess = int(min(search.limit, max(1, gains[search.total] + 1)))
            attempt, _ = search.within_owners(guess)
            if search.feasible(attempt):
                hi, best = guess, attempt
            else:
                lo = guess
    while hi - lo > 1:
        mid = (lo + hi) // 2
        attempt, _ = search.within_owners(mid)
        if search.feasible(attempt):
            hi, best = mid, attempt
        else:
            lo = mid
    if best is None:
        best, _ = search.within_owners(hi)
    return best, hi


def _solution(
    search: _Search,
    chosen: Run,
    best_scores: int,
    build_seconds: float,
    *,
    capped: bool,
    total: int = 0,
) -> Solution:
    solution = finish(
        search.net,
        chosen,
        build_seconds=build_seconds,
        best_scores=best_scores,
        status=("FEASIBLE" if capped else None) if chosen.optimal else None,
    )
    moved = discretionary_moves(search.problem, search.stay, solution.assignment)
    log.info(
        "solver.move_caps",
        status=solution.status,
        solves=search.solves,
        moved=int(moved.sum()),
        total_penalty=round(total / search.resolution / search.net.factor, 6),
        objective=round(solution.objective, 3),
        bound=round(solution.bound, 3),
        gap=round(solution.gap, 6),
    )
    return solution
