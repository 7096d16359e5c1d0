"""Batch assignment: fit against capacity, solved jointly and provably (OR-Tools)."""

from __future__ import annotations

from leadroute.solver.flow import SCALE, Room, Solution, solve_flow
from leadroute.solver.moves import discretionary_moves, solve_with_move_caps
from leadroute.solver.prices import (
    Duals,
    capacity_prices,
    duals,
    marginal_costs,
    price_online,
    steering_prices,
)
from leadroute.solver.problem import BatchProblem, MoveCaps, SideConstraints
from leadroute.solver.reasons import pool_cap_reason, unassigned_reasons
from leadroute.solver.side import satisfies, solve_with_side_constraints

__all__ = [
    "SCALE",
    "BatchProblem",
    "Duals",
    "MoveCaps",
    "Room",
    "SideConstraints",
    "Solution",
    "capacity_prices",
    "discretionary_moves",
    "duals",
    "marginal_costs",
    "pool_cap_reason",
    "price_online",
    "satisfies",
    "solve",
    "solve_flow",
    "solve_with_move_caps",
    "solve_with_side_constraints",
    "steering_prices",
    "unassigned_reasons",
]


def solve(problem: BatchProblem) -> Solution:
    """Min-cost flow; with current owners (``side.stay``), fewest moves among equals and
    move caps by a churn-penalty search over flows; CP-SAT (from the flow) only when a
    rule no network expresses (accounts, type shares) binds."""
    side = problem.side
    if side is not None and side.beyond_network:
        return solve_with_side_constraints(problem, time_limit=side.time_limit)
    if side is not None and side.stay is not None:
        return solve_with_move_caps(problem)
    return solve_flow(problem)
