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
  team, other leads): the back-test of priced real-time routing.

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
[--pool-caps] [--only raw_flow,leadroute] [--json]
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

from leadroute.solver import BatchProblem, capacity_prices, price_online, solve_flow

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
    top = int(p.pair_fit.max())
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
                top - p.pair_fit.astype(np.int64),
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
    top = int(p.pair_fit.max())
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
                top - p.pair_fit.astype(np.int64),
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
    prices: NDArray[np.float64], groups: NDArray[np.int64] | None = None
) -> dict[str, Callable[[BatchProblem], Assignment]]:
    """Every method; ``priced_online`` uses capacity prices learnt on the previous day.

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
        "--only",
        default="",
        help="comma-separated methods to run (raw_flow always runs: it is the baseline)",
    )
    args = parser.parse_args()
    problem = generate(args.leads, args.reps, args.seed, day=1)
    groups = lead_groups(args.leads, args.seed) if args.pool_caps else None
    wanted = {"raw_flow", *filter(None, args.only.split(","))} if args.only else None
    prices = np.zeros(args.reps)
    if wanted is None or "priced_online" in wanted:
        # Prices come from the previous day's batch optimum, as the nightly job publishes.
        yesterday = generate(args.leads, args.reps, args.seed, day=0)
        prices = capacity_prices(yesterday, solve_flow(yesterday))
        del yesterday
    chosen = {
        name: method
        for name, method in methods(prices, groups).items()
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
        f"{args.leads} leads x {args.reps} reps, {problem.num_pairs} pairs, "
        f"capacity {out['capacity']}"
    )
    for name, r in results.items():
        peak_text = (
            f"{r['peak_mb']:.0f} MB (process {r['process_peak_mb']:.0f} MB)"
            if r["peak_mb"] is not None
            else "n/a"
        )
        print(
            f"  {name:20} fit {r['fit']:>12.0f}  {r['ratio_to_optimum']:.4f} of optimum  "
            f"{r['seconds']:7.2f} s  x{r['time_ratio_to_raw_flow']:.2f} raw "
            f"(cpu x{r['cpu_ratio_to_raw_flow']:.2f})  peak +{peak_text}  "
            f"caps {'ok' if r['within_caps'] else 'VIOLATED'}  unassigned {r['unassigned']}"
        )


if __name__ == "__main__":
    main()
