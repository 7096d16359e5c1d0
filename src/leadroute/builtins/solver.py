"""The default batch solver: OR-Tools min-cost flow (CP-SAT when side constraints bind)."""

from __future__ import annotations

from leadroute.host import hookimpl
from leadroute.solver import BatchProblem, Solution, solve


@hookimpl(trylast=True)
def leadroute_solve(problem: BatchProblem) -> Solution:
    """Solve with ``leadroute.solver.solve``: the proven flow optimum, or CP-SAT from it."""
    return solve(problem)
