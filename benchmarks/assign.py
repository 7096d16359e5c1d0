"""Batch assignment quality and speed: leadroute's solver against what peers do.

On one generated instance, in one process, runs:

* ``leadroute``: ``leadroute.solver`` end to end (arrays in, validated, scaled, solved,
  read back, lead id -> rep id out);
* ``raw_flow``: OR-Tools ``SimpleMinCostFlow`` on the same arrays with nothing around it;
* ``greedy``: global greedy, best pair first (what a careful batch script does);
* ``online``: one lead at a time in arrival order, round robin among eligible reps with
  room left, ignoring fit (what routing products do);
* ``online_best_fit``: one lead at a time, the best-fit eligible rep with room;
* ``priced_online``: one lead at a time, the eligible rep with room maximising fit minus
  the rep's capacity price, with prices computed from the previous day's leads (same
  team, other leads) by the solve with a strictly convex capacity cost, as the product
  publishes them (``leadroute.solver.steering_prices``): the back-test of priced
  real-time routing;
* ``priced_online_minimal``: the same with the minimal LP prices of the fit-only solve
  (what the product published before; zero wherever capacity is slack).

``--instance`` picks the fit: ``synthetic`` (default: 600 x rep quality + 400 x noise,
integers), ``product`` (the demo company scaled up, candidates and fit from the routing
pipeline and the built-in fit plugin: language, product, headroom) or ``learned`` (the
same plus the ``leadroute-learned-fit`` plugin with a model trained on a simulated
history). See ``benchmarks/fit_instances.py``.

With ``--pool-caps``, two more runs measure the pool-cap layer (one pool per region x
segment group, each lead in its group's pool):

* ``leadroute_pool_slack``: every pool capped at its own size: the extra nodes and the
  rerouted bypass arcs are in the network but bind nothing, so the fit must equal the
  optimum; the time ratio to ``raw_flow`` is the layer's cost;
* ``leadroute_pool_caps``: every pool capped at 90% of its leads: the caps bind (a
  different, smaller optimum), checked against rep capacities and pool caps;
* ``raw_flow_pool_caps``: raw ``SimpleMinCostFlow`` on that capped network, the baseline
  for ``leadroute_pool_caps`` (its fit is that problem's optimum).

Prints, per method: total fit, ratio to the optimum, wall seconds, wall ratio to
``raw_flow``, CPU-time ratio to ``raw_flow`` (steadier than wall time when other jobs
share the cores, as every method here runs on one thread), peak memory above the
instance and the process's peak during the method (MB, from the kernel's high-water
mark, reset before each method), and whether any cap was violated.

Usage: uv run python benchmarks/assign.py --leads 10000 --reps 200 [--seed 1] [--repeat 3]
[--instance synthetic|product|learned] [--pool-caps] [--only raw_flow,leadroute] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import structlog
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from leadroute.solver import (
    BatchProblem,
    capacity_prices,
    price_online,
    solve_flow,
    steering_prices,
)
from leadroute.solver.flow import integer_scores

Assignment = NDArray[np.int32]
GROUPS = 6  # 3 regions x 2 segments


def generate(n: int, m: int, seed: int, day: int = 1, per_lead: int = 20) -> BatchProblem:
    """Regions x segments, ~20 eligible reps per lead, skewed rep quality, capacity ~110%.

    ``seed`` fixes the team (groups, quality, capacity); ``day`` draws that day's leads, so
    two days share the same reps: prices learnt on one day can be tested on the next.
    """
    team = np.random.default_rng(seed)
    rep_group = team.integers(0, GROUPS, m)
    quality = team.beta(2, 5, m)
    weights = team.gamma(2.0, 1.0, m)
    group_weight = np.bincount(rep_group, weights=weights, minlength=GROUPS)
    share = weights / group_weight[rep_group]
    capacity = np.maximum(1, np.floor(1.1 * (n / GROUPS) * share)).astype(np.int64)
    rng = np.random.default_rng([seed, day])
    lead_group = rng.integers(0, GROUPS, n)
    order = np.argsort(rep_group, kind="stable")
    sizes = np.bincount(rep_group, minlength=GROUPS)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # Picks with replacement collapse on repeats; draw enough that ~per_lead stay distinct.
    g = max(1.0, float(sizes.mean()))
    draws = (
        per_lead if per_lead >= g else int(np.ceil(np.log(1 - per_lead / g) / np.log(1 - 1 / g)))
    )
    picks = rng.random((n, draws))
    offsets = (picks * sizes[lead_group][:, None]).astype(np.int64)
    reps = order[starts[lead_group][:, None] + offsets].ravel()
    leads = np.repeat(np.arange(n), draws)
    key = np.unique(leads.astype(np.int64) * m + reps)  # drop repeated picks, sort by lead
    pair_lead, pair_rep = (key // m).astype(np.int32), (key % m).astype(np.int32)
    fit = np.rint(600 * quality[pair_rep] + 400 * rng.random(len(key)))
    return BatchProblem(
        lead_ids=tuple(f"L{i}" for i in range(n)),
        rep_ids=tuple(f"r{j}" for j in range(m)),
        pair_lead=pair_lead,
        pair_rep=pair_rep,
        pair_fit=fit,
        capacity=capacity,
    )


def instance(kind: str, n: int, m: int, seed: int, day: int) -> BatchProblem:
    """The day's problem: synthetic, or the product's own fit (built-in, or learned too)."""
    if kind == "synthetic":
        return generate(n, m, seed, day=day)
    from fit_instances import product_problem  # noqa: PLC0415 - the demo company: slower

    return product_problem(n, m, seed, day=day, learned=kind == "learned")


def lead_groups(n: int, seed: int, day: int = 1) -> NDArray[np.int64]:
    """Each lead's region x segment group, as ``generate`` draws it."""
    return np.random.default_rng([seed, day]).integers(0, GROUPS, n)


