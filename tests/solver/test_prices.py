"""Capacity prices: a valid, tight LP dual of the batch optimum, and useful online."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from tests.solver.test_flow import instances, pooled_instances

from leadroute.solver import BatchProblem, capacity_prices, duals, price_online, solve_flow


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


@settings(max_examples=200, deadline=None)
@given(pooled_instances())
def test_pool_caps_keep_a_feasible_dual_with_no_duality_gap(problem):
    """With pool caps, lead values + pool prices + rep prices cover every pair and sum to the optimum."""
    solution = solve_flow(problem)
    dual = duals(problem, solution)
    pool_price = np.append(dual.pool, 0.0)[problem.pool_of_lead]
    assert np.all(dual.rep >= 0) and np.all(dual.pool >= 0) and np.all(dual.lead >= -1e-9)
    cover = (
        dual.lead[problem.pair_lead] + pool_price[problem.pair_lead] + dual.rep[problem.pair_rep]
    )
    assert np.all(cover >= problem.pair_fit - 1e-9)
    total = (
        dual.lead.sum()
        + float((problem.capacity * dual.rep).sum())
        + float((problem.pool_cap * dual.pool).sum())
    )
    assert total == pytest.approx(solution.objective)
    # A pool with room to spare costs nothing, like a rep with room.
    taken = np.bincount(
        problem.pool_of_lead[(solution.assignment >= 0) & (problem.pool_of_lead >= 0)],
        minlength=len(problem.pool_ids),
    )
    assert np.all(dual.pool[taken < problem.pool_cap] == 0)


def test_a_full_pool_is_priced_at_what_one_more_lead_would_add():
    """Pool P (cap 1) holds L2 (fit 7); raising the cap would place L1 (fit 5): P is priced 5."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 7)]},
        {"a": 2},
        pools={"L1": "P", "L2": "P"},
        pool_caps={"P": 1},
    )
    dual = duals(problem, solve_flow(problem))
    assert (dual.pool.tolist(), dual.rep.tolist(), dual.lead.tolist()) == ([5.0], [0.0], [0.0, 2.0])


def test_steering_prices_are_positive_for_a_busy_rep_when_fits_tie():
    """Fits tie and capacity is slack: minimal prices are all zero, but the prices of the
    solve with a convex capacity cost charge the busier rep more, so ties steer away."""
    from leadroute.solver import steering_prices

    leads = {f"L{i}": [("a", 2.0), ("b", 2.0)] for i in range(6)}
    leads.update({f"M{i}": [("a", 2.0)] for i in range(6)})  # only a can take these
    problem = BatchProblem.from_candidates(leads, {"a": 10, "b": 10})
    minimal = capacity_prices(problem, solve_flow(problem))
    assert minimal.tolist() == [0.0, 0.0]
    steering = steering_prices(problem)
    assert steering[0] > steering[1] >= 0.0


def test_fairness_prices_are_the_marginal_quarter_of_a_rep_with_room():
    """With fairness, a rep with room is priced at the cost of its last lead's quarter."""
    from leadroute.solver import duals

    problem = BatchProblem.from_candidates(
        {f"L{i}": [("a", 5.0)] for i in range(3)}, {"a": 4}, fairness=1.0
    )
    solution = solve_flow(problem)
    assert (solution.assignment == 0).all()
    assert duals(problem, solution).rep.tolist() == [2.0]  # the third lead: third quarter
