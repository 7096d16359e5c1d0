"""The batch solver: optimal against brute force, caps respected, nobody dropped."""

from __future__ import annotations

import itertools

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.solver import BatchProblem, solve_flow
from leadroute.solver.flow import integer_scores


@st.composite
def instances(draw, *, integral: bool = True):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 4))
    fit = st.integers(0, 1000) if integral else st.floats(0, 7.5, allow_nan=False)
    candidates = {
        f"L{i}": [(f"r{j}", draw(fit)) for j in range(m) if draw(st.booleans())] for i in range(n)
    }
    capacity = {f"r{j}": draw(st.integers(0, 3)) for j in range(m)}
    return BatchProblem.from_candidates(candidates, capacity)


def brute_force(problem: BatchProblem) -> float:
    """The best total fit by trying every assignment (tiny instances only)."""
    options = [[(-1, 0.0)] for _ in problem.lead_ids]
    for lead, rep, fit in zip(problem.pair_lead, problem.pair_rep, problem.pair_fit, strict=True):
        options[lead].append((int(rep), float(fit)))
    best = 0.0
    for choice in itertools.product(*options):
        used = np.bincount([r for r, _ in choice if r >= 0], minlength=len(problem.rep_ids))
        if np.all(used <= problem.capacity):
            best = max(best, sum(f for _, f in choice))
    return best


def respects_capacity(problem: BatchProblem, assignment) -> bool:
    placed = assignment[assignment >= 0]
    return bool(np.all(np.bincount(placed, minlength=len(problem.rep_ids)) <= problem.capacity))


def only_eligible(problem: BatchProblem, assignment) -> bool:
    pairs = set(zip(problem.pair_lead.tolist(), problem.pair_rep.tolist(), strict=True))
    return all((i, int(r)) in pairs for i, r in enumerate(assignment) if r >= 0)


@settings(max_examples=300, deadline=None)
@given(instances())
def test_integral_fits_reach_the_brute_force_optimum(problem):
    """With integer fits the flow's total equals the brute-force optimum, proven (gap 0)."""
    solution = solve_flow(problem)
    assert solution.optimal
    assert solution.objective == pytest.approx(brute_force(problem))
    assert solution.gap == 0
    assert respects_capacity(problem, solution.assignment)
    assert only_eligible(problem, solution.assignment)


@settings(max_examples=200, deadline=None)
@given(instances(integral=False))
def test_real_fits_stay_within_the_reported_bound(problem):
    """With real fits the optimum lies between the objective and the reported bound."""
    solution = solve_flow(problem)
    best = brute_force(problem)
    assert solution.objective <= best + 1e-9
    assert best <= solution.bound + 1e-9
    assert respects_capacity(problem, solution.assignment)


def test_a_lead_with_no_room_is_reported_unassigned_not_dropped():
    """When capacity runs out, the leftover lead is unassigned (-1), and the rest is optimal."""
    problem = BatchProblem.from_candidates({"L1": [("a", 5)], "L2": [("a", 7)], "L3": []}, {"a": 1})
    solution = solve_flow(problem)
    assert solution.assignment.tolist() == [-1, 0, -1]
    assert solution.unassigned == 2
    assert solution.objective == 7


def test_uncapped_reps_take_every_lead():
    """A rep without a cap (None) can take the whole batch."""
    problem = BatchProblem.from_candidates({f"L{i}": [("a", 1)] for i in range(5)}, {"a": None})
    assert solve_flow(problem).assignment.tolist() == [0] * 5


