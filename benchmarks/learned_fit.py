"""Back-test of the learned fit: train on earlier days, route later days, score by the truth.

The company is the demo's (Northwind Analytics: its policy, reps and accounts), with
leads generated day by day by the demo's lead generator. Reps have a latent skill by
segment and product (``leadroute.demo.skill``) that decides, with the demo's activity
simulation, whether a touched lead books a meeting and converts; routing never sees it.
Daily caps replace the open-lead caps (a two-month history would otherwise fill every
rep), so capacity binds and the optimizer must trade fit against it.

1. **Training days**: leads are routed live under the rules as configured, and the reps'
   activity is simulated from the latent skill; the outcomes go to the store.
2. ``leadroute fit train`` (``train_from_store``) learns a model from that store, as of the
   end of the training days.
3. **Held-out days**: the same leads are routed four times from a copy of the training
   store, one day at a time: every pool ``round_robin``; the rules as configured; the
   batch optimizer (min-cost flow, ``route --batch`` per day) with the built-in fit only;
   and the batch optimizer with ``fit.learned``.
4. Each routing is scored by its **expected conversions under the truth** (the chance of
   a touch times the owner's latent chance for the lead), as ratios to round robin. On
   the rules' routing, each lead's simulated outcome is compared with the model's
   prediction: calibration by predicted-chance bin, and log loss against the training
   base rate (and against the truth, the floor).

Usage: uv run python benchmarks/learned_fit.py [--train-days 30] [--test-days 10]
       [--leads-per-day 100] [--target meeting_booked] [--weight 10] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import structlog

from leadroute.adapters import AdapterConfig
from leadroute.demo import write_demo
from leadroute.demo.activity import CONVERT_CHANCE, MEETING_CHANCE, TOUCH_DELAYS, _events
from leadroute.demo.generate import _lead, industry_of
from leadroute.demo.skill import chance, latent_skill
from leadroute.host import make_host
from leadroute.models import (
    Capacity,
    Decision,
    DecisionStatus,
    Lead,
    Outcome,
    OutcomeKind,
    Snapshot,
)
from leadroute.policy import Policy, Strategy, load_policy
from leadroute.router import Router
from leadroute.store import Store
from leadroute.store.outcomes import decision_history, record_outcome
from leadroute_csv.adapter import CsvAdapter
from leadroute_learned_fit import plugin as learned_plugin
from leadroute_learned_fit.command import train_from_store
from leadroute_learned_fit.model import DIMENSIONS

START = datetime(2026, 9, 1, tzinfo=UTC)
TOUCHED = sum(share for share, *_ in TOUCH_DELAYS)  # chance a lead is ever touched
STAGES = {"meeting_booked": ("meeting_booked",), "opportunity": ("meeting_booked", "converted")}


def _quiet() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def company(folder: Path, seed: int) -> tuple[Policy, Snapshot]:
    """The demo's policy, reps (daily caps instead of open-lead caps) and accounts."""
    files = write_demo(folder, seed=seed)
    policy = load_policy(files.policy)
    snap = CsvAdapter.from_config(
        AdapterConfig(policy=policy, options={"input_dir": str(folder)}, workdir=folder)
    ).read()
    reps = tuple(
        attrs.evolve(
            r,
            open_leads=0,
            capacity=Capacity(per_day=max(2, (r.capacity.max_open or 20) // 4)),
        )
        for r in snap.reps
    )
    return policy, attrs.evolve(snap, reps=reps, leads=(), outcomes=())


def daily_leads(days: int, per_day: int, seed: int, accounts: Sequence[Any]) -> list[list[Lead]]:
    """``days`` lists of leads from the demo generator, created through each day."""
    rng = random.Random(f"{seed}:history")
    rows = [(a.id, a.name, a.domain, a.owner_id, a.status, "US") for a in accounts]
    result = []
    index = 1000
    for day in range(days):
        leads = []
        for _ in range(per_day):
            index += 1
            row = _lead(rng, index, START, rows)
            created = START + timedelta(days=day, seconds=rng.randint(8 * 3600, 18 * 3600))
            leads.append(
                Lead(
                    id=f"H-{index:05d}",
                    email=row["email"],
                    company=row["company"],
                    country=row["country"],
                    state=row["state"],
                    employees=int(row["employees"]),
                    language=row["language"],
                    product=row["product"],
                    lead_type=row["lead_type"],
                    source=row["source"],
                    created_at=created,
                    attributes={"industry": industry_of(row["company"])},
                )
            )
        result.append(sorted(leads, key=lambda lead: (lead.created_at, lead.id)))
    return result


def route_days(
    policy: Policy, store_path: Path, snap: Snapshot, days: Sequence[list[Lead]], *, batch: bool
) -> list[Decision]:
    """Route each day's leads as of the end of that day; the new decisions, in order."""
    host = make_host(load_entrypoints=False, plugins=[learned_plugin])
    decided: list[Decision] = []
    for leads in days:
        end = max(lead.created_at for lead in leads if lead.created_at) + timedelta(hours=1)
        with Router(policy, store=Store.open(store_path), host=host, clock=lambda e=end: e) as r:
            result = r.route(
                attrs.evolve(snap, leads=tuple(leads)),
                batch=batch,
                arrival=lambda lead, e=end: lead.created_at or e,
            )
        decided += [d for d in result.decisions if d.id in result.new_ids]
    return decided


def simulate(
    decisions: Sequence[Decision], skill: Any, seed: int, until: datetime
) -> list[Outcome]:
    """The reps' activity on these decisions (the demo's simulation), up to ``until``."""
    outcomes = []
    for d in decisions:
        rng = random.Random(f"{seed}:{d.lead_id}")
        for at, rep, kind, _ in _events(d, rng, skill):
            if at <= until and kind in {k.value for k in OutcomeKind}:
                outcomes.append(
                    Outcome(kind=OutcomeKind(kind), lead_id=d.lead_id, rep_id=rep, at=at)
                )
    return outcomes


def true_chance(d: Decision, skill: Any, target: str) -> float:
    """The owner's true chance of reaching the target on this lead (0 for a queue)."""
    if d.status != DecisionStatus.ROUTED or d.step in ("fallback", "nurture"):
        return 0.0
    seg, prod = d.features.get("segment", ""), d.features.get("product", "")
    p = TOUCHED * chance(MEETING_CHANCE, skill, d.owner_id, seg, prod)
    if target == "opportunity":
        p *= chance(CONVERT_CHANCE, skill, d.owner_id, seg, prod)
    return p


def reached(outcomes: Sequence[Outcome], target: str) -> set[str]:
    kinds = {"meeting_booked": {"meeting_booked", "converted"}, "opportunity": {"converted"}}[
        target
    ]
    return {o.lead_id for o in outcomes if str(o.kind) in kinds}


def log_loss(pairs: Sequence[tuple[float, int]]) -> float:
    eps = 1e-9
    return -sum(
        y * math.log(max(p, eps)) + (1 - y) * math.log(max(1 - p, eps)) for p, y in pairs
    ) / len(pairs)


def calibration(pairs: Sequence[tuple[float, int]], bins: int = 5) -> list[dict[str, float]]:
    """Predicted vs observed rate per quantile bin of the prediction."""
    ordered = sorted(pairs)
    size = math.ceil(len(ordered) / bins)
    table = []
    for i in range(0, len(ordered), size):
        chunk = ordered[i : i + size]
        table.append(
            {
                "leads": len(chunk),
                "predicted": round(sum(p for p, _ in chunk) / len(chunk), 4),
                "observed": round(sum(y for _, y in chunk) / len(chunk), 4),
            }
        )
    return table


def run(args: argparse.Namespace) -> dict[str, Any]:
    _quiet()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        policy, snap = company(root / "company", args.seed)
        skill = latent_skill([r.id for r in snap.reps], args.seed)
        days = daily_leads(
            args.train_days + args.test_days, args.leads_per_day, args.seed, snap.accounts
        )
        train_days, test_days = days[: args.train_days], days[args.train_days :]
        train_end = START + timedelta(days=args.train_days)
        trained_store = root / "train.db"
        route_days(policy, trained_store, snap, train_days, batch=False)
        with Store.open(trained_store) as store:
            for outcome in simulate(decision_history(store), skill, args.seed, train_end):
                record_outcome(store, outcome)
            model = train_from_store(
                store,
                target=args.target,
                as_of=train_end,
                half_life=timedelta(days=90),
                mature_after=timedelta(days=3),
            )
        model_path = root / "company" / "model.json"
        model_path.write_text(model.to_json(), encoding="utf-8")
        policy_text = (root / "company" / "leadroute.yaml").read_text(encoding="utf-8")
        learned_text = policy_text.replace(
            "fit:\n  weights: {language: 1.0, product: 1.0, headroom: 0.5}",
            "fit:\n  weights: {language: 1.0, product: 1.0, headroom: 0.5}\n"
            f"  learned: {{model: model.json, weight: {args.weight}, min_evidence: 20}}",
        )
        (root / "company" / "learned.yaml").write_text(learned_text, encoding="utf-8")
        learned_policy = load_policy(root / "company" / "learned.yaml")
        assert learned_policy.fit.learned is not None, "the demo policy's fit section moved"
        round_robin = attrs.evolve(
            policy,
            pools=tuple(attrs.evolve(p, strategy=Strategy.ROUND_ROBIN) for p in policy.pools),
        )
        arms: dict[str, tuple[Policy, bool]] = {
            "round_robin": (round_robin, False),
            "rules_as_configured": (policy, False),
            # The optimizer alone (built-in fit only), to tell its share from the model's.
            "optimizer_builtin_fit": (policy, True),
            "optimizer_learned_fit": (learned_policy, True),
        }
        routed: dict[str, list[Decision]] = {}
        for name, (arm_policy, batch) in arms.items():
            path = root / f"{name}.db"
            shutil.copy(trained_store, path)
            routed[name] = route_days(arm_policy, path, snap, test_days, batch=batch)
    expected = {
        name: sum(true_chance(d, skill, args.target) for d in decisions)
        for name, decisions in routed.items()
    }
    base = expected["round_robin"]
    # Held-out calibration on the rules' routing: predicted chance vs simulated outcome.
    rules = [d for d in routed["rules_as_configured"] if true_chance(d, skill, args.target) > 0]
    test_end = START + timedelta(days=args.train_days + args.test_days + 7)
    hits = reached(simulate(rules, skill, args.seed + 1, test_end), args.target)
    pairs, oracle = [], []
    for d in rules:
        features = {k: d.features[k] for k in DIMENSIONS if d.features.get(k)}
        p = model.predict(d.owner_id, features, 20).rate
        y = int(d.lead_id in hits)
        pairs.append((p, y))
        oracle.append((true_chance(d, skill, args.target), y))
    base_rate = [(model.global_rate, y) for _, y in pairs]
    return {
        "train_days": args.train_days,
        "test_days": args.test_days,
        "leads_per_day": args.leads_per_day,
        "target": args.target,
        "weight": args.weight,
        "training_examples": model.examples,
        "training_positives": model.positives,
        "shrinkage_strength": {k: round(v, 1) for k, v in model.strength.items()},
        "held_out_leads": {name: len(ds) for name, ds in routed.items()},
        "expected_conversions": {name: round(v, 1) for name, v in expected.items()},
        "ratio_to_round_robin": {name: round(v / base, 4) for name, v in expected.items()},
        "calibration": calibration(pairs),
        "log_loss": {
            "learned": round(log_loss(pairs), 4),
            "base_rate": round(log_loss(base_rate), 4),
            "truth": round(log_loss(oracle), 4),
        },
        "log_loss_ratio_to_base_rate": round(log_loss(pairs) / log_loss(base_rate), 4),
        "observed_rate_held_out": round(sum(y for _, y in pairs) / len(pairs), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: Sequence[str] | None = None, emit: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-days", type=int, default=30)
    parser.add_argument("--test-days", type=int, default=10)
    parser.add_argument("--leads-per-day", type=int, default=100)
    parser.add_argument("--target", choices=sorted(STAGES), default="meeting_booked")
    parser.add_argument("--weight", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        emit(json.dumps(result, indent=2))
        return
    emit(f"expected {args.target} on {args.test_days} held-out days (ratio to round robin):")
    for name, value in result["expected_conversions"].items():
        emit(f"  {name:24} {value:8.1f}  {result['ratio_to_round_robin'][name]:.3f}x")
    emit("calibration (held out, rules' routing): predicted -> observed")
    for row in result["calibration"]:
        emit(f"  {row['predicted']:.3f} -> {row['observed']:.3f}  ({row['leads']} leads)")
    ll = result["log_loss"]
    emit(f"log loss: learned {ll['learned']}, base rate {ll['base_rate']}, truth {ll['truth']}")


if __name__ == "__main__":
    main()
