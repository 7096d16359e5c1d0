"""Per-lead decision latency of the pipeline, against the same work without the plugin host.

Both paths run in this process on the same synthetic team and leads:

* ``pipeline``: ``Pipeline.decide`` (enrich and validate hooks, account matching, rule,
  exclusion and fit hooks through pluggy, strategy, decision object).
* ``direct``: the same built-in checks, fit and strategy called as plain functions in a
  loop, with no hook dispatch, no account step and no decision object: the floor the
  plugin architecture is measured against.

Usage: uv run python benchmarks/route_latency.py --reps 25 --leads 2000 [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import time
from datetime import UTC, datetime

import structlog

from leadroute.builtins import availability, capacity, eligibility, enrich, fit
from leadroute.context import RoutingContext
from leadroute.host import make_host
from leadroute.models import AccountIndex, Candidate, Capacity, Lead, Rep
from leadroute.pipeline import Pipeline
from leadroute.policy import parse_policy
from leadroute.strategies import Ledger, rank

AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
COUNTRIES = ("US", "CA", "GB", "DE", "FR")
POLICY = """
version: bench
regions: {NA: [US, CA], EMEA: [GB, DE, FR]}
segments: [{name: smb, max_employees: 199}, {name: enterprise, min_employees: 200}]
pools: [{name: all, strategy: round_robin}]
routing: [{name: all, pool: all}]
fallback: {owner: ops}
"""


def team(n: int, rng: random.Random) -> list[Rep]:
    reps = [
        Rep(
            id=f"r{i}",
            pools=("all",),
            territories=(rng.choice(("NA", "EMEA")),),
            languages=rng.choice((("en",), ("en", "de"), ("en", "fr"))),
            segments=(rng.choice(("smb", "enterprise")),),
            capacity=Capacity(max_open=10**6),
            active=rng.random() > 0.05,
        )
        for i in range(n)
    ]
    return [*reps, Rep(id="ops")]


def leads(n: int, rng: random.Random) -> list[Lead]:
    return [
        Lead(
            id=f"L{i}",
            email=f"x{i}@c{i}.com",
            country=rng.choice(COUNTRIES),
            employees=rng.choice((20, 150, 900)),
            language=rng.choice(("en", "de", "fr")),
        )
        for i in range(n)
    ]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6,
        "mean_us": statistics.fmean(ordered) * 1e6,
    }


def run_pipeline(reps: list[Rep], stream: list[Lead]) -> list[float]:
    policy = parse_policy(POLICY)
    pipeline = Pipeline.build(
        make_host(load_entrypoints=False),
        policy,
        reps,
        AccountIndex.build([]),
        assigned={},
        ledger=Ledger({}, 0),
    )
    samples = []
    for lead in stream:
        start = time.perf_counter()
        pipeline.decide(lead, AT)
        samples.append(time.perf_counter() - start)
    return samples


def run_direct(reps: list[Rep], stream: list[Lead]) -> list[float]:
    policy = parse_policy(POLICY)
    by_id = {r.id: r for r in reps}
    members = [r for r in reps if "all" in r.pools]
    ledger = Ledger({}, 0)
    loads: dict[str, int] = {}
    ctx = RoutingContext(
        at=AT, policy=policy, loads=loads, constraints=(*policy.constraints, "capacity")
    )
    samples = []
    for raw in stream:
        start = time.perf_counter()
        lead = Lead(
            id=raw.id,
            email=raw.email,
            country=raw.country,
            employees=raw.employees,
            language=raw.language,
            attributes=enrich.leadroute_enrich_lead(raw, policy),
        )
        candidates = []
        for rep in members:
            if (
                availability.leadroute_exclude_rep(lead, rep, ctx)
                or capacity.leadroute_exclude_rep(lead, rep, ctx)
                or eligibility.leadroute_exclude_rep(lead, rep, ctx)
            ):
                continue
            parts = fit.leadroute_score_fit(lead, rep, ctx)
            candidates.append(Candidate(rep_id=rep.id, fit=sum(p.value for p in parts)))
        if candidates:
            winner = rank(policy.pool("all").strategy, "all", lead.id, candidates, ledger, by_id)[0]
            ledger.take_turn("all", winner.rep_id)
            loads[winner.rep_id] = loads.get(winner.rep_id, 0) + 1
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    # An application configures logging: keep the solver's info lines out of the output.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    reps, stream = team(args.reps, rng), leads(args.leads, rng)
    run_pipeline(reps, stream[:50])  # warm imports and caches for both paths
    run_direct(reps, stream[:50])
    pipeline, direct = (
        percentiles(run_pipeline(reps, stream)),
        percentiles(run_direct(reps, stream)),
    )
    result = {
        "reps": args.reps,
        "leads": args.leads,
        "seed": args.seed,
        "pipeline": pipeline,
        "direct": direct,
        "ratio_p50": pipeline["p50_us"] / direct["p50_us"],
        "ratio_p99": pipeline["p99_us"] / direct["p99_us"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.reps} reps, {args.leads} leads: pipeline p50 {pipeline['p50_us']:.0f} us, "
            f"p99 {pipeline['p99_us']:.0f} us; direct p50 {direct['p50_us']:.0f} us, "
            f"p99 {direct['p99_us']:.0f} us; ratio p50 {result['ratio_p50']:.2f}x"
        )


if __name__ == "__main__":
    main()