def test_joint_beats_greedy_on_the_textbook_case():
    """The solver gives up the single best pair when that frees a better total."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 10), ("b", 8)], "L2": [("a", 9)]}, {"a": 1, "b": 1}
    )
    solution = solve_flow(problem)
    assert solution.assignment.tolist() == [1, 0]
    assert solution.objective == 17  # greedy takes L1->a (10) and strands L2


def test_scaling_keeps_integral_fits_exact_and_scales_the_rest():
    """Integral fits up to 1000 are used as is; other fits are scaled to 0..1000."""
    scores, factor = integer_scores(np.array([0.0, 3.0, 1000.0]))
    assert (scores.tolist(), factor) == ([0, 3, 1000], 1.0)
    scores, factor = integer_scores(np.array([0.5, 2.5]))
    assert (scores.tolist(), factor) == ([200, 1000], 400.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pair_fit": np.array([-1.0])}, "pair_fit must be finite and >= 0"),
        ({"pair_rep": np.array([3], np.int32)}, "pair_rep holds an index outside"),
        ({"capacity": np.array([-1], np.int64)}, "capacity must be >= 0"),
        ({"pair_fit": np.array([1.0, 2.0])}, "same length"),
    ],
)
def test_malformed_problems_are_refused(kwargs, message):
    """A problem with a negative fit, an unknown rep index or a negative capacity is refused."""
    base = {
        "lead_ids": ("L1",),
        "rep_ids": ("a",),
        "pair_lead": np.array([0], np.int32),
        "pair_rep": np.array([0], np.int32),
        "pair_fit": np.array([1.0]),
        "capacity": np.array([1], np.int64),
    }
    with pytest.raises(ValueError, match=message):
        BatchProblem(**{**base, **kwargs})


def test_empty_problem():
    """No pairs at all leaves every lead unassigned, optimally."""
    solution = solve_flow(BatchProblem.from_candidates({"L1": [], "L2": []}, {"a": 2}))
    assert solution.optimal and solution.unassigned == 2 and solution.objective == 0


def fairness_cost(load: int, capacity: int, step: float) -> float:
    """What filling a rep to ``load`` costs: the k-th quarter of capacity costs k x step per lead."""
    edges = [capacity * q // 4 for q in range(5)]
    return sum(step * k * max(0, min(load, edges[k + 1]) - edges[k]) for k in range(4))


def brute_force_fair(problem: BatchProblem, bonus: float) -> float:
    """Best fit - fairness cost + bonus per placed lead, by trying every assignment.

    The flow prices "unassigned" like the costliest assignment, the same as a bonus per
    placed lead equal to the costliest fairness step: fairness never leaves a lead out.
    """
    options = [[(-1, 0.0)] for _ in problem.lead_ids]
    for lead, rep, fit in zip(problem.pair_lead, problem.pair_rep, problem.pair_fit, strict=True):
        options[lead].append((int(rep), float(fit)))
    best = float("-inf")
    for choice in itertools.product(*options):
        used = np.bincount([r for r, _ in choice if r >= 0], minlength=len(problem.rep_ids))
        if np.any(used > problem.capacity):
            continue
        value = sum(f + bonus for r, f in choice if r >= 0) - sum(
            fairness_cost(int(u), int(c), problem.fairness)
            for u, c in zip(used, problem.capacity, strict=True)
        )
        best = max(best, value)
    return best


def test_fairness_spreads_load_without_leaving_leads_out():
    """With fairness, four leads split 2/2 between a slightly better and a slightly worse rep."""
    leads = {f"L{i}": [("a", 10), ("b", 9)] for i in range(4)}
    plain = solve_flow(BatchProblem.from_candidates(leads, {"a": 4, "b": 4}))
    assert np.bincount(plain.assignment, minlength=2).tolist() == [4, 0]
    fair = solve_flow(BatchProblem.from_candidates(leads, {"a": 4, "b": 4}, fairness=2))
    assert np.bincount(fair.assignment, minlength=2).tolist() == [2, 2]
    assert (fair.objective, fair.penalty, fair.gap) == (38, 4, 0)
    heavy = solve_flow(BatchProblem.from_candidates(leads, {"a": 4, "b": 4}, fairness=1000))
    assert heavy.unassigned == 0


@settings(max_examples=200, deadline=None)
@given(instances(), st.integers(0, 300))
def test_fairness_optimum_matches_brute_force(problem, step):
    """Fit - fairness + the placement bonus equals the brute-force best; no lead is left out with room."""
    fair = attrs.evolve(problem, fairness=step)
    solution = solve_flow(fair)
    assert solution.optimal and respects_capacity(fair, solution.assignment)
    bonus = 3 * step  # the costliest fairness step: what "unassigned" costs beyond a pair
    placed = int(np.count_nonzero(solution.assignment >= 0))
    assert solution.objective - solution.penalty + bonus * placed == pytest.approx(
        brute_force_fair(fair, bonus)
    )
    assert solution.gap == 0
    load = np.bincount(solution.assignment[solution.assignment >= 0], minlength=len(fair.rep_ids))
    for lead in np.flatnonzero(solution.assignment < 0):
        eligible = fair.pair_rep[fair.pair_lead == lead]
        assert np.all(load[eligible] >= fair.capacity[eligible])  # no room was left for it
    assert solution.penalty == pytest.approx(
        sum(
            fairness_cost(int(u), int(c), step)
            for u, c in zip(
                np.bincount(
                    solution.assignment[solution.assignment >= 0], minlength=len(fair.rep_ids)
                ),
                fair.capacity,
                strict=True,
            )
        )
    )


@st.composite
def pooled_instances(draw):
    """Leads in pools with caps; each pool's members a random subset, so reps share pools."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    members = [[f"r{j}" for j in range(m) if draw(st.booleans())] for _ in range(k)]
    lead_pool = {f"L{i}": draw(st.integers(0, k - 1)) for i in range(n)}
    candidates = {
        lead: [(rep, draw(st.integers(0, 1000))) for rep in members[p] if draw(st.booleans())]
        for lead, p in lead_pool.items()
    }
    capacity = {f"r{j}": draw(st.integers(0, 3)) for j in range(m)}
    caps = {f"P{p}": draw(st.none() | st.integers(0, 4)) for p in range(k)}
    return BatchProblem.from_candidates(
        candidates,
        capacity,
        pools={lead: f"P{p}" for lead, p in lead_pool.items()},
        pool_caps=caps,
    )


