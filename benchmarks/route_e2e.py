"""End to end: ``leadroute route`` over a generated CSV, against the pipeline alone.

A generated company (``--leads`` leads, ``--reps`` reps over 16 territories and 3
segments, about 20 reps eligible per lead, as in ``route_latency.py --instance
realistic``) is written as ``leads.csv`` and ``reps.csv``. Two runs, in this process:

* ``pipeline``: the CSV adapter reads the files, then a fresh ``Pipeline`` decides every
  lead (online: ``Pipeline.decide`` one by one; ``--batch``: ``prepare``, the joint solve,
  ``finish``) with no store and no outputs: the decision time of these leads.
* ``cli``: the ``leadroute route`` command (typer, in-process, ``--json``) on a new store:
  read, decide, commit (grouped), relay the owner writes into ``assignments.csv``, write
  ``exceptions.csv``. Its time is split by where it went (read, decide, commit, relay and
  its file writes, the rest), measured inside the same run.

Reported, in CPU seconds of this process (the box is shared; wall time waits for cores):
leads per second end to end, ``cli / pipeline`` (the target is at most 1.5: store and
outputs cost at most half as much as deciding), and ``cli / decide in the same run``.

Usage: uv run python benchmarks/route_e2e.py --leads 100000 --reps 1000 [--batch]
       [--group-size 500] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from typer.testing import CliRunner

from leadroute import usecases
from leadroute.adapters import AdapterConfig
from leadroute.cli import app
from leadroute.host import PluginHost, make_host
from leadroute.models import AccountIndex
from leadroute.pipeline import Pipeline
from leadroute.policy import load_policy
from leadroute.store import Store
from leadroute.strategies import Ledger
from leadroute.usecases.batch import solve_batch
from leadroute_csv.adapter import CsvAdapter

AT = "2026-11-02T09:00:00Z"
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
SEGMENTS = ("smb", "mid", "enterprise")
POLICY = """
version: bench-e2e
regions: {NA: [US, CA], EMEA: [GB, DE, AT, CH, FR, BE, SE, "NO", DK, FI, ES, PT, NL, LU],
          APAC: [AU, NZ, JP, SG, MY]}
segments:
  - {name: smb, max_employees: 199}
  - {name: mid, min_employees: 200, max_employees: 1999}
  - {name: enterprise, min_employees: 2000}
pools: [{name: all, strategy: round_robin}]
routing: [{name: all, pool: all}]
fallback: {owner: ops}
duplicates: {enabled: false}
territories:
""" + "".join(
    f"  {name}: {{keys: [{', '.join(repr(k) for k in keys)}]}}\n"
    for name, keys in TERRITORIES.items()
)
REP_HEADER = ("id", "name", "active", "territories", "languages", "segments", "pools")
LEAD_HEADER = ("id", "email", "company", "country", "state", "employees", "language", "postal_code")


def write_company(folder: Path, leads: int, reps: int, seed: int) -> None:
    """The policy, reps.csv and leads.csv of the generated company."""
    rng = random.Random(seed)
    names = list(TERRITORIES)
    (folder / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    with (folder / "reps.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(REP_HEADER)
        for i in range(reps):
            territory = names[i % len(names)]
            language = LANGUAGES.get(territory)
            out.writerow(
                (
                    f"r{i}",
                    f"Rep {i}",
                    "true" if rng.random() > 0.05 else "false",
                    territory,
                    f"{language};en" if language else "en",
                    SEGMENTS[(i // len(names)) % 3],
                    "all",
                )
            )
        out.writerow(("ops", "Ops Queue", "true", "", "en", "", ""))
    with (folder / "leads.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(LEAD_HEADER)
        for i in range(leads):
            territory = rng.choice(names)
            key = rng.choice(TERRITORIES[territory])
            country, _, rest = key.partition(":") if ":" in key else key.partition("-")
            state = rest if "-" in key else ""
            postal = rng.choice([p for p in UK_POSTAL if p.startswith(rest)]) if ":" in key else ""
            language = LANGUAGES.get(territory, "en") if rng.random() < 0.8 else "en"
            out.writerow(
                (
                    f"L{i}",
                    f"x{i}@c{i}.com",
                    f"Company {i}",
                    country,
                    state,
                    rng.choice((20, 150, 900, 5000)),
                    language,
                    postal,
                )
            )


class Clocks:
    """CPU seconds spent inside named calls (a name's outermost call only: a call nested in
    a call of the same name counts once).

    CPU time, not wall time: the box is shared, and time spent waiting for a core says
    nothing about leadroute (the wall time of the whole run is reported beside it).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth[name] += 1
            started = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self._depth[name] -= 1
                if self._depth[name] == 0:
                    self.seconds[name] += time.process_time() - started

        return timed


