"""``leadroute reassign``: move a departing rep's leads through the same policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadroute import usecases
from leadroute.cli import (
    AtOpt,
    DryRunOpt,
    InitOpt,
    InputOpt,
    JsonOpt,
    OutOpt,
    PolicyOpt,
    SourceOpt,
    StoreOpt,
    _emit_json,
    _parse_at,
    _shown,
    _target,
    app,
    exit_if_quota_stopped,
    handles_errors,
    moves_lock,
    out,
)
from leadroute.cli.outputs import check_file
from leadroute.errors import UserInputError
from leadroute.spreadsheet import write_csv_atomic
from leadroute.store import Store
from leadroute.usecases import ReassignResult

__all__ = ["REASSIGN_COLUMNS", "reassign"]

REASSIGN_COLUMNS = ("lead_id", "from_owner", "to_owner", "status", "step", "reason")


def _rows(result: ReassignResult) -> list[list[object]]:
    return [
        [m.lead_id, m.from_owner, m.to_owner, m.status, m.step, m.reason] for m in result.plan.moves
    ]


@app.command()
@handles_errors
def reassign(
    from_rep: Annotated[str, typer.Option("--from", help="The departing rep's id.")],
    to: Annotated[
        str,
        typer.Option("--to", help="A rep or pool to move the leads to. [default: the policy]"),
    ] = "",
    only_unworked: Annotated[
        bool,
        typer.Option("--only-unworked", help="Keep leads with activity since their assignment."),
    ] = False,
    dry_run: DryRunOpt = False,
    diff: Annotated[
        Path | None,
        typer.Option(
            "--diff", help="Where to write the diff CSV. [default: reassign-diff.csv in --out]"
        ),
    ] = None,
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: InputOpt = None,
    output_dir: OutOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    init: InitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Move a departing rep's leads to new owners through the policy (with a diff)."""
    target = _target(policy_file, source, input_dir, output_dir, store, purpose="rebalance")
    diff_path = diff or target.folder / "reassign-diff.csv"
    check_file(diff_path, "--diff")
    with (
        Store.open(target.store, create=init) as opened,
        moves_lock(opened, "reassign", dry_run=dry_run),
    ):
        snapshot = target.read()
        engine = target.engine(opened, snapshot, _parse_at(at))
        with target.writer(snapshot) as writer:
            result = usecases.reassign(
                engine,
                snapshot,
                from_rep=from_rep,
                to=to,
                only_unworked=only_unworked,
                dry_run=dry_run,
                adapter=None if dry_run else writer,
                source=source,
            )
    if result.plan.owned == 0 and from_rep not in {rep.id for rep in snapshot.reps}:
        # Nothing to move and nobody by that name: most likely a typo, which must not look
        # like a successful reassignment to a script.
        raise UserInputError(
            f"--from: no rep {from_rep!r} in the source's reps, and no lead owned by them"
        )
    rows = _rows(result)
    write_csv_atomic(diff_path, REASSIGN_COLUMNS, rows)
    counts = result.counts()
    if as_json:
        _emit_json(
            {
                "command": "reassign",
                "from": from_rep,
                "to": to,
                "dry_run": dry_run,
                "counts": counts,
                "moves": [dict(zip(REASSIGN_COLUMNS, row, strict=True)) for row in rows],
                "outputs": {"diff": str(diff_path), "audit store": _shown(target.store)},
            }
        )
        exit_if_quota_stopped(result.relay)
        return
    verb = "would move" if dry_run else "moved"
    out.print(
        f"{from_rep} owns {counts['owned']} leads; kept {counts['worked_kept']} worked, "
        f"{verb} [bold]{counts['moves']}[/] ({counts['to_fallback']} to the fallback queue)"
    )
    if rows:
        table = Table(
            title="Reassignments" + (" (dry run: nothing written)" if dry_run else ""),
            title_justify="left",
        )
        for col in ("lead", "from", "to", "status", "step", "reason"):
            table.add_column(col)
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        out.print(table)
    out.print(f"diff: {diff_path}", highlight=False)
    exit_if_quota_stopped(result.relay)
