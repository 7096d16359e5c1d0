"""``leadroute relay``: apply the outbox once, and put dead effects back in the queue by hand.

A dead effect (an owner write HubSpot refused, a task that could not be created) stays
in every exception report until a human acts: ``--retry-dead`` queues it again with
fresh attempts (after fixing the cause in the CRM or the policy), ``--resolve`` closes it
(after writing the owner in the CRM by hand). Without either, the command applies what
is pending, as the relay at the end of ``route`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from rich.table import Table

from leadroute.cli import (
    InputOpt,
    JsonOpt,
    OutOpt,
    PolicyOpt,
    SourceOpt,
    StoreOpt,
    _emit_json,
    _target,
    app,
    exit_if_quota_stopped,
    handles_errors,
    out,
)
from leadroute.errors import UserInputError
from leadroute.store import EffectFailure, OutboxRow, RelayReport, Store, relay, unresolved_failures

__all__ = ["relay_command"]

LeadOpt = Annotated[
    list[str] | None,
    typer.Option("--lead", help="Only this lead's dead effects (repeatable)."),
]


def _settled(rows: list[OutboxRow]) -> list[dict[str, Any]]:
    return [
        {
            "lead_id": r.effect.lead_id,
            "kind": r.effect.kind,
            "status": r.status,
            "last_error": r.last_error,
        }
        for r in rows
    ]


def _failure(f: EffectFailure) -> dict[str, Any]:
    return {"lead_id": f.lead_id, "kind": f.kind, "owner_id": f.owner_id, "detail": f.detail}


@app.command("relay")
@handles_errors
def relay_command(
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: InputOpt = None,
    output_dir: OutOpt = None,
    store: StoreOpt = None,
    retry_dead: Annotated[
        bool,
        typer.Option(
            "--retry-dead", help="Queue dead and refused effects again with fresh attempts."
        ),
    ] = False,
    resolve: Annotated[
        bool,
        typer.Option(
            "--resolve", help="Close the --lead leads' dead effects (fixed in the CRM by hand)."
        ),
    ] = False,
    leads: LeadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply pending effects once; --retry-dead re-queues dead ones, --resolve closes them."""
    if resolve and retry_dead:
        raise UserInputError("--resolve and --retry-dead: choose one")
    if resolve and not leads:
        raise UserInputError("--resolve: name the leads with --lead (one --lead per lead)")
    target = _target(policy_file, source, input_dir, output_dir, store)
    report: RelayReport | None = None
    with Store.open(target.store, create=False) as opened:
        if resolve:
            settled = opened.resolve_unresolved(leads or [])
        elif retry_dead:
            settled = opened.retry_unresolved(leads)
        else:
            settled = []
        if not resolve:
            report = relay(opened, target.adapter)
        left = unresolved_failures(opened)
    summary = {
        "command": "relay",
        "retried": _settled(settled) if retry_dead else [],
        "resolved": _settled(settled) if resolve else [],
        "relay": attrs.asdict(report) if report else None,
        "unresolved": [_failure(f) for f in left],
    }
    if as_json:
        _emit_json(summary)
    else:
        _print(summary, report, left)
    exit_if_quota_stopped(report)


def _print(summary: dict[str, Any], report: RelayReport | None, left: list[EffectFailure]) -> None:
    if summary["retried"]:
        out.print(f"queued again: {len(summary['retried'])} effect(s)", highlight=False)
    if summary["resolved"]:
        out.print(f"resolved by hand: {len(summary['resolved'])} effect(s)", highlight=False)
    if report is not None:
        out.print(
            f"applied {report.applied}, failed {report.failed}, dead {report.dead}, "
            f"rerouted {report.rerouted}, pending {report.pending}",
            highlight=False,
        )
    if not left:
        out.print("no dead effects", highlight=False)
        return
    table = Table(title=f"{len(left)} effect(s) need a human", title_justify="left")
    for column in ("lead", "effect", "owner", "why"):
        table.add_column(column, overflow="fold")
    for f in left:
        table.add_row(f.lead_id, f.kind + (" (refused)" if f.reroute else ""), f.owner_id, f.detail)
    out.print(table)
