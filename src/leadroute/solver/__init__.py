"""Batch assignment: fit against capacity, solved jointly and provably (OR-Tools min-cost flow)."""

from __future__ import annotations

from leadroute.solver.flow import SCALE, Solution, solve_flow
from leadroute.solver.problem import BatchProblem

__all__ = ["SCALE", "BatchProblem", "Solution", "solve_flow"]
