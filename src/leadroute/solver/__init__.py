"""Batch assignment: fit against capacity, solved jointly and provably (OR-Tools)."""

from __future__ import annotations

from leadroute.solver.flow import SCALE, Solution, solve_flow
from leadroute.solver.prices import Duals, capacity_prices, duals, price_online
from leadroute.solver.problem import BatchProblem, MoveCaps, SideConstraints
from leadroute.solver.reasons import pool_cap_reason, unassigned_reasons
from leadroute.solver.side import satisfies, solve_with_side_constraints

__all__ = [
    "SCALE",
    "BatchProblem",
    "Duals",
    "MoveCaps",
    "SideConstraints",
    "Solution",
    "capacity_prices",
    "duals",
    "pool_cap_reason",
    "price_online",
    "satisfies",
    "solve",
    "solve_flow",
    "solve_with_side_constraints",
    "unassigned_reasons",
]


def solve(problem: BatchProblem) -> Solution:
    """Min-cost flow, or CP-SAT from the flow when the problem's side constraints bind."""
    if problem.side is not None and problem.side.active:
        return solve_with_side_constraints(problem, time_limit=problem.side.time_limit)
    return solve_flow(problem)