def brute_force_pooled(problem: BatchProblem) -> float:
    """The best total fit within rep capacities and pool caps, trying every assignment."""
    options = [[(-1, 0.0)] for _ in problem.lead_ids]
    for lead, rep, fit in zip(problem.pair_lead, problem.pair_rep, problem.pair_fit, strict=True):
        options[lead].append((int(rep), float(fit)))
    pool = problem.pool_of_lead
    best = 0.0
    for choice in itertools.product(*options):
        used = np.bincount([r for r, _ in choice if r >= 0], minlength=len(problem.rep_ids))
        placed = [pool[i] for i, (r, _) in enumerate(choice) if r >= 0 and pool[i] >= 0]
        taken = np.bincount(placed, minlength=len(problem.pool_ids))
        if np.all(used <= problem.capacity) and np.all(taken <= problem.pool_cap):
            best = max(best, sum(f for _, f in choice))
    return best


def respects_pool_caps(problem: BatchProblem, assignment) -> bool:
    pool = problem.pool_of_lead
    taken = np.bincount(pool[(assignment >= 0) & (pool >= 0)], minlength=len(problem.pool_ids))
    return bool(np.all(taken <= problem.pool_cap))


@settings(max_examples=300, deadline=None)
@given(pooled_instances())
def test_pool_caps_reach_the_brute_force_optimum(problem):
    """With pool caps (reps in several pools) the flow is optimal and breaks no cap."""
    solution = solve_flow(problem)
    assert solution.optimal and solution.gap == 0
    assert solution.objective == pytest.approx(brute_force_pooled(problem))
    assert respects_capacity(problem, solution.assignment)
    assert respects_pool_caps(problem, solution.assignment)
    assert only_eligible(problem, solution.assignment)


@settings(max_examples=100, deadline=None)
@given(pooled_instances(), st.integers(1, 300))
def test_pool_caps_hold_with_fairness(problem, step):
    """Fairness (parallel capacity arcs) never lets a pool exceed its cap."""
    solution = solve_flow(attrs.evolve(problem, fairness=step))
    assert solution.optimal
    assert respects_capacity(problem, solution.assignment)
    assert respects_pool_caps(problem, solution.assignment)


def test_a_pool_cap_binds_across_reps_shared_with_another_pool():
    """Pool P (cap 1) places its best lead only; rep b, shared with Q, still takes Q's lead."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5), ("b", 4)], "L2": [("a", 7), ("b", 6)], "L3": [("b", 3)]},
        {"a": 3, "b": 3},
        pools={"L1": "P", "L2": "P", "L3": "Q"},
        pool_caps={"P": 1, "Q": None},
    )
    solution = solve_flow(problem)
    assert solution.assignment.tolist() == [-1, 0, 1]
    assert (solution.objective, solution.gap) == (10, 0)
    assert problem.pool_ids == ("P",)  # an uncapped pool adds nothing to the network


def test_pool_cap_zero_places_nobody_from_that_pool():
    """A pool capped at 0 takes no lead, even with every rep free."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 7)]},
        {"a": 2},
        pools={"L1": "P", "L2": "P"},
        pool_caps={"P": 0},
    )
    assert solve_flow(problem).assignment.tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pool_ids": ("P",), "pool_cap": np.array([-1], np.int64)}, "pool_cap must be >= 0"),
        ({"pool_ids": ("P",)}, "pool_cap needs one entry per pool"),
        (
            {"pool_ids": ("P",), "pool_cap": np.array([1]), "lead_pool": np.array([1], np.int32)},
            "lead_pool holds an index outside pool_ids",
        ),
        (
            {
                "pool_ids": ("P",),
                "pool_cap": np.array([1]),
                "lead_pool": np.array([0, 0], np.int32),
            },
            "lead_pool needs one entry per lead",
        ),
    ],
)
def test_malformed_pool_caps_are_refused(kwargs, message):
    """A negative pool cap, a cap count unlike the pools, or an unknown pool index is refused."""
    base = {
        "lead_ids": ("L1",),
        "rep_ids": ("a",),
        "pair_lead": np.array([0], np.int32),
        "pair_rep": np.array([0], np.int32),
        "pair_fit": np.array([1.0]),
        "capacity": np.array([1], np.int64),
    }
    with pytest.raises(ValueError, match=message):
        BatchProblem(**{**base, **kwargs})