def pooled(p: BatchProblem, groups: NDArray[np.int64], share: float) -> BatchProblem:
    """The same problem with one capped pool per group, each capped at ``share`` of its leads."""
    sizes = np.bincount(groups, minlength=GROUPS)
    return attrs.evolve(
        p,
        pool_ids=tuple(f"g{g}" for g in range(GROUPS)),
        pool_cap=np.floor(share * sizes).astype(np.int64),
        lead_pool=groups.astype(np.int32),
    )


def raw_flow(p: BatchProblem) -> Assignment:
    n, m, e = len(p.lead_ids), len(p.rep_ids), p.num_pairs
    scores, _ = integer_scores(p.pair_fit)  # as they are when integral (synthetic)
    top = int(scores.max())
    sink = n + m
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(
            [p.pair_lead, n + np.arange(m, dtype=np.int32), np.arange(n, dtype=np.int32)]
        ),
        np.concatenate([n + p.pair_rep, np.full(m + n, sink, np.int32)]),
        np.concatenate([np.ones(e, np.int64), p.capacity, np.ones(n, np.int64)]),
        np.concatenate(
            [
                top - scores,
                np.zeros(m, np.int64),
                np.full(n, top, np.int64),  # unassigned = a zero-fit pair: fit alone
            ]
        ),
    )
    supplies = np.zeros(n + m + 1, np.int64)
    supplies[:n], supplies[sink] = 1, -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), supplies)
    assert flow.solve() == flow.OPTIMAL
    used = flow.flows(np.arange(e, dtype=np.int32)) > 0
    out = np.full(n, -1, np.int32)
    out[p.pair_lead[used]] = p.pair_rep[used]
    return out


def raw_flow_pool_caps(p: BatchProblem) -> Assignment:
    """Raw ``SimpleMinCostFlow`` with pool caps: pool nodes with demands on the bypass."""
    n, m, e, k = len(p.lead_ids), len(p.rep_ids), p.num_pairs, len(p.pool_ids)
    scores, _ = integer_scores(p.pair_fit)
    top = int(scores.max())
    sink = n + m
    pool = p.pool_of_lead
    size = np.bincount(pool[pool >= 0], minlength=k).astype(np.int64)
    demand = np.maximum(0, size - p.pool_cap)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(
            [
                p.pair_lead,
                n + np.arange(m, dtype=np.int32),
                np.arange(n, dtype=np.int32),
                sink + 1 + np.arange(k, dtype=np.int32),
            ]
        ),
        np.concatenate(
            [
                n + p.pair_rep,
                np.full(m, sink, np.int32),
                np.where(pool >= 0, sink + 1 + pool, sink).astype(np.int32),
                np.full(k, sink, np.int32),
            ]
        ),
        np.concatenate([np.ones(e, np.int64), p.capacity, np.ones(n, np.int64), size]),
        np.concatenate(
            [
                top - scores,
                np.zeros(m, np.int64),
                np.full(n, top, np.int64),  # unassigned = a zero-fit pair: fit alone
                np.zeros(k, np.int64),
            ]
        ),
    )
    supplies = np.zeros(n + m + 1 + k, np.int64)
    supplies[:n], supplies[sink], supplies[sink + 1 :] = 1, -(n - int(demand.sum())), -demand
    flow.set_nodes_supplies(np.arange(n + m + 1 + k, dtype=np.int32), supplies)
    assert flow.solve() == flow.OPTIMAL
    used = flow.flows(np.arange(e, dtype=np.int32)) > 0
    out = np.full(n, -1, np.int32)
    out[p.pair_lead[used]] = p.pair_rep[used]
    return out


