"""Move caps in the network: a churn-penalty search that is exact on caps and deterministic."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.solver import (
    BatchProblem,
    MoveCaps,
    SideConstraints,
    discretionary_moves,
    satisfies,
    solve,
    solve_flow,
)


def capped(leads, capacity, stay, caps, order=None, **kw) -> BatchProblem:
    return BatchProblem.from_candidates(
        leads,
        capacity,
        side=SideConstraints(
            stay=np.array(stay, np.int32),
            move_caps=caps,
            move_order=None if order is None else np.array(order, np.int64),
        ),
        **kw,
    )


def test_a_budget_is_met_exactly_across_a_tie():
    """Ten leads gaining exactly alike, a budget of four: exactly four move, not none or all."""
    leads = {f"L{i}": [("a", 1), ("b", 3)] for i in range(10)}
    problem = capped(leads, {"a": 10, "b": 10}, [0] * 10, MoveCaps(total=4))
    moved = (solve(problem).assignment == 1).nonzero()[0].tolist()
    assert moved == [0, 1, 2, 3]  # the documented tie-break: lower move_order first


def test_move_order_decides_which_tied_leads_move():
    """With move_order reversed, the last leads move first among equal gains."""
    leads = {f"L{i}": [("a", 1), ("b", 3)] for i in range(6)}
    problem = capped(leads, {"a": 6, "b": 6}, [0] * 6, MoveCaps(total=2), order=range(6, 0, -1))
    assert (solve(problem).assignment == 1).nonzero()[0].tolist() == [4, 5]


def test_larger_gains_move_before_the_tie_break():
    """A lead gaining more moves first, whatever its place in move_order."""
    leads = {"L0": [("a", 1), ("b", 2)], "L1": [("a", 1), ("b", 2)], "L2": [("a", 1), ("b", 9)]}
    problem = capped(leads, {"a": 3, "b": 3}, [0, 0, 0], MoveCaps(total=1))
    assert solve(problem).assignment.tolist() == [0, 0, 1]


def test_per_owner_caps_hold_and_other_owners_still_move():
    """Two moves allowed per owner: each owner loses exactly two of its four leads."""
    leads = {f"L{i}": [("a", 1), ("b", 1), ("c", 5)] for i in range(8)}
    stay = [0] * 4 + [1] * 4
    problem = capped(leads, {"a": 8, "b": 8, "c": 8}, stay, MoveCaps(per_rep=2))
    solution = solve(problem)
    moved = discretionary_moves(problem, problem.side.stay, solution.assignment)
    assert np.bincount(np.array(stay)[moved], minlength=3).tolist() == [2, 2, 0]
    assert solution.status == "FEASIBLE" and solution.objective <= solution.bound


def test_an_owner_without_room_keeps_its_leads_unplaced_rather_than_over_the_cap():
    """An owner over capacity cannot hold its leads; with no move allowed they stay unplaced."""
    leads = {f"L{i}": [("a", 5), ("b", 4)] for i in range(3)}
    problem = capped(leads, {"a": 1, "b": 3}, [0, 0, 0], MoveCaps(total=0))
    solution = solve(problem)
    assert not discretionary_moves(problem, problem.side.stay, solution.assignment).any()
    assert solution.assignment.tolist().count(0) == 1


def test_forced_leads_pay_no_penalty_and_count_against_nothing():
    """A lead without a stay pair (its owner is gone) moves even with a budget of zero."""
    leads = {"L0": [("b", 2)], "L1": [("a", 1), ("b", 9)]}
    problem = capped(leads, {"a": 2, "b": 2}, [0, 0], MoveCaps(total=0))
    assert solve(problem).assignment.tolist() == [1, 0]


def test_caps_that_do_not_bind_leave_the_flow_optimum_alone():
    """When the uncapped optimum is within the caps it is returned, proven optimal."""
    leads = {"L0": [("a", 1), ("b", 9)], "L1": [("a", 8), ("b", 1)]}
    problem = capped(leads, {"a": 2, "b": 2}, [0, 0], MoveCaps(total=1))
    solution = solve(problem)
    assert solution.status == "OPTIMAL" and solution.gap == 0
    assert solution.assignment.tolist() == solve_flow(problem).assignment.tolist()


@st.composite
def move_instances(draw):
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 4))
    stay = [draw(st.integers(-1, m - 1)) for _ in range(n)]
    leads = {}
    for i in range(n):
        pairs = [(f"r{j}", draw(st.integers(0, 6))) for j in range(m) if draw(st.booleans())]
        if stay[i] >= 0 and f"r{stay[i]}" not in {r for r, _ in pairs} and draw(st.booleans()):
            pairs.append((f"r{stay[i]}", draw(st.integers(0, 6))))
        leads[f"L{i}"] = pairs
    capacity = {f"r{j}": draw(st.integers(0, 4)) for j in range(m)}
    caps = MoveCaps(
        per_rep=draw(st.sampled_from([None, 0, 1, 2])),
        total=draw(st.sampled_from([None, 0, 1, 2, 3])),
    )
    return capped(leads, capacity, stay, caps, fairness=draw(st.sampled_from([0.0, 1.0])))


def brute_force_capped(problem: BatchProblem) -> float:
    """The best fit over every assignment keeping capacity and the move caps (tiny only)."""
    options = [[-1] for _ in problem.lead_ids]
    fit = {}
    for lead, rep, f in zip(problem.pair_lead, problem.pair_rep, problem.pair_fit, strict=True):
        options[lead].append(int(rep))
        fit[int(lead), int(rep)] = float(f)
    best = 0.0
    for choice in itertools.product(*options):
        assignment = np.array(choice, np.int32)
        used = np.bincount(assignment[assignment >= 0], minlength=len(problem.rep_ids))
        if np.all(used <= problem.capacity) and satisfies(problem, problem.side, assignment):
            best = max(best, sum(fit[i, r] for i, r in enumerate(choice) if r >= 0))
    return best


@settings(max_examples=200, deadline=None)
@given(move_instances())
def test_every_plan_keeps_capacity_and_the_move_caps(problem):
    """Whatever the team, caps and budgets, the plan keeps every rep's capacity and every cap,
    and its fit never beats the best capped assignment (brute force)."""
    solution = solve(problem)
    assert solution.status in {"OPTIMAL", "FEASIBLE"}
    assignment = solution.assignment
    assert satisfies(problem, problem.side, assignment)
    placed = assignment[assignment >= 0]
    assert np.all(np.bincount(placed, minlength=len(problem.rep_ids)) <= problem.capacity)
    assert solution.objective <= brute_force_capped(problem) + 1e-9
    assert solution.objective <= solution.bound + 1e-9


@settings(max_examples=60, deadline=None)
@given(move_instances())
def test_the_same_problem_gives_the_same_plan(problem):
    """Solving the same capped problem three times gives the same assignment each time."""
    first, *others = (solve(problem).assignment.tolist() for _ in range(3))
    assert all(other == first for other in others)
