"""Batch assignment: fit against capacity, solved jointly and provably (OR-Tools min-cost flow)."""

from __future__ import annotations

from leadroute.solver.capped import MoveCaps, moves_within_caps, solve_with_move_caps
from leadroute.solver.flow import SCALE, Solution, solve_flow
from leadroute.solver.prices import capacity_prices, price_online
from leadroute.solver.problem import BatchProblem

__all__ = [
    "SCALE",
    "BatchProblem",
    "MoveCaps",
    "Solution",
    "capacity_prices",
    "moves_within_caps",
    "price_online",
    "solve_flow",
    "solve_with_move_caps",
]