def leadroute(p: BatchProblem) -> Assignment:
    again = attrs.evolve(p)  # validated again, as arrays from outside would be
    solution = solve_flow(again)
    assert solution.optimal
    decided = {
        again.lead_ids[i]: again.rep_ids[r]
        for i, r in enumerate(solution.assignment.tolist())
        if r >= 0
    }
    assert len(decided) == len(p.lead_ids) - solution.unassigned
    return solution.assignment


def greedy(p: BatchProblem) -> Assignment:
    out = np.full(len(p.lead_ids), -1, np.int32)
    room = p.capacity.copy()
    for k in np.argsort(-p.pair_fit, kind="stable").tolist():
        lead, rep = p.pair_lead[k], p.pair_rep[k]
        if out[lead] < 0 and room[rep] > 0:
            out[lead] = rep
            room[rep] -= 1
    return out


def online(p: BatchProblem) -> Assignment:
    n = len(p.lead_ids)
    out = np.full(n, -1, np.int32)
    room = p.capacity.tolist()
    last_turn = [0] * len(p.rep_ids)
    bounds = np.searchsorted(p.pair_lead, np.arange(n + 1)).tolist()
    reps = p.pair_rep.tolist()
    for lead in range(n):
        best, best_turn = -1, None
        for rep in reps[bounds[lead] : bounds[lead + 1]]:
            if room[rep] > 0 and (best_turn is None or last_turn[rep] < best_turn):
                best, best_turn = rep, last_turn[rep]
        if best >= 0:
            out[lead] = best
            room[best] -= 1
            last_turn[best] = lead + 1
    return out


def methods(
    prices: NDArray[np.float64],
    groups: NDArray[np.int64] | None = None,
    minimal: NDArray[np.float64] | None = None,
) -> dict[str, Callable[[BatchProblem], Assignment]]:
    """Every method; ``priced_online`` uses capacity prices learnt on the previous day
    (``priced_online_minimal`` the minimal prices of the fit-only solve, when given).

    With ``groups`` (``--pool-caps``), the two pool-cap runs are added.
    """
    chosen: dict[str, Callable[[BatchProblem], Assignment]] = {
        "raw_flow": raw_flow,
        "leadroute": leadroute,
        "greedy": greedy,
        "online": online,
        "online_best_fit": lambda p: price_online(p, np.zeros(len(p.rep_ids))),
        "priced_online": lambda p: price_online(p, prices),
    }
    if minimal is not None:
        chosen["priced_online_minimal"] = lambda p: price_online(p, minimal)
    if groups is not None:
        chosen["leadroute_pool_slack"] = lambda p: leadroute(pooled(p, groups, 1.0))
        chosen["leadroute_pool_caps"] = lambda p: leadroute(pooled(p, groups, POOL_SHARE))
        chosen["raw_flow_pool_caps"] = lambda p: raw_flow_pool_caps(pooled(p, groups, POOL_SHARE))
    return chosen


POOL_SHARE = 0.9


def _rss_kb(field: str) -> int | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
    except OSError:
        return False
    return True


def evaluate(p: BatchProblem, assignment: Assignment) -> tuple[float, bool]:
    """Total fit of an assignment and whether every rep (and capped pool) stays within its cap."""
    chosen = assignment[p.pair_lead] == p.pair_rep  # (lead, rep) pairs are unique
    placed = assignment >= 0
    load = np.bincount(assignment[placed], minlength=len(p.rep_ids))
    pool = p.pool_of_lead
    taken = np.bincount(pool[placed & (pool >= 0)], minlength=len(p.pool_ids))
    within = bool(np.all(load <= p.capacity)) and bool(np.all(taken <= p.pool_cap))
    return float(p.pair_fit[chosen].sum()), within