def test_no_fit_is_traded_for_placing_one_more_lead():
    """725 with one lead beats 347 + 377 = 724 with two: the optimum is of fit alone."""
    problem = BatchProblem.from_candidates(
        {"L0": [("r1", 347)], "L3": [("r0", 377), ("r1", 725)]}, {"r0": 1, "r1": 1}
    )
    solution = solve_flow(problem)
    assert solution.assignment.tolist() == [-1, 1]
    assert (solution.objective, solution.bound, solution.gap) == (725, 725, 0)


def test_ties_place_the_lead():
    """A zero-fit lead with an eligible rep that has room is placed, not left out."""
    problem = BatchProblem.from_candidates({"L1": [("a", 0)], "L2": [("a", 5)]}, {"a": 2})
    for fairness in (0.0, 3.0):
        solution = solve_flow(attrs.evolve(problem, fairness=fairness))
        assert solution.assignment.tolist() == [0, 0]
        assert solution.objective == 5 and solution.gap == 0


@st.composite
def gated_instances(draw):
    """Instances with current owners, intake (daily room) and per-kind caps."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 3))
    candidates = {
        f"L{i}": [(f"r{j}", draw(st.integers(0, 20))) for j in range(m) if draw(st.booleans())]
        for i in range(n)
    }
    current = {f"L{i}": f"r{draw(st.integers(0, m - 1))}" for i in range(n) if draw(st.booleans())}
    return BatchProblem.from_candidates(
        candidates,
        {f"r{j}": draw(st.integers(0, 4)) for j in range(m)},
        current=current,
        intake={f"r{j}": draw(st.sampled_from([None, 0, 1, 2])) for j in range(m)},
        kinds={f"L{i}": draw(st.sampled_from(["demo", "trial"])) for i in range(n)},
        kind_caps={
            f"r{j}": {"demo": draw(st.integers(0, 2))} for j in range(m) if draw(st.booleans())
        },
    )


def within_gates(problem: BatchProblem, assignment) -> bool:
    from leadroute.solver import Room

    return Room.of(problem, assignment).within()


def brute_force_gated(problem: BatchProblem) -> float:
    options = [[(-1, 0.0)] for _ in problem.lead_ids]
    for lead, rep, fit in zip(problem.pair_lead, problem.pair_rep, problem.pair_fit, strict=True):
        options[lead].append((int(rep), float(fit)))
    best = 0.0
    for choice in itertools.product(*options):
        assignment = np.array([r for r, _ in choice], np.int32)
        if within_gates(problem, assignment):
            best = max(best, sum(f for _, f in choice))
    return best


@settings(max_examples=300, deadline=None)
@given(gated_instances())
def test_intake_and_kind_caps_bind_new_leads_only_at_the_optimum(problem):
    """Stays use capacity only; new leads also use intake and kind caps; the flow's total
    equals the brute-force optimum under all of them."""
    solution = solve_flow(problem)
    assert solution.optimal
    assert within_gates(problem, solution.assignment)
    assert solution.objective == pytest.approx(brute_force_gated(problem))


def test_a_stay_does_not_use_the_owners_daily_room():
    """An owner with no daily room left still keeps its own lead; a new lead cannot come in."""
    problem = BatchProblem.from_candidates(
        {"L1": [("a", 5)], "L2": [("a", 9)]},
        {"a": 5},
        current={"L1": "a"},
        intake={"a": 0},
    )
    assert solve_flow(problem).assignment.tolist() == [0, -1]
