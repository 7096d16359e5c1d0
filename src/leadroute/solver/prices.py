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

With a convex capacity cost (``fairness``), a rep's price is at least the cost of its
last lead's quarter (and, with room left, at most that of the next one): a busy rep
carries a positive price even where capacity is slack. ``steering_prices`` solves with
such a cost (the problem's fairness, or ``STEERING`` x the top fit per quarter) and is
what a batch publishes, so one-at-a-time routing still steers when fits tie.

Online use (``price_online``): each arriving lead goes to the eligible rep with room that
maximises ``fit - price`` (ties to the lower price), which keeps one-at-a-time routing
close to the batch optimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from leadroute.solver.flow import SEGMENTS, Solution, solve_flow
from leadroute.solver.problem import BatchProblem

__all__ = [
    "STEERING",
    "Duals",
    "capacity_prices",
    "duals",
    "marginal_costs",
    "price_online",
    "steering_prices",
]

# The convex capacity cost prices are computed with when the policy sets no fairness: per
# lead and quarter of capacity, this share of the largest fit. Small against real fit
# differences, so the solve's choices barely change, but every busy rep gets a price.
STEERING = 0.002


@attrs.frozen(kw_only=True, eq=False)
class Duals:
    """The batch optimum's LP dual, in fit units.

    Attributes:
        rep: Price per rep: what one more lead of its capacity would add (0 with room left).
        pool: Price per capped pool (``problem.pool_ids``): the fit its best kept-out lead
            would add at the rep prices, i.e. what one more lead of cap is worth (0 when
            the cap is not reached).
        lead: Value per lead: its fit with its own rep minus that rep's and its pool's
            prices (0 when unassigned).
    """

    rep: NDArray[np.float64]
    pool: NDArray[np.float64]
    lead: NDArray[np.float64]


def capacity_prices(
    problem: BatchProblem, solution: Solution, *, max_rounds: int | None = None
) -> NDArray[np.float64]:
    """Minimal capacity price per rep at an optimal assignment (0 for reps with room)."""
    return duals(problem, solution, max_rounds=max_rounds).rep


def duals(problem: BatchProblem, solution: Solution, *, max_rounds: int | None = None) -> Duals:
    """Minimal rep prices, with pool prices and lead values, at an optimal assignment.

    With pool caps the dual gains a price ``q[P] >= 0`` per capped pool and every pair's
    constraint reads ``u[l] + q[P(l)] + p[r] >= score[l, r]``. Rep prices are kept minimal
    by making pool prices as large as the assigned leads allow
    (``q[P] <= score[l, k] - p[k]`` for each lead ``l`` of P placed with ``k``), since an
    unassigned lead of a full pool then needs only ``p[r] >= score[l, r] - q[P]``. With
    those rep prices fixed, each pool price is then lowered to the least that covers its
    kept-out leads' pairs, so it reads as the value of one more lead of cap.
    """
    m, k = len(problem.rep_ids), len(problem.pool_ids)
    lead, rep, fit = problem.pair_lead, problem.pair_rep, problem.pair_fit
    assigned = solution.assignment
    own = assigned[lead]
    placed = own >= 0
    load = np.bincount(assigned[assigned >= 0], minlength=m)
    full = load >= problem.capacity
    lead_pool = problem.pool_of_lead
    taken = np.bincount(lead_pool[(assigned >= 0) & (lead_pool >= 0)], minlength=k)
    pool_full = taken >= problem.pool_cap
    # Fit of each lead with its own rep (the pair that is tight in the dual).
    own_fit = np.zeros(len(problem.lead_ids))
    tight = placed & (rep == own)
    own_fit[lead[tight]] = fit[tight]
    top = float(fit.max(initial=0.0))
    pool_start = np.where(pool_full, top, 0.0)
    held = np.flatnonzero((assigned >= 0) & (lead_pool >= 0))
    free = ~placed
    free_pool = lead_pool[lead[free]]
    moving = placed & (rep != own)
    src, dst, weight = own[moving], rep[moving], fit[moving] - own_fit[lead[moving]]
    # With a convex capacity cost (fairness), a rep's price is at least the cost of its
    # last lead (its marginal quarter) and, with room left, at most that of its next one.
    floor, ceiling = marginal_costs(problem, load)
    # Placing a lead is worth the costliest quarter more than leaving it out (the flow's
    # bonus), so a full rep's price covers a kept-out lead's fit plus that.
    bonus = (SEGMENTS - 1) * problem.fairness
    prices = floor.copy()
    pool_prices = pool_start.copy()
    for _ in range(max_rounds or 2 * (m + k) + 2):
        # Pool prices fall to what their placed leads can pay; rep prices rise to cover the
        # pairs not taken. Both move one way, so this ends at the least rep prices.
        pool_next = pool_start.copy()
        np.minimum.at(pool_next, lead_pool[held], own_fit[held] - prices[assigned[held]])
        pool_next = np.where(pool_full, np.maximum(pool_next, 0.0), 0.0)
        candidate = np.zeros(m)
        np.maximum.at(candidate, dst, prices[src] + weight)
        np.maximum.at(
            candidate, rep[free], fit[free] + bonus - np.append(pool_next, 0.0)[free_pool]
        )
        candidate = np.maximum(floor, np.where(full, candidate, np.minimum(candidate, ceiling)))
        if np.array_equal(candidate, prices) and np.array_equal(pool_next, pool_prices):
            break
        prices, pool_prices = candidate, pool_next
    # The loop left pool prices as high as possible; at the final rep prices, lower each
    # to what its best kept-out lead would add (the least price covering its pairs).
    pool_prices = np.zeros(k)
    kept_out = np.flatnonzero(free)
    kept_out = kept_out[lead_pool[lead[kept_out]] >= 0]
    np.maximum.at(pool_prices, lead_pool[lead[kept_out]], fit[kept_out] - prices[rep[kept_out]])
    pool_prices = np.where(pool_full, pool_prices, 0.0)
    values = np.zeros(len(problem.lead_ids))
    owned = np.flatnonzero(assigned >= 0)
    own_pool = np.append(pool_prices, 0.0)[lead_pool[owned]]
    values[owned] = own_fit[owned] + bonus - prices[assigned[owned]] - own_pool
    return Duals(rep=prices, pool=pool_prices, lead=values)


def steering_prices(
    problem: BatchProblem, *, convexity: float | None = None
) -> NDArray[np.float64]:
    """Capacity prices that still steer when fits tie: the minimal duals of the solve with a
    strictly convex capacity cost (the problem's fairness, or ``convexity`` x the largest
    fit per quarter when it has none). A full or nearly full rep then carries a positive
    price even where capacity is slack overall; minimal prices of a fit-only solve would
    all be zero there."""
    fairness = problem.fairness or (convexity if convexity is not None else STEERING) * float(
        problem.pair_fit.max(initial=0.0)
    )
    convex = attrs.evolve(problem, fairness=fairness, side=None)
    solution = solve_flow(convex)
    if not solution.optimal:
        return np.zeros(len(problem.rep_ids))
    return duals(convex, solution).rep


def marginal_costs(
    problem: BatchProblem, load: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per rep, the fairness cost of its last lead and of its next one (fit units), by the
    flow's quarters of capacity (0 and 0 without fairness; the next of a full rep is inf)."""
    m = len(problem.rep_ids)
    if not problem.fairness:
        return np.zeros(m), np.where(load >= problem.capacity, np.inf, 0.0)
    ends = problem.capacity[:, None] * np.arange(1, SEGMENTS + 1)[None, :] // SEGMENTS
    last = (ends < load[:, None]).sum(axis=1)
    following = (ends < (load + 1)[:, None]).sum(axis=1)
    floor = np.where(load > 0, last * problem.fairness, 0.0)
    ceiling = np.where(following >= SEGMENTS, np.inf, following * problem.fairness)
    return floor.astype(np.float64), ceiling.astype(np.float64)


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
