"""Capacity prices: what a unit of each rep's capacity is worth at the batch optimum.

The batch problem's LP dual has a price ``p[r] >= 0`` per rep and a value ``u[l] >= 0``
per lead with ``u[l] + p[r] >= score[l, r]`` for every eligible pair, tight on the
optimal assignment. The dual is degenerate (many prices are optimal), and which one is
used matters: high prices make one-at-a-time routing worse, not better. We take the
**minimal** prices, computed from the optimal assignment alone:

* a rep with room to spare has price 0;
* a lead left unassigned has value 0, so ``p[r] >= score[l, r]`` for each rep it could take;
* a lead assigned to ``k`` has ``u[l] = score[l, k] - p[k]``, so
  ``p[r] >= p[k] + score[l, r] - score[l, k]`` for each other rep it could take.

The least solution of these difference constraints is a longest-path fixed point over
the reps (no positive cycles at an optimum), found by vectorised relaxation. Prices are in
the caller's fit units.

Online use (``price_online``): each arriving lead goes to the eligible rep with room that
maximises ``fit - price`` (ties to the lower price), which keeps one-at-a-time routing
close to the batch optimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from leadroute.solver.flow import Solution
from leadroute.solver.problem import BatchProblem

__all__ = ["capacity_prices", "price_online"]


def capacity_prices(
    problem: BatchProblem, solution: Solution, *, max_rounds: int | None = None
) -> NDArray[np.float64]:
    """Minimal capacity price per rep at an optimal assignment (0 for reps with room)."""
    m = len(problem.rep_ids)
    lead, rep, fit = problem.pair_lead, problem.pair_rep, problem.pair_fit
    assigned = solution.assignment
    own = assigned[lead]
    placed = own >= 0
    load = np.bincount(assigned[assigned >= 0], minlength=m)
    full = load >= problem.capacity
    # Fit of each pair's lead with its own rep (the pair that is tight in the dual).
    own_fit = np.zeros(len(problem.lead_ids))
    tight = placed & (rep == own)
    own_fit[lead[tight]] = fit[tight]
    base = np.zeros(m)
    free = ~placed
    np.maximum.at(base, rep[free], fit[free])
    moving = placed & (rep != own)
    src, dst, weight = own[moving], rep[moving], fit[moving] - own_fit[lead[moving]]
    prices = np.where(full, base, 0.0)
    for _ in range(max_rounds or m + 1):
        candidate = prices.copy()
        np.maximum.at(candidate, dst, prices[src] + weight)
        candidate = np.where(full, candidate, 0.0)
        if np.array_equal(candidate, prices):
            break
        prices = candidate
    return prices


def price_online(
    problem: BatchProblem,
    prices: Sequence[float] | NDArray[np.float64],
    order: NDArray[np.int64] | None = None,
) -> NDArray[np.int32]:
    """Route leads one at a time (in ``order``) to the eligible rep with room maximising fit - price."""
    n = len(problem.lead_ids)
    out = np.full(n, -1, np.int32)
    room = problem.capacity.astype(np.int64).tolist()
    by_lead = np.argsort(problem.pair_lead, kind="stable")
    bounds = np.searchsorted(problem.pair_lead[by_lead], np.arange(n + 1)).tolist()
    reps = problem.pair_rep[by_lead].tolist()
    price = np.asarray(prices, dtype=np.float64)
    value = (problem.pair_fit[by_lead] - price[problem.pair_rep[by_lead]]).tolist()
    cost = price[problem.pair_rep[by_lead]].tolist()
    for lead in (order if order is not None else np.arange(n)).tolist():
        best, best_key = -1, (0.0, 0.0)
        for k in range(bounds[lead], bounds[lead + 1]):
            r = reps[k]
            # Minimal prices put the optimal choice at a tie: on a tie, spend the cheaper
            # (less contended) capacity.
            key = (value[k], -cost[k])
            if room[r] > 0 and (best < 0 or key > best_key):
                best, best_key = r, key
        if best >= 0:
            out[lead] = best
            room[best] -= 1
    return out