@contextmanager
def patched(owner: Any, name: str, clocks: Clocks, label: str) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, clocks.wrap(label, original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def read(folder: Path, host: PluginHost) -> Any:
    config = AdapterConfig(
        policy=load_policy(folder / "leadroute.yaml"),
        options={"input_dir": str(folder), "output_dir": str(folder / "out")},
        workdir=folder,
    )
    return CsvAdapter.from_config(config).read()


def pipeline_alone(folder: Path, *, batch: bool) -> dict[str, float]:
    """Read the files, then decide every lead on a fresh pipeline: no store, no outputs."""
    host = make_host()
    started = time.process_time()
    snapshot = read(folder, host)
    read_s = time.process_time() - started
    policy = host.configure(load_policy(folder / "leadroute.yaml"))
    pipeline = Pipeline.build(
        host,
        policy,
        list(snapshot.reps),
        AccountIndex.build(list(snapshot.accounts)),
        assigned={},
        ledger=Ledger({}, 0),
    )
    at = datetime.fromisoformat(AT.replace("Z", "+00:00")).astimezone(UTC)
    started = time.process_time()
    if batch:
        outcomes = [pipeline.prepare(lead, at) for lead in snapshot.leads]
        engine = _SolveOnly(pipeline, host, policy)
        solve_batch(engine, outcomes)  # type: ignore[arg-type]
    else:
        for lead in snapshot.leads:
            pipeline.decide(lead, at)
    return {"read_s": read_s, "decide_s": time.process_time() - started}


class _SolveOnly:
    """What ``solve_batch`` reads of an engine, without a store (prices are kept here)."""

    def __init__(self, pipeline: Pipeline, host: PluginHost, policy: Any) -> None:
        self.pipeline, self.host, self.policy = pipeline, host, policy

    @staticmethod
    def clock() -> datetime:
        return datetime.now(UTC)

    def publish_prices(self, prices: Any, at: datetime) -> None:
        self.pipeline.prices = dict(prices)


def cli_run(folder: Path, *, batch: bool, group_size: int) -> dict[str, Any]:
    """``leadroute route`` in-process on a new store; where its time went."""
    clocks = Clocks()
    store = folder / f"store-{'batch' if batch else 'online'}.db"
    out = folder / f"out-{'batch' if batch else 'online'}"
    out.mkdir(exist_ok=True)
    args = ["route", "--policy", str(folder / "leadroute.yaml"), "--input", str(folder)]
    args += ["--out", str(out), "--store", str(store), "--init", "--at", AT, "--json"]
    if batch:
        args.append("--batch")
    decide = ("prepare", "finish", "resume") if batch else ("decide",)
    with (
        patched(CsvAdapter, "read", clocks, "read"),
        patched(Store, "commit", clocks, "commit"),
        patched(CsvAdapter, "apply", clocks, "write_outputs"),
        patched(CsvAdapter, "report_problems", clocks, "write_exceptions"),
        patched(Store, "mark_effects", clocks, "mark_effects"),
        patched(usecases.relay, "relay", clocks, "relay"),
        patched(PluginHost, "solve", clocks, "decide"),
        _group_size(group_size),
        _all(Pipeline, decide, clocks, "decide"),
    ):
        started, wall = time.process_time(), time.perf_counter()
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        total, wall = time.process_time() - started, time.perf_counter() - wall
    if result.exit_code != 0:
        raise SystemExit(f"route exited {result.exit_code}: {result.output[-2000:]}")
    counts = json.loads(result.stdout)["counts"]
    split = dict(clocks.seconds)
    split["relay_other"] = (
        split.pop("relay", 0.0) - split.get("write_outputs", 0.0) - split.get("mark_effects", 0.0)
    )
    split["other"] = (
        total
        - sum(split.get(k, 0.0) for k in ("read", "decide", "commit", "write_exceptions"))
        - split.get("write_outputs", 0.0)
        - split.get("mark_effects", 0.0)
        - split["relay_other"]
    )
    return {"total_s": total, "wall_s": wall, "split_s": split, "counts": counts}


@contextmanager
def _group_size(size: int) -> Iterator[None]:
    """Run the CLI with another commit group size (the default is ``GROUP_SIZE``)."""
    route = usecases.route
    original = route.__kwdefaults__["group_size"]  # type: ignore[index]
    route.__kwdefaults__["group_size"] = size  # type: ignore[index]
    try:
        yield
    finally:
        route.__kwdefaults__["group_size"] = original  # type: ignore[index]


@contextmanager
def _all(owner: Any, names: tuple[str, ...], clocks: Clocks, label: str) -> Iterator[None]:
    originals = {n: getattr(owner, n) for n in names}
    for n, f in originals.items():
        setattr(owner, n, clocks.wrap(label, f))
    try:
        yield
    finally:
        for n, f in originals.items():
            setattr(owner, n, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--group-size", type=int, default=usecases.GROUP_SIZE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_company(folder, opts.leads, opts.reps, opts.seed)
        alone = pipeline_alone(folder, batch=opts.batch)
        cli = cli_run(folder, batch=opts.batch, group_size=opts.group_size)
    decide_in_run = cli["split_s"].get("decide", 0.0)
    report = {
        "mode": "batch" if opts.batch else "online",
        "leads": opts.leads,
        "reps": opts.reps,
        "group_size": opts.group_size,
        "pipeline": alone,
        "cli": cli,
        "leads_per_s": opts.leads / cli["total_s"],
        "cli_over_pipeline": cli["total_s"] / (alone["read_s"] + alone["decide_s"]),
        "cli_over_decide_in_run": cli["total_s"] / decide_in_run if decide_in_run else None,
    }
    if opts.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(f"{report['mode']}: {opts.leads} leads, {opts.reps} reps, groups of {opts.group_size}")
    print("  (CPU seconds; the box is shared)")
    print(f"  pipeline alone: read {alone['read_s']:.1f} s, decide {alone['decide_s']:.1f} s")
    print(
        f"  cli route:      {cli['total_s']:.1f} s = {report['leads_per_s']:.0f} leads/s "
        f"(wall {cli['wall_s']:.1f} s)"
    )
    for name, seconds in sorted(cli["split_s"].items(), key=lambda kv: -kv[1]):
        print(f"    {name:<17} {seconds:7.1f} s")
    print(f"  cli / pipeline alone:      {report['cli_over_pipeline']:.2f}")
    print(f"  cli / decide in the run:   {report['cli_over_decide_in_run']:.2f}")


if __name__ == "__main__":
    main()
