"""``leadroute serve``: the live service on uvicorn (intake, webhooks, relay, SLA clock).

The team (reps, accounts) is read once through ``--source`` when the service starts;
owner writes go back through the same adapter. API keys come from ``LEADROUTE_API_KEYS``
(comma-separated), CRM and notification secrets from their own variables; the service
refuses to start without keys or with a notification channel whose secret is missing.
SIGTERM (or Ctrl-C) stops accepting, lets in-flight requests and the current relay and
scheduler passes finish, and exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from leadroute.cli import (
    InitOpt,
    InputOpt,
    OutOpt,
    PolicyOpt,
    StoreOpt,
    _build_adapter,
    app,
    handles_errors,
    store_location,
)
from leadroute.cli.hosting import cli_host
from leadroute.errors import UserInputError
from leadroute.policy import load_policy
from leadroute.service import Service, create_app
from leadroute.service.requests import API_KEYS_ENV, parse_api_keys
from leadroute.store import Store

__all__ = ["serve"]

# How long in-flight requests may take to finish after SIGTERM before uvicorn cuts them.
GRACEFUL_SECONDS = 30


@app.command()
@handles_errors
def serve(
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: Annotated[
        str | None,
        typer.Option(
            help="Adapter for the team and owner writes (default: the policy's service.source, else csv)."
        ),
    ] = None,
    input_dir: InputOpt = None,
    output_dir: OutOpt = None,
    store: StoreOpt = None,
    init: InitOpt = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    no_relay: Annotated[
        bool,
        typer.Option(
            "--no-relay", help="Leave the outbox to a separate `leadroute relay --follow`."
        ),
    ] = False,
    no_timers: Annotated[
        bool, typer.Option("--no-timers", help="Do not run the SLA scheduler in this process.")
    ] = False,
) -> None:
    """Serve POST /v1/leads, the CRM webhooks and /v1/outcomes; relay effects and keep SLA clocks."""
    keys = parse_api_keys(os.environ.get(API_KEYS_ENV, ""))
    if not keys:
        raise UserInputError(f"set {API_KEYS_ENV} (comma-separated API keys) before serving")
    if not 0 <= port <= 65535:
        raise UserInputError(f"--port: {port} is not a port number")
    policy = load_policy(policy_file)
    plugins = cli_host()
    name = source or policy.service.source or "csv"
    options = {
        key: str(value)
        for key, value in (("input_dir", input_dir), ("output_dir", output_dir))
        if value
    }
    workdir = Path.cwd()
    adapter = _build_adapter(plugins, name, policy, options, workdir)
    service = Service.build(
        policy,
        Store.open(store_location(store), create=init),
        plugins,
        adapter,
        api_keys=keys,
        env=os.environ,
    )
    application = create_app(service, run_relay=not no_relay, run_timers=not no_timers)
    sys.stderr.write(
        f"leadroute serve: {len(service.reps)} reps from {name}; "
        f"listening on http://{host}:{port} (Ctrl-C to stop)\n"
    )
    # uvicorn stops gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler
    # that was there before it; this one lets the command return and exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
    )


def _stopped(signum: int, frame: FrameType | None) -> None:
    """After uvicorn's graceful shutdown: nothing left to do, the command returns."""
    sys.stderr.write("leadroute serve: stopped\n")
