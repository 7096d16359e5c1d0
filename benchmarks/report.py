"""Cost of ``leadroute report`` over a history, against reading that history from the store.

One synthetic history (decisions from a round-robin pool, 2-3 outcomes per lead, a few
rejected rows) is written to a temporary SQLite store, then timed in this process:

* ``load``: ``History.load`` (every decision's JSON payload decoded, every outcome read):
  the floor, since any report must read the history.
* ``metrics``: ``compute_report`` (facts, every metric, every group) on the loaded history.
* ``exceptions``: ``exception_rows`` on the report.
* ``dashboard``: rendering the HTML (charts serialised, plotly.js inlined).

Usage: uv run python benchmarks/report.py --leads 2000 [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from leadroute.models import (
    Capacity,
    Decision,
    DecisionStatus,
    InputProblem,
    Outcome,
    OutcomeKind,
    Rep,
    RouteStep,
    decision_id_for,
)
from leadroute.policy import parse_policy
from leadroute.reporting import History, compute_report, exception_rows
from leadroute.reporting.dashboard import render_dashboard
from leadroute.store import Store
from leadroute.store.outcomes import record_outcome, save_problems

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
POLICY = parse_policy(
    "version: bench\npools: [{name: p, strategy: round_robin}]\n"
    "routing: [{name: all, when: {country: US}, pool: p}]\nfallback: {owner: q}\n"
    "reporting: {sla_by_type: {demo: 15m}}\n"
)
TYPES = ("demo", "contact", "content", "trial")
SOURCES = ("web", "organic", "paid_search", "event")


def build(store: Store, leads: int, reps: int, rng: random.Random) -> None:
    """Write ``leads`` decisions over 30 days and their outcomes."""
    for i in range(leads):
        at = NOW - timedelta(seconds=rng.randint(60, 30 * 86400))
        fallback = rng.random() < 0.03
        d = Decision(
            id=decision_id_for(f"L{i}", 1),
            lead_id=f"L{i}",
            status=DecisionStatus.FALLBACK if fallback else DecisionStatus.ROUTED,
            owner_id="q" if fallback else f"r{i % reps}",
            step=RouteStep.FALLBACK if fallback else RouteStep.POOL,
            rule="" if fallback else "all",
            pool="" if fallback else "p",
            policy_version="bench",
            decided_at=at,
            features={
                "lead_type": rng.choice(TYPES),
                "source": rng.choice(SOURCES),
                "created_at": str(at - timedelta(seconds=rng.randint(1, 300))),
            },
        )
        store.record(d, [])
        if fallback or rng.random() < 0.15:
            continue
        touch = at + timedelta(minutes=rng.randint(1, 120))
        rep = d.owner_id
        record_outcome(
            store,
            Outcome(
                kind=OutcomeKind.ACCEPTED,
                lead_id=d.lead_id,
                rep_id=rep,
                at=at + timedelta(minutes=1),
            ),
        )
        record_outcome(
            store, Outcome(kind=OutcomeKind.FIRST_TOUCH, lead_id=d.lead_id, rep_id=rep, at=touch)
        )
        if rng.random() < 0.25:
            record_outcome(
                store,
                Outcome(
                    kind=OutcomeKind.MEETING_BOOKED,
                    lead_id=d.lead_id,
                    rep_id=rep,
                    at=touch + timedelta(hours=5),
                ),
            )
    save_problems(
        store,
        "bench",
        [
            InputProblem(
                file="leads.csv",
                line=i + 2,
                record_id=f"X{i}",
                kind="lead",
                field="email",
                code="MISSING_FIELD",
                message="required field 'email' is empty",
            )
            for i in range(leads // 100)
        ],
    )


def timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reps = [
        Rep(id=f"r{i}", pools=("p",), capacity=Capacity(max_open=400)) for i in range(args.reps)
    ]
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        build(store, args.leads, args.reps, random.Random(args.seed))
        history, load_s = timed(History.load, store)
    report, metrics_s = timed(
        compute_report, history, POLICY, as_of=NOW, window=timedelta(days=30), reps=reps
    )
    rows, exceptions_s = timed(exception_rows, report.facts, history.problems, POLICY, NOW)
    html, dashboard_s = timed(render_dashboard, report, rows)
    result = {
        "leads": args.leads,
        "outcomes": len(history.outcomes),
        "load_s": round(load_s, 3),
        "metrics_s": round(metrics_s, 3),
        "exceptions_s": round(exceptions_s, 3),
        "dashboard_s": round(dashboard_s, 3),
        "metrics_over_load": round(metrics_s / load_s, 2),
        "dashboard_over_load": round(dashboard_s / load_s, 2),
        "dashboard_mb": round(len(html.encode()) / 2**20, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
