"""Per-lead decision latency of the pipeline, against the same work without the plugin host.

Both paths run in this process on the same synthetic team and leads:

* ``pipeline``: ``Pipeline.decide`` (enrich and validate hooks, account matching, rule,
  the batched hard-constraint hook over the pool's index, per-rep exclusion and fit hooks
  through pluggy for the reps left standing, strategy, decision object).
* ``direct``: the same built-in checks, fit and strategy called as plain functions in a
  loop over every rep (lead facts computed once per lead, rep profiles once per run), with
  no hook dispatch, no index, no account step and no decision object: what the per-rep
  design costs without the plugin host.

Instances (``--instance``):

* ``uniform``: one pool of every rep, two regions, random languages and segments: about
  half the reps are eligible for each lead (the worst case for per-lead work after the
  constraints).
* ``realistic``: one pool of every rep, reps spread over 16 territories (US state groups,
  EMEA country groups, APAC) and 3 segments, so about 20 reps are eligible per lead, as
  the optimizer's facts assume.

With ``--learned-fit``, the pipeline is timed again with the learned-fit plugin scoring
every candidate (a model trained on random outcomes), and the ratio to the plain pipeline
is reported.

Usage: uv run python benchmarks/route_latency.py --reps 1000 --leads 2000
       [--instance realistic] [--seed 1] [--learned-fit] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from leadroute import constraints
from leadroute.builtins import availability, capacity, enrich, fit
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


# The realistic instance: territories as a business draws them.
US_STATES = ("CA", "OR", "WA", "NV", "TX", "AZ", "CO", "NY", "NJ", "MA", "IL", "FL", "GA", "OH")
TERRITORIES = {
    "US-West": ("US-CA", "US-OR", "US-WA", "US-NV"),
    "US-SouthWest": ("US-TX", "US-AZ", "US-CO"),
    "US-NorthEast": ("US-NY", "US-NJ", "US-MA"),
    "US-Central": ("US-IL", "US-OH"),
    "US-SouthEast": ("US-FL", "US-GA"),
    "Canada": ("CA",),
    "UK-London": ("GB:E", "GB:W", "GB:N", "GB:SE"),
    "UK-Rest": ("GB:M", "GB:B", "GB:L", "GB:G"),
    "DACH": ("DE", "AT", "CH"),
    "France": ("FR", "BE"),
    "Nordics": ("SE", "NO", "DK", "FI"),
    "Iberia": ("ES", "PT"),
    "Benelux": ("NL", "LU"),
    "ANZ": ("AU", "NZ"),
    "Japan": ("JP",),
    "SEA": ("SG", "MY"),
}
LANGUAGES = {"DACH": "de", "France": "fr", "Iberia": "es", "Japan": "ja"}
UK_POSTAL = ("E1 6AN", "W1A 1AA", "N1 9GU", "SE1 7PB", "M1 1AE", "B1 1AA", "L1 8JQ", "G1 1XQ")
REALISTIC_POLICY = """
version: bench-realistic
regions: {NA: [US, CA], EMEA: [GB, DE, AT, CH, FR, BE, SE, "NO", DK, FI, ES, PT, NL, LU],
          APAC: [AU, NZ, JP, SG, MY]}
segments:
  - {name: smb, max_employees: 199}
  - {name: mid, min_employees: 200, max_employees: 1999}
  - {name: enterprise, min_employees: 2000}
