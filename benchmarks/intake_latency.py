"""What intake quality costs per lead: normalize, validate, classify and score before routing.

Both paths run ``Pipeline.decide`` in this process on the same team and the same leads:

* ``baseline``: a policy without lead types, scoring or known sources (the built-in
  normalizer and validator still run: country, phone and email checks);
* ``intake``: the same policy plus six lead types with an SLA calendar (working-time
  deadlines), known sources, per-code actions and eight scoring rules over behaviour
  events (four events per lead, with decay and caps).

The leads carry messy input (``United Kingdom``, ``+44 (0)20 ...`` phones, mixed-case
emails), so normalization does real work in both paths.

Usage: uv run python benchmarks/intake_latency.py --leads 2000 [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import structlog

from leadroute.host import make_host
from leadroute.models import AccountIndex, Capacity, Lead, LeadEvent, Rep
from leadroute.pipeline import Pipeline
from leadroute.policy import parse_policy
from leadroute.strategies import Ledger

AT = datetime(2026, 11, 6, 15, tzinfo=UTC)
BASE = """
version: bench
regions: {NA: [US, CA], EMEA: [GB, DE, FR]}
pools: [{name: all, strategy: round_robin}]
routing: [{name: all, pool: all}]
fallback: {owner: ops}
nurture: {owner: ops}
"""
INTAKE = """
validation:
  sources: [web, paid_search, organic, event, partner]
  actions: {INVALID_PHONE: flag, FREE_MAIL_ON_BUSINESS_FORM: flag}
lead_types:
  calendar: {timezone: Europe/London, days: {mon-fri: "09:00-17:30"}, holidays: GB}
  default: contact
  types:
    - {name: partner, when: {source: partner}, sla: 8h, priority: 2}
    - {name: demo, when: {lead_type: [demo, "book a demo"]}, sla: 1h, priority: 1, business_only: true}
    - {name: quote, when: {lead_type: quote}, sla: 2h, priority: 1, business_only: true}
    - {name: trial, when: {lead_type: trial}, sla: 4h, priority: 2}
    - {name: content, when: {lead_type: content}, sla: 24h, priority: 4}
    - {name: contact, sla: 8h}
scoring:
  mql: 60
  sql: 90
  half_life: 14d
  caps: {fit: 30, behaviour: 50}
  rules:
    - {name: big, group: fit, when: {employees: {gte: 200}}, points: 20}
    - {name: mid, group: fit, when: {employees: {gte: 50, lt: 200}}, points: 10}
    - {name: hand-raiser, group: intent, when: {lead_type: [demo, quote]}, points: 40}
    - {name: demo-request, group: intent, event: demo_request, points: 40}
    - {name: pricing, group: behaviour, event: pricing_page, points: 15}
    - {name: visits, group: behaviour, event: page_visit, points: 1, cap: 15}
    - {name: downloads, group: behaviour, event: content_download, points: 5}
    - {name: webinars, group: behaviour, event: webinar, points: 8}
"""
COUNTRIES = ("US", "United Kingdom", "UK", "GB", "Germany", "DE", "France", "ca")
PHONES = ("+44 (0)20 7946 0958", "(415) 555-0132", "030 901820", "")
KINDS = ("page_visit", "pricing_page", "content_download", "webinar", "demo_request")


def team(n: int) -> list[Rep]:
    return [
        *(Rep(id=f"r{i}", pools=("all",), capacity=Capacity(max_open=10**6)) for i in range(n)),
        Rep(id="ops"),
    ]


def leads(n: int, rng: random.Random) -> list[Lead]:
    return [
        Lead(
            id=f"L{i}",
            email=f"Jane.Doe{i}+promo@Company{i}.COM",
            country=rng.choice(COUNTRIES),
            phone=rng.choice(PHONES),
            employees=rng.choice((20, 150, 900)),
            lead_type=rng.choice(("demo", "quote", "trial", "content", "contact")),
            source=rng.choice(("web", "organic", "partner", "referral")),
            events=tuple(
                LeadEvent(kind=rng.choice(KINDS), at=AT - timedelta(hours=rng.randint(1, 900)))
                for _ in range(4)
            ),
        )
        for i in range(n)
    ]


def run(policy_text: str, reps: list[Rep], stream: list[Lead]) -> list[float]:
    pipeline = Pipeline.build(
        make_host(load_entrypoints=False),
        parse_policy(policy_text),
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


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6,
        "mean_us": statistics.fmean(ordered) * 1e6,
    }


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reps, stream = team(args.reps), leads(args.leads, random.Random(args.seed))
    run(BASE, reps, stream[:50])  # warm imports and caches for both paths
    run(BASE + INTAKE, reps, stream[:50])
    baseline = percentiles(run(BASE, reps, stream))
    intake = percentiles(run(BASE + INTAKE, reps, stream))
    result = {
        "leads": args.leads,
        "reps": args.reps,
        "baseline": baseline,
        "intake": intake,
        "ratio_p50": intake["p50_us"] / baseline["p50_us"],
        "ratio_p99": intake["p99_us"] / baseline["p99_us"],
        "added_p50_us": intake["p50_us"] - baseline["p50_us"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.leads} leads, {args.reps} reps: baseline p50 {baseline['p50_us']:.0f} µs, "
            f"intake p50 {intake['p50_us']:.0f} µs (x{result['ratio_p50']:.2f}), "
            f"p99 x{result['ratio_p99']:.2f}"
        )


if __name__ == "__main__":
    main()
