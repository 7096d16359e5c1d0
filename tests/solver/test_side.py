"""Side constraints: kept exactly, solved by CP-SAT only when the flow breaks them."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.solver.test_flow import (
    instances,
    pooled_instances,
    respects_capacity,
    respects_pool_caps,
)

from leadroute.solver import BatchProblem, MoveCaps, SideConstraints, satisfies, solve


def with_side(problem: BatchProblem, side: SideConstraints) -> BatchProblem:
    return attrs.evolve(problem, side=side)


def test_account_leads_share_one_rep():
    """Two leads of one account that fit different reps best end with the same rep."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10), ("b", 1)], "L2": [("a", 1), ("b", 10)]},
        {"a": 2, "b": 2},
        side=SideConstraints(account=("ACC-1", "ACC-1")),
    )
    solution = solve(problem)
    assert solution.status == "OPTIMAL"
    assert len(set(solution.assignment.tolist())) == 1
    assert solution.objective == 11
    assert solution.bound == 20 and solution.gap == 0.45  # against the unconstrained flow


def test_type_share_caps_a_rep():
    """With demo capped at half of a rep's room, the best rep takes only two of four demos."""
    leads = {f"L{i}": [("a", 10), ("b", 5)] for i in range(4)}
    problem = BatchProblem.from_candidates(
        leads,
        {"a": 4, "b": 4},
        side=SideConstraints(lead_type=("demo",) * 4, max_type_share={"demo": 0.5}),
    )
    counts = np.bincount(solve(problem).assignment, minlength=2).tolist()
    assert counts == [2, 2]


def test_flow_answer_is_kept_when_it_already_satisfies_the_rules():
    """No CP-SAT when the flow optimum keeps every rule: the flow's solution is returned."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10)], "L2": [("a", 9)]},
        {"a": 2},
        side=SideConstraints(account=("ACC-1", "ACC-1")),
    )
    solution = solve(problem)
    assert solution.status == "OPTIMAL" and solution.gap == 0
    assert solution.assignment.tolist() == [0, 0]


@settings(max_examples=150, deadline=None)
@given(instances(), st.data())
def test_every_solution_keeps_its_side_constraints(problem, data):
    """Whatever the instance, the solve keeps every rule it was given and never exceeds caps."""
    n = len(problem.lead_ids)
    side = SideConstraints(
        account=tuple(data.draw(st.sampled_from(["", "A", "B"])) for _ in range(n)),
        lead_type=tuple(data.draw(st.sampled_from(["demo", "trial"])) for _ in range(n)),
        max_type_share={"demo": data.draw(st.sampled_from([0.34, 0.5, 1.0]))},
        stay=np.array(
            [data.draw(st.integers(-1, len(problem.rep_ids) - 1)) for _ in range(n)], np.int32
        ),
        move_caps=MoveCaps(
            per_rep=data.draw(st.sampled_from([None, 0, 1])),
            total=data.draw(st.sampled_from([None, 1, 2])),
        ),
    )
    constrained = with_side(problem, side)
    solution = solve(constrained)
    assert solution.status in {"OPTIMAL", "FEASIBLE"}
    assert satisfies(constrained, side, solution.assignment)
    placed = solution.assignment[solution.assignment >= 0]
    assert np.all(np.bincount(placed, minlength=len(problem.rep_ids)) <= problem.capacity)
    assert solution.objective <= solution.bound + 1e-9


@settings(max_examples=100, deadline=None)
@given(pooled_instances(), st.data())
def test_cp_sat_keeps_pool_caps_with_side_constraints(problem, data):
    """When side constraints send the solve to CP-SAT, pool caps and rep capacities still hold."""
    n = len(problem.lead_ids)
    side = SideConstraints(
        account=tuple(data.draw(st.sampled_from(["", "A", "B"])) for _ in range(n)),
        lead_type=tuple(data.draw(st.sampled_from(["demo", "trial"])) for _ in range(n)),
        max_type_share={"demo": data.draw(st.sampled_from([0.34, 0.5]))},
    )
    constrained = with_side(problem, side)
    solution = solve(constrained)
    assert solution.status in {"OPTIMAL", "FEASIBLE"}
    assert satisfies(constrained, side, solution.assignment)
    assert respects_capacity(problem, solution.assignment)
    assert respects_pool_caps(problem, solution.assignment)
    assert solution.objective <= solution.bound + 1e-9


def test_cp_sat_model_carries_the_pool_cap():
    """When an account rule forces CP-SAT, the pool's cap of two still leaves one lead out."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10), ("b", 1)], "L2": [("a", 1), ("b", 10)], "L3": [("a", 5), ("b", 5)]},
        {"a": 3, "b": 3},
        side=SideConstraints(account=("ACC-1",) * 3),
        pools={"L1": "P", "L2": "P", "L3": "P"},
        pool_caps={"P": 2},
    )
    solution = solve(problem)
    assert solution.status == "OPTIMAL"
    # Without the cap one rep would take all three (16); with it, two leads on one rep (15).
    assert int((solution.assignment >= 0).sum()) == 2 and solution.objective == 15
    assert len(set(solution.assignment[solution.assignment >= 0].tolist())) == 1


def test_moves_already_spent_count_against_the_caps():
    """With one of two allowed moves spent (an interrupted run), only one more lead may move."""
    leads = {f"L{i}": [("a", 1), ("b", 10)] for i in range(3)}
    stay = np.zeros(3, np.int32)  # all with a, all better with b
    for caps, moved in (
        (MoveCaps(total=2), 2),
        (MoveCaps(total=2, spent={0: 1}), 1),
        (MoveCaps(per_rep=2, spent={0: 2}), 0),
        (MoveCaps(per_rep=2, spent={1: 2}), 2),  # spent on another rep does not bind a
    ):
        problem = BatchProblem.from_candidates(
            leads, {"a": 3, "b": 3}, side=SideConstraints(stay=stay, move_caps=caps)
        )
        solution = solve(problem)
        assert int((solution.assignment == 1).sum()) == moved
        assert satisfies(problem, problem.side, solution.assignment)


def test_cp_sat_bound_is_on_fit_even_with_fairness():
    """With fairness, CP-SAT (fit only) reports its gap against a fit bound, never below it."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10), ("b", 1)], "L2": [("a", 1), ("b", 10)]},
        {"a": 2, "b": 2},
        fairness=50,
        side=SideConstraints(account=("ACC-1", "ACC-1")),
    )
    solution = solve(problem)
    assert solution.objective == 11
    assert solution.bound == 20 and solution.gap == pytest.approx(0.45)