def yesterdays_prices(
    args: argparse.Namespace, problem: BatchProblem
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Steering and minimal prices from the previous day's batch, as the nightly job
    publishes them (the same team, other leads)."""
    yesterday = instance(args.instance, args.leads, args.reps, args.seed, day=0)
    assert yesterday.rep_ids == problem.rep_ids
    return steering_prices(yesterday), capacity_prices(yesterday, solve_flow(yesterday))


def main() -> None:
    # An application configures logging: keep the solver's info lines out of the output.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every method; times are medians"
    )
    parser.add_argument(
        "--pool-caps", action="store_true", help="also run leadroute with pool caps (slack, 90%%)"
    )
    parser.add_argument(
        "--instance",
        choices=("synthetic", "product", "learned"),
        default="synthetic",
        help="where the fit comes from (see benchmarks/fit_instances.py)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated methods to run (raw_flow always runs: it is the baseline)",
    )
    args = parser.parse_args()
    problem = instance(args.instance, args.leads, args.reps, args.seed, day=1)
    if args.pool_caps and args.instance != "synthetic":
        parser.error("--pool-caps: only with --instance synthetic")
    groups = lead_groups(args.leads, args.seed) if args.pool_caps else None
    wanted = {"raw_flow", *filter(None, args.only.split(","))} if args.only else None
    prices = minimal = np.zeros(len(problem.rep_ids))
    if wanted is None or wanted & {"priced_online", "priced_online_minimal"}:
        prices, minimal = yesterdays_prices(args, problem)
    chosen = {
        name: method
        for name, method in methods(prices, groups, minimal).items()
        if wanted is None or name in wanted
    }
    if wanted is not None and (unknown := wanted - set(chosen)):
        parser.error(f"--only: unknown method(s) {', '.join(sorted(unknown))}")
    results: dict[str, dict[str, Any]] = {}
    timings: dict[str, list[float]] = {}
    cpu_timings: dict[str, list[float]] = {}
    # Rounds interleave the methods, so a burst of load on a shared machine hits all alike;
    # each method's time is its median over the rounds.
    for _ in range(args.repeat):
        for name, method in chosen.items():
            before = _rss_kb("VmRSS")
            measured = _reset_peak()
            start, cpu_start = time.perf_counter(), time.process_time()
            assignment = method(problem)
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            peak = _rss_kb("VmHWM")
            timings.setdefault(name, []).append(seconds)
            cpu_timings.setdefault(name, []).append(cpu)
            checked = (
                pooled(problem, groups, 1.0 if name.endswith("slack") else POOL_SHARE)
                if groups is not None and name.endswith(("pool_slack", "pool_caps"))
                else problem
            )
            total, within_caps = evaluate(checked, assignment)
            earlier = results.get(name, {})
            peak_mb = (peak - before) / 1024 if measured and peak and before else None
            results[name] = {
                "fit": total,
                "seconds": float(np.median(timings[name])),
                "cpu_seconds": float(np.median(cpu_timings[name])),
                "runs": [round(t, 4) for t in timings[name]],
                "within_caps": within_caps and earlier.get("within_caps", True),
                "unassigned": int(np.count_nonzero(assignment < 0)),
                "peak_mb": None if peak_mb is None else max(peak_mb, earlier.get("peak_mb") or 0.0),
                "process_peak_mb": max(peak / 1024, earlier.get("process_peak_mb") or 0.0)
                if measured and peak
                else None,
            }
    optimum = results["raw_flow"]["fit"]
    for r in results.values():
        r["ratio_to_optimum"] = r["fit"] / optimum
        r["time_ratio_to_raw_flow"] = r["seconds"] / results["raw_flow"]["seconds"]
        r["cpu_ratio_to_raw_flow"] = r["cpu_seconds"] / results["raw_flow"]["cpu_seconds"]
    out = {
        "instance": args.instance,
        "leads": args.leads,
        "reps": args.reps,
        "seed": args.seed,
        "pairs": problem.num_pairs,
        "capacity": int(problem.capacity.sum()),
        "repeat": args.repeat,
        "methods": results,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"{args.instance} instance: {len(problem.lead_ids)} leads in the batch (of "
        f"{args.leads}) x {len(problem.rep_ids)} reps, {problem.num_pairs} pairs, "
        f"capacity {out['capacity']}"
    )
    for name, r in results.items():
        peak_text = (
            f"{r['peak_mb']:.0f} MB (process {r['process_peak_mb']:.0f} MB)"
            if r["peak_mb"] is not None
            else "n/a"
        )
        print(
            f"  {name:22} fit {r['fit']:>12.1f}  {r['ratio_to_optimum']:.4f} of optimum  "
            f"{r['seconds']:7.2f} s  x{r['time_ratio_to_raw_flow']:.2f} raw "
            f"(cpu x{r['cpu_ratio_to_raw_flow']:.2f})  peak +{peak_text}  "
            f"caps {'ok' if r['within_caps'] else 'VIOLATED'}  unassigned {r['unassigned']}"
        )


if __name__ == "__main__":
    main()
