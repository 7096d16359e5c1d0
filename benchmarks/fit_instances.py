"""Batch instances whose fit is the product's own: the demo company's rules, reps and fit.

``product_problem`` scales the demo company (its policy, pools and rep profiles) to ``m``
reps and draws ``n`` leads a day from the demo's lead generator. Each lead goes through
the routing pipeline up to its pool (``Pipeline.prepare``: validation, account owner,
rule, hard constraints, availability), and the waiting leads become the batch problem:
the candidates and their fit come from the built-in fit plugin (language, product,
headroom, weighted by the demo's policy), and with ``learned=True`` also from the
``leadroute-learned-fit`` plugin, with a model trained by the plugin's own ``train`` on a
simulated history (the demo's latent rep skill decides who books meetings).

Two days share the team (``seed``) and differ in their leads (``day``), so prices learnt
on one day are tested on the next, as ``benchmarks/assign.py`` does with its synthetic
instance.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from leadroute.adapters import AdapterConfig
from leadroute.demo import write_demo
from leadroute.demo.activity import MEETING_CHANCE, TOUCH_DELAYS
from leadroute.demo.generate import _lead, industry_of
from leadroute.demo.skill import chance, latent_skill
from leadroute.host import make_host
from leadroute.models import AccountIndex, Capacity, Lead, Rep
from leadroute.pipeline import Pending, Pipeline
from leadroute.policy import load_policy
from leadroute.solver import BatchProblem
from leadroute.strategies import Ledger
from leadroute_csv.adapter import CsvAdapter
from leadroute_learned_fit import plugin as learned_plugin
from leadroute_learned_fit.model import DIMENSIONS, Example, train

__all__ = ["product_problem"]

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
TOUCHED = sum(share for share, *_ in TOUCH_DELAYS)
REACH = 0.65
HISTORY = 4000  # leads in the simulated history the learned model is trained on


def _team(folder: Path, m: int, n: int, seed: int) -> tuple[str, list[Rep], list]:
    """The demo's policy text and accounts, its sales reps copied up to ``m``, caps for ``n``."""
    files = write_demo(folder, seed=7)
    policy = load_policy(files.policy)
    snap = CsvAdapter.from_config(
        AdapterConfig(policy=policy, options={"input_dir": str(folder)}, workdir=folder)
    ).read()
    sales = [r for r in snap.reps if r.pools and r.active]
    others = [r for r in snap.reps if not r.pools]
    rng = random.Random(f"{seed}:team")
    # About 110% of the leads that reach a pool (about 65% of the demo's leads: the rest
    # go to nurture, their account's owner or the fallback queue), spread over the reps.
    room = 1.1 * REACH * n / m
    reps = []
    for i in range(m):
        base = sales[i % len(sales)]
        free = max(1, round(room * rng.uniform(0.5, 1.5)))
        held = rng.randint(0, free)  # what the rep already holds: headroom differs
        reps.append(
            attrs.evolve(
                base,
                id=base.id if i < len(sales) else f"{base.id}-{i // len(sales)}",
                backup_id="",
                open_leads=held,
                capacity=Capacity(max_open=free + held),
            )
        )
    return files.policy.read_text(encoding="utf-8"), [*reps, *others], list(snap.accounts)


def _leads(n: int, seed: int, day: int, accounts: list) -> list[Lead]:
    rng = random.Random(f"{seed}:{day}:leads")
    rows = [(a.id, a.name, a.domain, a.owner_id, a.status, "US") for a in accounts]
    leads = []
    for i in range(n):
        row = _lead(rng, 10_000 + i, START, rows)
        leads.append(
            Lead(
                id=f"D{day}-{i:06d}",
                email=row["email"],
                company=row["company"],
                country=row["country"],
                state=row["state"],
                employees=int(row["employees"]),
                language=row["language"],
                product=row["product"],
                lead_type=row["lead_type"],
                source=row["source"],
                created_at=START + timedelta(days=day),
                attributes={"industry": industry_of(row["company"])},
            )
        )
    return leads


def _pending(pipeline: Pipeline, leads: list[Lead], at: datetime) -> list[Pending]:
    out = []
    for lead in leads:
        prepared = pipeline.prepare(lead, at)
        if isinstance(prepared, Pending) and prepared.candidates:
            out.append(prepared)
    return out


def _pipeline(text: str, folder: Path, reps: list[Rep], accounts: list, learned: bool) -> Pipeline:
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    host = make_host(load_entrypoints=False, plugins=[learned_plugin] if learned else [])
    return Pipeline.build(
        host,
        load_policy(path),
        reps,
        AccountIndex.build(accounts),
        assigned={},
        ledger=Ledger({}, 0),
    )


def _train(text: str, folder: Path, reps: list[Rep], accounts: list, seed: int) -> str:
    """A learned model from a simulated history: leads given round robin among their
    candidates, meetings booked by the demo's latent skill. Returns the model's path."""
    pipeline = _pipeline(text, folder, reps, accounts, learned=False)
    skill = latent_skill([r.id for r in reps], seed)
    rng = random.Random(f"{seed}:history")
    examples = []
    as_of = START
    for p in _pending(pipeline, _leads(HISTORY, seed, -1, accounts), START - timedelta(days=30)):
        rep_id = p.candidates[len(examples) % len(p.candidates)].rep_id
        lead = p.trail.lead
        features = {d: v for d in DIMENSIONS if (v := lead.get(d))}
        p_meet = TOUCHED * chance(
            MEETING_CHANCE, skill, rep_id, lead.get("segment"), lead.get("product")
        )
        examples.append(
            Example(
                lead_id=lead.id,
                rep_id=rep_id,
                features=features,
                converted=rng.random() < p_meet,
            )
        )
    model = train(
        examples,
        target="meeting_booked",
        as_of=as_of,
        half_life=timedelta(days=90),
        mature_after=timedelta(days=3),
    )
    path = folder / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    return str(path)


def product_problem(
    n: int, m: int, seed: int, day: int = 1, *, learned: bool = False
) -> BatchProblem:
    """One day's batch on the demo company scaled to ``m`` reps, with the product's fit."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text, reps, accounts = _team(folder, m, n, seed)
        if learned:
            model = _train(text, folder, reps, accounts, seed)
            text = text.replace(
                "fit:\n  weights: {language: 1.0, product: 1.0, headroom: 0.5}",
                "fit:\n  weights: {language: 1.0, product: 1.0, headroom: 0.5}\n"
                f"  learned: {{model: {model}, weight: 10, min_evidence: 20}}",
            )
            assert "learned:" in text, "the demo policy's fit section moved"
        pipeline = _pipeline(text, folder, reps, accounts, learned)
        pending = _pending(pipeline, _leads(n, seed, day, accounts), START + timedelta(days=day))
        room = {
            r.id: (
                None if r.capacity.max_open is None else max(0, r.capacity.max_open - r.open_leads)
            )
            for r in reps
        }
        return BatchProblem.from_candidates(
            {p.lead_id: [(c.rep_id, max(0.0, c.fit)) for c in p.candidates] for p in pending},
            room,
        )
