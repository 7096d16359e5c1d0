"""Why a lead is unassigned: its pool's cap, full reps, nobody eligible, or a side rule."""

from __future__ import annotations

from hypothesis import given, settings
from tests.solver.test_flow import pooled_instances

from leadroute.solver import BatchProblem, SideConstraints, solve, solve_flow, unassigned_reasons


def test_a_lead_kept_out_by_its_pool_cap_says_so():
    """Pool P (cap 1) places its best lead; the other is unassigned with 'pool P cap reached'."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 7)], "L3": []},
        {"a": 3},
        pools={"L1": "P", "L2": "P", "L3": "P"},
        pool_caps={"P": 1},
    )
    reasons = unassigned_reasons(problem, solve_flow(problem))
    assert reasons == {0: "pool P cap reached (1 lead per batch)", 2: "no eligible rep"}


def test_full_pool_and_full_reps_are_both_said():
    """When the pool is at its cap and the lead's reps are full too, the reason names both."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 7)]},
        {"a": 1},
        pools={"L1": "P", "L2": "P"},
        pool_caps={"P": 1},
    )
    assert unassigned_reasons(problem, solve_flow(problem)) == {
        0: "pool P cap reached (1 lead per batch); "
        "no room left among 1 eligible reps in the joint optimum"
    }


def test_a_lead_without_room_is_not_blamed_on_an_open_pool():
    """A pool under its cap is not the reason: full reps are."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 7)]},
        {"a": 1},
        pools={"L1": "P", "L2": "P"},
        pool_caps={"P": 5},
    )
    assert unassigned_reasons(problem, solve_flow(problem)) == {
        0: "no room left among 1 eligible reps in the joint optimum"
    }


def test_a_side_rule_that_keeps_a_lead_out_is_named():
    """CP-SAT may leave a lead out with room left (one rep per account); the reason says a side rule."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10)], "L2": [("b", 10)]},
        {"a": 1, "b": 1},
        side=SideConstraints(account=("ACC", "ACC")),
    )
    solution = solve(problem)
    assert solution.unassigned == 1
    assert set(unassigned_reasons(problem, solution).values()) == {
        "kept out by the batch's side constraints"
    }


@settings(max_examples=100, deadline=None)
@given(pooled_instances())
def test_every_unassigned_lead_has_exactly_one_reason(problem):
    """The reasons cover exactly the unassigned leads, and a pool reason only for a full pool."""
    solution = solve_flow(problem)
    reasons = unassigned_reasons(problem, solution)
    assert set(reasons) == {i for i, r in enumerate(solution.assignment.tolist()) if r < 0}
    for lead, why in reasons.items():
        pool = int(problem.pool_of_lead[lead])
        if why.startswith("pool "):
            taken = int(((solution.assignment >= 0) & (problem.pool_of_lead == pool)).sum())
            assert taken == problem.pool_cap[pool]
