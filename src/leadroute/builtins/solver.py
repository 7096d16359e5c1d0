"""The default batch solver: OR-Tools min-cost flow, the proven optimum of fit under capacity."""

from __future__ import annotations

from leadroute.host import hookimpl
from leadroute.solver import BatchProblem, Solution, solve_flow


@hookimpl(trylast=True)
def leadroute_solve(problem: BatchProblem) -> Solution:
    """Solve with ``leadroute.solver.solve_flow``."""
    return solve_flow(problem)
