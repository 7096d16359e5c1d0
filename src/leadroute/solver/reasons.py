"""Why the batch optimum left a lead unassigned: a full pool, full reps, or nobody eligible."""

from __future__ import annotations

import numpy as np

from leadroute.solver.flow import Solution
from leadroute.solver.problem import BatchProblem

__all__ = ["pool_cap_reason", "unassigned_reasons"]


def pool_cap_reason(pool: str, cap: int) -> str:
    """The reason given to a lead kept out by its pool's cap."""
    return f"pool {pool} cap reached ({cap} lead{'' if cap == 1 else 's'} per batch)"


def unassigned_reasons(problem: BatchProblem, solution: Solution) -> dict[int, str]:
    """Lead index -> why it is unassigned, for every lead the solution leaves out.

    A lead whose capped pool took its full cap is blocked by the pool ("pool P cap
    reached"); its eligible reps being full too is said after it. Otherwise its eligible
    reps had no room left, it had none, or (CP-SAT only) a side constraint kept it out.
    """
    assignment = solution.assignment
    placed = assignment >= 0
    m, k = len(problem.rep_ids), len(problem.pool_ids)
    load = np.bincount(assignment[placed], minlength=m)
    room_left = load < problem.capacity
    lead_pool = problem.pool_of_lead
    taken = np.bincount(lead_pool[placed & (lead_pool >= 0)], minlength=k)
    # Only the pairs of unassigned leads matter: at scale a sliver of all pairs.
    out = np.flatnonzero(~placed[problem.pair_lead])
    out_lead = problem.pair_lead[out]
    eligible = np.bincount(out_lead, minlength=len(problem.lead_ids))
    with_room = np.bincount(
        out_lead, weights=room_left[problem.pair_rep[out]], minlength=len(problem.lead_ids)
    )
    reasons: dict[int, str] = {}
    for lead in np.flatnonzero(~placed).tolist():
        pool = int(lead_pool[lead])
        rooms = f"no room left among {eligible[lead]} eligible reps in the joint optimum"
        if not eligible[lead]:
            reasons[lead] = "no eligible rep"
        elif pool >= 0 and taken[pool] >= problem.pool_cap[pool]:
            cap = pool_cap_reason(problem.pool_ids[pool], int(problem.pool_cap[pool]))
            reasons[lead] = cap if with_room[lead] else f"{cap}; {rooms}"
        elif with_room[lead]:
            # Only side constraints leave a lead out while an eligible rep has room.
            reasons[lead] = "kept out by the batch's side constraints"
        else:
            reasons[lead] = rooms
    return reasons
