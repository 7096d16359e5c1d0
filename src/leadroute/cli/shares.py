"""``leadroute shares``: per pool, the share each rep received against the intended share."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadroute.cli import (
    AtOpt,
    InputOpt,
    PolicyOpt,
    SourceOpt,
    StoreOpt,
    _emit_json,
    _parse_at,
    _target,
    app,
    handles_errors,
    out,
)
from leadroute.clock import utcnow
from leadroute.errors import UserInputError
from leadroute.policy import parse_duration
from leadroute.reporting.history import window_end
from leadroute.shares import as_json, pool_shares
from leadroute.store import Store

__all__ = ["shares"]


def _period(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UserInputError(f"--since: {exc}") from None


@app.command()
@handles_errors
def shares(
    since: Annotated[
        str, typer.Option("--since", help="How far back to look (30d, 12h...).")
    ] = "30d",
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: InputOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    as_json_flag: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Per pool: the share of leads each rep received against the share the policy intends."""
    window = _period(since)
    target = _target(policy_file, source, input_dir, None, store, writes=False)
    snapshot = target.adapter.read()
    with Store.open(target.store, create=False) as opened:
        decisions = opened.current_decisions()
        # Like report: a store of the past is shown up to its last decision, not to now.
        latest = max((d.decided_at for d in decisions.values()), default=None)
        until = _parse_at(at) or window_end(latest, utcnow(), window)
        found = pool_shares(
            target.policy,
            snapshot.reps,
            decisions.values(),
            opened.load_ledger().values(),
            since=until - window,
            until=until,
        )
    if as_json_flag:
        _emit_json(
            {
                "since": (until - window).isoformat(),
                "until": until.isoformat(),
                "pools": as_json(found),
            }
        )
        return
    for pool in found:
        table = Table(
            title=f"Pool {pool.pool} ({pool.strategy}): {pool.total} leads, "
            f"largest gap {pool.max_gap:.1%}",
            title_justify="left",
        )
        for col in ("rep", "received", "share", "intended", "level"):
            table.add_column(col, justify="left" if col == "rep" else "right")
        for r in pool.reps:
            table.add_row(
                r.rep_id, str(r.received), f"{r.share:.1%}", f"{r.intended:.1%}", f"{r.level:.3f}"
            )
        out.print(table)
