"""``leadroute relay``: apply the outbox once, and put dead effects back in the queue by hand.

A dead effect (an owner write HubSpot refused, a task that could not be created) stays
in every exception report until a human acts: ``--retry-dead`` queues it again with
fresh attempts (after fixing the cause in the CRM or the policy), ``--resolve`` closes it
(after writing the owner in the CRM by hand). Without either, the command applies what
is pending, as the relay at the end of ``route`` does. ``--follow`` keeps relaying until
stopped (SIGTERM or Ctrl-C), for deployments that run the relay as its own process
beside ``leadroute serve --no-relay``. Notifications (``notify:<channel>`` effects) go
through the policy's channels, everything else through ``--source``.
"""

from __future__ import annotations

import asyncio
import signal
import sys
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
from leadroute.notify import EffectRouter, Notifier
from leadroute.service.relaying import Relayer
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
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep relaying, with backoff, until stopped (SIGTERM)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Apply pending effects once (or --follow); --retry-dead re-queues dead ones, --resolve closes them."""
    if follow and resolve:
        raise UserInputError("--follow and --resolve: choose one")
    if resolve and retry_dead:
        raise UserInputError("--resolve and --retry-dead: choose one")
    if resolve and not leads:
        raise UserInputError("--resolve: name the leads with --lead (one --lead per lead)")
    target = _target(policy_file, source, input_dir, output_dir, store)
    report: RelayReport | None = None
    # The team (Slack ids, emails, time zones) is read only when there is someone to tell.
    reps = target.read().reps if target.policy.notifications.channels else ()
    notifier = Notifier(target.policy, {r.id: r for r in reps})
    effects = EffectRouter(target.adapter, notifier)
    with Store.open(target.store, create=False) as opened:
        if resolve:
            settled = opened.resolve_unresolved(leads or [])
        elif retry_dead:
            settled = opened.retry_unresolved(leads)
        else:
            settled = []
        if follow:
            _follow(
                Relayer(opened, effects, idle=target.policy.service.relay_every.total_seconds())
            )
        elif not resolve:
            report = relay(opened, effects)
        left = unresolved_failures(opened)
    notifier.close()
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


def _follow(relayer: Relayer) -> None:
    """Relay until SIGTERM or SIGINT; the pass in progress finishes first."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await relayer.run(stop)

    sys.stderr.write("leadroute relay: following the outbox (Ctrl-C to stop)\n")
    asyncio.run(main())