pools: [{name: all, strategy: round_robin}]
routing: [{name: all, pool: all}]
fallback: {owner: ops}
territories:
""" + "".join(
    f"  {name}: {{keys: [{', '.join(repr(k) for k in keys)}]}}\n"
    for name, keys in TERRITORIES.items()
)


def realistic_team(n: int, rng: random.Random) -> list[Rep]:
    names = list(TERRITORIES)
    reps = []
    for i in range(n):
        territory = names[i % len(names)]
        language = LANGUAGES.get(territory)
        reps.append(
            Rep(
                id=f"r{i}",
                pools=("all",),
                territories=(territory,),
                languages=(language, "en") if language else ("en",),
                segments=(("smb", "mid", "enterprise")[(i // len(names)) % 3],),
                capacity=Capacity(max_open=10**6),
                active=rng.random() > 0.05,
            )
        )
    return [*reps, Rep(id="ops")]


def realistic_leads(n: int, rng: random.Random) -> list[Lead]:
    out = []
    for i in range(n):
        territory = rng.choice(list(TERRITORIES))
        key = rng.choice(TERRITORIES[territory])
        country, _, rest = key.partition(":") if ":" in key else key.partition("-")
        state = rest if "-" in key else ""
        postal = rng.choice([p for p in UK_POSTAL if p.startswith(rest)]) if ":" in key else ""
        out.append(
            Lead(
                id=f"L{i}",
                email=f"x{i}@c{i}.com",
                country=country,
                state=state,
                employees=rng.choice((20, 150, 900, 5000)),
                language=LANGUAGES.get(territory, "en") if rng.random() < 0.8 else "en",
                attributes={"postal_code": postal} if postal else {},
            )
        )
    return out


INSTANCES = {
    "uniform": (POLICY, team, leads),
    "realistic": (REALISTIC_POLICY, realistic_team, realistic_leads),
}


# Decisions timed before the measured ones, on the same pipeline: they build the per-run
# index and fill its caches (reported apart as ``first_decision_us``).
WARMUP = 50


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6,
        "mean_us": statistics.fmean(ordered) * 1e6,
    }


def timed(decide: Callable[[Lead], object], stream: list[Lead]) -> dict[str, Any]:
    """Wall and CPU (this thread's) time per decision, past the warm-up.

    On a shared machine the wall clock includes time the process waited for a core; the
    thread's CPU time does not, so both are reported.
    """
    wall, cpu = [], []
    for lead in stream:
        w, c = time.perf_counter(), time.thread_time()
        decide(lead)
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return {
        **percentiles(wall[WARMUP:]),
        "cpu": percentiles(cpu[WARMUP:]),
        "first_decision_us": wall[0] * 1e6,
    }


def run_pipeline(
    policy_text: str,
    reps: list[Rep],
    stream: list[Lead],
    plugins: tuple[object, ...] = (),
    base_dir: Path | None = None,
) -> dict[str, Any]:
    policy = parse_policy(policy_text, base_dir=base_dir)
    pipeline = Pipeline.build(
        make_host(load_entrypoints=False, plugins=plugins),
        policy,
        reps,
        AccountIndex.build([]),
        assigned={},
        ledger=Ledger({}, 0),
    )
    return timed(lambda lead: pipeline.decide(lead, AT), stream)


def run_direct(policy_text: str, reps: list[Rep], stream: list[Lead]) -> dict[str, Any]:
    policy = parse_policy(policy_text)
    by_id = {r.id: r for r in reps}
    members = [r for r in reps if "all" in r.pools]
    ledger = Ledger({}, 0)
    loads: dict[str, int] = {}
    ctx = RoutingContext(
        at=AT, policy=policy, loads=loads, constraints=(*policy.constraints, "capacity"), rule="all"
    )
    profiles = {rep.id: constraints.rep_profile(rep, policy) for rep in members}
    named = constraints.named_accounts(policy, members)
    in_force = [c for c in constraints.HARD_CONSTRAINTS if c in ctx.constraints]

    def decide(raw: Lead) -> None:
        lead = Lead(
            id=raw.id,
            email=raw.email,
            country=raw.country,
            employees=raw.employees,
            language=raw.language,
            state=raw.state,
            attributes={**raw.attributes, **enrich.leadroute_enrich_lead(raw, policy)},
        )
        facts = constraints.lead_facts(lead, ctx, named)
        candidates = []
        for rep in members:
            if availability.leadroute_exclude_rep(lead, rep, ctx) or capacity.leadroute_exclude_rep(
                lead, rep, ctx
            ):
                continue
            profile = profiles[rep.id]
            if any(constraints.CHECKS[c](facts, profile) for c in in_force):
                continue
            parts = fit.leadroute_score_fit(lead, rep, ctx)
            candidates.append(Candidate(rep_id=rep.id, fit=sum(p.value for p in parts)))
        if candidates:
            winner = rank(policy.pool("all").strategy, "all", lead.id, candidates, ledger, by_id)[0]
            ledger.take_turn("all", winner.rep_id)
            loads[winner.rep_id] = loads.get(winner.rep_id, 0) + 1

    return timed(decide, stream)


def eligible_per_lead(policy_text: str, reps: list[Rep], sample: list[Lead]) -> float:
    """Mean candidates per routed lead, so a reader sees what the instance asks of the chooser."""
    policy = parse_policy(policy_text)
    pipeline = Pipeline.build(
        make_host(load_entrypoints=False),
        policy,
        reps,
        AccountIndex.build([]),
        assigned={},
        ledger=Ledger({}, 0),
    )
    counts = []
    for lead in sample:
        decided = pipeline.decide(lead, AT)
        counts.append(len(getattr(decided, "decision", None).candidates))  # type: ignore[union-attr]
    return statistics.fmean(counts)


def learned_fit_run(
    policy_text: str, reps: list[Rep], stream: list[Lead], rng: random.Random
) -> dict[str, Any]:
    """The pipeline with the learned-fit plugin scoring every candidate, from a model trained
    on random outcomes for every rep by segment (what it costs, not what it is worth)."""
    from leadroute_learned_fit import plugin  # noqa: PLC0415 - only with --learned-fit
    from leadroute_learned_fit.model import Example, train  # noqa: PLC0415

    examples = [
        Example(
            lead_id=f"E{i}",
            rep_id=rep.id,
            features={"segment": rng.choice(("smb", "enterprise")), "region": "NA"},
            converted=rng.random() < 0.3,
        )
        for i, rep in enumerate(reps * 30)
    ]
    model = train(
        examples,
        target="opportunity",
        as_of=AT,
        half_life=timedelta(days=90),
        mature_after=timedelta(days=14),
    )
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.json").write_text(model.to_json(), encoding="utf-8")
        text = policy_text + "fit: {learned: {model: model.json, weight: 10}}\n"
        return run_pipeline(text, reps, stream, (plugin,), Path(folder))


def main() -> None:
    # An application configures logging: keep the solver's info lines out of the output.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instance", choices=sorted(INSTANCES), default="uniform")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--learned-fit",
        action="store_true",
        help="Also time the pipeline with the learned-fit plugin scoring every candidate.",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy_text, make_team, make_leads = INSTANCES[args.instance]
    reps, stream = make_team(args.reps, rng), make_leads(args.leads, rng)
    run_pipeline(policy_text, reps, stream[: WARMUP + 1])  # warm imports for both paths
    run_direct(policy_text, reps, stream[: WARMUP + 1])
    pipeline = run_pipeline(policy_text, reps, stream)
    direct = run_direct(policy_text, reps, stream)
    result = {
        "instance": args.instance,
        "eligible_per_lead": eligible_per_lead(policy_text, reps, stream[:200]),
        "reps": args.reps,
        "leads": args.leads,
        "seed": args.seed,
        "pipeline": pipeline,
        "direct": direct,
        "ratio_p50": pipeline["p50_us"] / direct["p50_us"],
        "ratio_p99": pipeline["p99_us"] / direct["p99_us"],
        "ratio_cpu_p50": pipeline["cpu"]["p50_us"] / direct["cpu"]["p50_us"],
        "ratio_cpu_p99": pipeline["cpu"]["p99_us"] / direct["cpu"]["p99_us"],
    }
    if args.learned_fit:
        learned = learned_fit_run(policy_text, reps, stream, rng)
        result["pipeline_learned_fit"] = learned
        result["learned_over_pipeline_cpu_p50"] = (
            learned["cpu"]["p50_us"] / pipeline["cpu"]["p50_us"]
        )
        result["learned_over_pipeline_cpu_p99"] = (
            learned["cpu"]["p99_us"] / pipeline["cpu"]["p99_us"]
        )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.instance}, {args.reps} reps, {args.leads} leads: pipeline p50 "
            f"{pipeline['p50_us']:.0f} us, p99 {pipeline['p99_us']:.0f} us (cpu p99 "
            f"{pipeline['cpu']['p99_us']:.0f} us); direct p50 {direct['p50_us']:.0f} us, "
            f"p99 {direct['p99_us']:.0f} us; ratio p50 {result['ratio_p50']:.2f}x"
        )


if __name__ == "__main__":
    main()
