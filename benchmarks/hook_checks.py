"""What checking hook results costs on the hot path: the facade as shipped against the same
facade with its result checks taken out, in one process, on the route_latency instance.

``PluginHost`` checks every item a collect hook returns (a ``FitContribution`` from
``leadroute_score_fit``, an ``Exclusion`` from ``leadroute_exclude_rep``...) so a plugin
returning the wrong type is a one-line ``PluginError`` naming it, and names the plugin of
a hook that raised only after the fact. The baseline here replaces the checked collect
with the unchecked flatten the facade had before (``[item for r in results if r for item
in r]``). Both variants decide the same leads alternately, several rounds each, and the
ratio of their CPU medians is reported.

Usage: uv run python benchmarks/hook_checks.py [--reps 1000] [--leads 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import time
from collections.abc import Mapping
from typing import Any

import structlog
from route_latency import AT, INSTANCES, WARMUP

from leadroute.host import PluginHost, make_host
from leadroute.models import AccountIndex, Lead, Rep
from leadroute.pipeline import Pipeline
from leadroute.policy import parse_policy
from leadroute.strategies import Ledger


def _unchecked(
    self: PluginHost, hook_name: str, kwargs: Mapping[str, Any], kind: type
) -> list[Any]:
    return [item for result in self._call(hook_name, kwargs) if result for item in result]


def cpu_per_lead(policy_text: str, reps: list[Rep], stream: list[Lead]) -> list[float]:
    pipeline = Pipeline.build(
        make_host(load_entrypoints=False),
        parse_policy(policy_text),
        reps,
        AccountIndex.build([]),
        assigned={},
        ledger=Ledger({}, 0),
    )
    times = []
    for lead in stream:
        start = time.thread_time()
        pipeline.decide(lead, AT)
        times.append(time.thread_time() - start)
    return times[WARMUP:]


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy_text, make_team, make_leads = INSTANCES["realistic"]
    reps, stream = make_team(args.reps, rng), make_leads(args.leads, rng)
    checked_items = PluginHost._items
    samples: dict[str, list[float]] = {"checked": [], "unchecked": []}
    for _ in range(args.rounds):
        for variant in ("unchecked", "checked"):
            PluginHost._items = _unchecked if variant == "unchecked" else checked_items  # type: ignore[method-assign]
            samples[variant] += cpu_per_lead(policy_text, reps, stream)
    PluginHost._items = checked_items  # type: ignore[method-assign]
    result = {
        name: {
            "cpu_p50_us": round(statistics.median(times) * 1e6, 1),
            "cpu_p99_us": round(statistics.quantiles(times, n=100)[98] * 1e6, 1),
        }
        for name, times in samples.items()
    }
    result["ratio_cpu_p50"] = round(
        result["checked"]["cpu_p50_us"] / result["unchecked"]["cpu_p50_us"], 4
    )
    result["ratio_cpu_p99"] = round(
        result["checked"]["cpu_p99_us"] / result["unchecked"]["cpu_p99_us"], 4
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
