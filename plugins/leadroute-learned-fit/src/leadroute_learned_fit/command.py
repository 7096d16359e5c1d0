"""``leadroute fit train``: train the learned fit from a store's decisions and outcomes."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from leadroute.errors import UserInputError
from leadroute.policy import parse_duration
from leadroute.store import Store, default_store_path
from leadroute.store.outcomes import decision_history, load_outcomes
from leadroute_learned_fit.model import TARGETS, Model, examples_from, train

__all__ = ["fit_app", "train_from_store"]

fit_app = typer.Typer(help="The learned fit: train a model from outcomes.", no_args_is_help=True)


def _duration(option: str, text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UserInputError(f"{option}: {exc}") from None


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a crash never leaves half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def train_from_store(
    store: Store,
    *,
    target: str = "opportunity",
    as_of: datetime,
    half_life: timedelta = timedelta(days=90),
    mature_after: timedelta = timedelta(days=14),
) -> Model:
    """Train a model from an open store (the library form of ``leadroute fit train``)."""
    examples = examples_from(
        decision_history(store),
        load_outcomes(store),
        target=target,
        as_of=as_of,
        half_life=half_life,
        mature_after=mature_after,
    )
    try:
        return train(
            examples, target=target, as_of=as_of, half_life=half_life, mature_after=mature_after
        )
    except ValueError as exc:
        raise UserInputError(f"--store: {exc}") from None


@fit_app.command("train")
def train_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON).")],
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Audit store. [default: .leadroute/leadroute.db]"),
    ] = None,
    target: Annotated[
        str, typer.Option(help=f"What counts as converted: {', '.join(TARGETS)}.")
    ] = "opportunity",
    half_life: Annotated[str, typer.Option(help="Time-decay half-life of old leads.")] = "90d",
    mature_after: Annotated[
        str, typer.Option(help="Leads younger than this are too fresh to count.")
    ] = "14d",
    at: Annotated[str | None, typer.Option(help="Train as of this ISO time (default now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train per-rep conversion rates by segment, industry, product and region."""
    from leadroute.cli import handles_errors  # noqa: PLC0415 - the CLI's one-line errors

    handles_errors(_train)(out, store, target, half_life, mature_after, at, as_json)


def _train(
    out: Path,
    store: Path | None,
    target: str,
    half_life: str,
    mature_after: str,
    at: str | None,
    as_json: bool,
) -> None:
    if target not in TARGETS:
        raise UserInputError(f"--target: {target!r} is not one of: {', '.join(TARGETS)}")
    path = store or default_store_path(Path.cwd())
    if not path.exists():
        raise UserInputError(f"--store: {path} does not exist (run route or demo first)")
    try:
        as_of = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(UTC)
    except ValueError:
        raise UserInputError(f"--at: {at!r} is not an ISO-8601 date-time") from None
    as_of = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
    with Store.open(path) as opened:
        model = train_from_store(
            opened,
            target=target,
            as_of=as_of,
            half_life=_duration("--half-life", half_life),
            mature_after=_duration("--mature-after", mature_after),
        )
    write_atomic(out, model.to_json())
    strengths = {d: round(k, 1) for d, k in sorted(model.strength.items())}
    summary = {
        "out": str(out),
        "target": model.target,
        "examples": model.examples,
        "positives": model.positives,
        "base_rate": round(model.global_rate, 4),
        "reps": len(model.evidence),
        "strength": strengths,
        "digest": model.digest,
    }
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return
    strength = ", ".join(f"{d} {k:g}" for d, k in strengths.items())
    typer.echo(
        f"{out}: {model.examples} leads ({model.positives} reached {target}, base rate "
        f"{model.global_rate:.2f}), {len(model.evidence)} reps; shrinkage strength {strength}"
    )
