"""Capacity prices: a valid, tight LP dual of the batch optimum, and useful online."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from tests.solver.test_flow import instances

from leadroute.solver import BatchProblem, capacity_prices, price_online, solve_flow


def lead_values(problem, solution, prices):
    """u[l]: fit with its own rep minus that rep's price; 0 when unassigned."""
    u = np.zeros(len(problem.lead_ids))
    tight = solution.assignment[problem.pair_lead] == problem.pair_rep
    u[problem.pair_lead[tight]] = problem.pair_fit[tight] - prices[problem.pair_rep[tight]]
    return u


@settings(max_examples=300, deadline=None)
@given(instances())
def test_prices_are_a_feasible_dual_with_no_duality_gap(problem):
    """Prices and lead values cover every pair's fit and sum exactly to the optimum."""
    solution = solve_flow(problem)
    prices = capacity_prices(problem, solution)
    u = lead_values(problem, solution, prices)
    assert np.all(prices >= 0)
    assert np.all(u >= -1e-9)
    assert np.all(u[problem.pair_lead] + prices[problem.pair_rep] >= problem.pair_fit - 1e-9)
    dual = u.sum() + float((problem.capacity * prices).sum())
    assert dual == pytest.approx(solution.objective)


@settings(max_examples=200, deadline=None)
@given(instances())
def test_reps_with_room_cost_nothing(problem):
    """A rep that the optimum leaves with spare capacity has price 0."""
    solution = solve_flow(problem)
    prices = capacity_prices(problem, solution)
    placed = solution.assignment[solution.assignment >= 0]
    load = np.bincount(placed, minlength=len(problem.rep_ids))
    assert np.all(prices[load < problem.capacity] == 0)


def test_priced_online_recovers_the_textbook_optimum():
    """With the optimum's prices, one-at-a-time routing yields the contended rep to the lead that needs it."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10), ("b", 8)], "L2": [("a", 9)]}, {"a": 1, "b": 1}
    )
    solution = solve_flow(problem)
    prices = capacity_prices(problem, solution)
    assert prices.tolist() == [2.0, 0.0]
    assert price_online(problem, prices).tolist() == solution.assignment.tolist()
    assert price_online(problem, np.zeros(2)).tolist() == [0, -1]  # unpriced: L2 stranded


def test_price_online_never_exceeds_capacity():
    """Online routing fills reps only up to capacity and leaves the rest unassigned."""
    problem = BatchProblem.from_candidates({f"L{i}": [("a", 5)] for i in range(4)}, {"a": 2})
    assert sorted(price_online(problem, np.zeros(1)).tolist()) == [-1, -1, 0, 0]
