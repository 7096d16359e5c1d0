"""The ``leadroute`` command line (typer + rich).

Every command takes ``--json`` for machines. Exit codes: 0 done; 1 an unexpected or
plugin failure; 2 a user mistake (bad policy, bad file, unknown lead, bad flag); 3
authentication; 4 rate limit or quota (work checkpointed); 5 the store is busy (another
rebalance or reassign holds its run lock). A user mistake prints one
line on stderr, never a traceback (``LEADROUTE_DEBUG=1`` shows it).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import attrs
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from leadroute import usecases
from leadroute.adapters import Adapter, AdapterConfig
from leadroute.cli.hosting import cli_host, set_strict
from leadroute.cli.logs import configure_logging, redact_text
from leadroute.cli.outputs import check_file, check_folder
from leadroute.cli.render import (
    explain_lines,
    render_explain,
    render_plugins,
    render_rebalance,
    render_summary,
)
from leadroute.clock import utcnow
from leadroute.engine import Engine
from leadroute.errors import (
    AdapterNotFoundError,
    LeadrouteError,
    QuotaExhaustedError,
    UserInputError,
)
from leadroute.host import PluginHost
from leadroute.logs import get_logger
from leadroute.models import Lead, Snapshot
from leadroute.notify import EffectRouter, Notifier
from leadroute.pipeline import check_snapshot_references
from leadroute.policy import Policy, json_schema, load_policy
from leadroute.policy_checks import check_adapter_options, check_names
from leadroute.solver import Solution
from leadroute.spreadsheet import write_csv_atomic
from leadroute.store import RelayReport, Store, default_store_path
from leadroute.store.location import parse_location
from leadroute.store.locks import MOVES, run_lock
from leadroute.usecases import RebalanceResult, RunResult, explain_decision

__all__ = ["app", "main"]

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="leadroute",
    help="Routing as code: decide who owns every inbound lead, and say why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Work with policy files.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="LEADROUTE_STORE",
        show_envvar=False,
        help="The store: a SQLite file, or a PostgreSQL URL (postgresql://USER@HOST/DB; "
        "env LEADROUTE_STORE, so a password stays out of the command line). "
        "[default: .leadroute/leadroute.db]",
    ),
]
InitOpt = Annotated[
    bool,
    typer.Option("--init", help="Create the store when --store names none yet."),
]
PolicyOpt = Annotated[Path, typer.Option("--policy", help="The policy file.")]
SourceOpt = Annotated[str, typer.Option(help="Adapter to read from and write to.")]
InputOpt = Annotated[
    Path | None,
    typer.Option("--input", help="CSV: folder with leads.csv, reps.csv, accounts.csv."),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Folder for outputs (assignments, exceptions, diff). [default: the --input folder]",
    ),
]
AtOpt = Annotated[str | None, typer.Option(help="Act as of this ISO time (default now).")]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Plan and show the diff; write no decision and no owner."),
]
DEMO_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class _Target:
    """What route and rebalance act on: the policy, the adapter, the store, the output folder."""

    policy: Policy
    host: PluginHost
    adapter: Adapter
    store: str
    folder: Path

    def engine(self, store: Store, snapshot: Snapshot, at: datetime | None) -> Engine:
        """The engine over this target's store for the snapshot's team, acting as of ``at``
        (default: now)."""
        clock = (lambda: at) if at is not None else utcnow
        return Engine.open(
            self.policy,
            store,
            reps=snapshot.reps,
            accounts=snapshot.accounts,
            host=self.host,
            clock=clock,
        )

    def read(self) -> Snapshot:
        """What the source holds, with the policy's rep references checked against it."""
        return _read(self.adapter, self.policy)

    @contextmanager
    def writer(self, snapshot: Snapshot) -> Iterator[Adapter]:
        """Where a run's effects go: the adapter, with notifications split off to the
        policy's channels when it has any (console messages on stderr, not stdout)."""
        if not self.policy.notifications.channels:
            yield self.adapter
            return
        reps = {r.id: r for r in snapshot.reps}
        notifier = Notifier(self.policy, reps, stream=sys.stderr)
        try:
            yield EffectRouter(self.adapter, notifier)
        finally:
            notifier.close()


def _read(adapter: Adapter, policy: Policy) -> Snapshot:
    snapshot = adapter.read()
    # Before any decision: a fallback owner the source left out for a bad cell is named as
    # unusable, with the cell, instead of as an unknown rep.
    check_snapshot_references(policy, snapshot)
    return snapshot


def _target(
    policy_file: Path,
    source: str,
    input_dir: Path | None,
    output_dir: Path | None,
    store: str | None,
    purpose: Literal["route", "rebalance"] = "route",
    *,
    writes: bool = True,
) -> _Target:
    """The policy, adapter, store and output folder of a command.

    With ``writes`` (every command that writes files) the output folder is checked first:
    a run must not decide and commit, then fail to write its outputs.
    """
    policy = load_policy(policy_file)
    host = cli_host()
    options = {
        key: str(value)
        for key, value in (("input_dir", input_dir), ("output_dir", output_dir))
        if value
    }
    workdir = Path.cwd()
    # A typo of a known name stops here; a name nothing knows may be legitimate: say so.
    for warning in check_names(policy, adapters=host.adapters().names(), source=str(policy_file)):
        log.warning("policy.unknown_name", policy=str(policy_file), problem=warning)
    adapter = _build_adapter(host, source, policy, options, workdir, purpose)
    # The CSV adapter may take its output folder from the policy (adapters.csv.output_dir).
    folder = getattr(adapter, "output_dir", None) or Path(output_dir or input_dir or workdir)
    if writes:
        check_folder(Path(folder), "--out")
    return _Target(
        policy=policy,
        host=host,
        adapter=adapter,
        store=store_location(store),
        folder=Path(folder),
    )


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn leadroute errors into one stderr line and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LeadrouteError as exc:
            if os.environ.get("LEADROUTE_DEBUG") == "1":
                raise
            # Plain write: a rich console would wrap a long path onto several lines. The
            # line goes through the log redaction: an error may quote a CRM's answer.
            sys.stderr.write(f"error: {redact_text(str(exc))}\n")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


@app.callback()
def _root(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More logs on stderr (-v info, -vv debug)."
        ),
    ] = 0,
    log_json: Annotated[bool, typer.Option("--log-json", help="Logs as JSON lines.")] = False,
    strict_plugins: Annotated[
        bool,
        typer.Option(
            "--strict-plugins",
            help="A plugin that fails to load stops the command (exit 1); "
            "also LEADROUTE_STRICT_PLUGINS=1.",
        ),
    ] = False,
) -> None:
    configure_logging(verbose, json_logs=log_json)
    set_strict(strict_plugins)


def exit_if_quota_stopped(report: RelayReport | None) -> None:
    """Exit 4 after the results are printed when a quota stopped the writes part-way.

    The decisions are stored and the unwritten effects stay pending (no attempt spent),
    so the next run (or ``leadroute relay``) writes them; a script must still see that
    this run did not finish its writes.
    """
    if report is None or not report.quota:
        return
    sys.stderr.write(
        f"error: writes stopped: {redact_text(report.quota)} ({report.pending} effect(s) "
        "pending for the next run)\n"
    )
    raise typer.Exit(QuotaExhaustedError.exit_code)


def moves_lock(store: Store, command: str, *, dry_run: bool) -> AbstractContextManager[object]:
    """The store's run lock for a run that moves leads (none for a dry run, which writes
    nothing): a second rebalance or reassign exits 5 instead of moving leads twice."""
    return nullcontext() if dry_run else run_lock(store, MOVES, command=command)


def store_location(store: str | None) -> str:
    """``--store`` as given, or the embedded default under the working directory."""
    return store or str(default_store_path(Path.cwd()))


def _shown(location: str) -> str:
    """A store location fit for output: a URL's password replaced by ``***``."""
    return parse_location(location).display


def _emit_json(data: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(f"--at: {text!r} is not an ISO-8601 date-time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _build_adapter(
    host: PluginHost,
    name: str,
    policy: Policy,
    options: Mapping[str, Any],
    workdir: Path,
    purpose: Literal["route", "rebalance"] = "route",
) -> Adapter:
    registry = host.adapters()
    factory = registry.get(name)
    if factory is None:
        known = ", ".join(registry.names()) or "none installed"
        raise AdapterNotFoundError(
            f"--source: no adapter named {name!r} (installed: {known}); "
            f"install it, e.g. pip install leadroute-{name}"
        )
    merged = {**policy.adapter_options(name), **options}
    return factory(AdapterConfig(policy=policy, options=merged, workdir=workdir, purpose=purpose))


def _run(
    target: _Target,
    source: str,
    at: datetime | None,
    show_progress: bool,
    *,
    batch: bool = False,
    arrival: bool = False,
    init: bool = False,
) -> tuple[RunResult, Snapshot]:
    with Store.open(target.store, create=init) as store:
        snapshot = target.read()
        engine = target.engine(store, snapshot, at)
        arrivals = usecases.by_arrival(engine.clock()) if arrival else None
        with target.writer(snapshot) as writer:
            result = _route(
                engine, snapshot, writer, source, show_progress, batch=batch, arrival=arrivals
            )
            return result, snapshot


def _route(
    engine: Engine,
    snapshot: Snapshot,
    writer: Adapter,
    source: str,
    show_progress: bool,
    *,
    batch: bool,
    arrival: Callable[[Lead], datetime] | None = None,
) -> RunResult:
    if not show_progress:
        return usecases.route(
            engine, snapshot, adapter=writer, source=source, batch=batch, arrival=arrival
        )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=len(snapshot.leads))
        return usecases.route(
            engine,
            snapshot,
            adapter=writer,
            source=source,
            progress=lambda n: bar.update(task, completed=n),
            phase=lambda name: bar.update(task, description=name),
            batch=batch,
            arrival=arrival,
        )


def _solver_summary(result: RunResult) -> dict[str, Any] | None:
    return _solution_summary(result.solution)


def _solution_summary(s: Solution | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "status": s.status,
        "objective": s.objective,
        "bound": s.bound,
        "gap": s.gap,
        "unassigned": s.unassigned,
        "build_seconds": s.build_seconds,
        "penalty": s.penalty,
        "solve_seconds": s.solve_seconds,
        "extract_seconds": s.extract_seconds,
    }


def _report(
    result: RunResult, snapshot: Snapshot, outputs: Mapping[str, str], as_json: bool, command: str
) -> None:
    counts = result.counts()
    if as_json:
        _emit_json(
            {
                "command": command,
                "counts": counts,
                "relay": attrs.asdict(result.relay) if result.relay else None,
                "solver": _solver_summary(result),
                "outputs": dict(outputs),
                "plugin_failures": [attrs.asdict(f) for f in result.plugin_failures],
            }
        )
    else:
        render_summary(out, counts, result.decisions, snapshot.reps, outputs)


# --------------------------------------------------------------------------- commands


@app.command()
@handles_errors
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where to write the sample and results.")
    ] = Path("leadroute-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generated company.")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Generate a realistic sample company, route it, and summarise what happened."""
    from leadroute.demo import write_demo  # noqa: PLC0415 - only the demo needs the generator

    check_folder(out_dir, "--out")
    files = write_demo(out_dir, seed=seed, now=DEMO_NOW)
    policy = load_policy(files.policy)
    host = cli_host()
    adapter = _build_adapter(
        host, "csv", policy, {"input_dir": str(out_dir), "output_dir": str(out_dir)}, out_dir
    )
    store_path = default_store_path(out_dir)
    # Leads are routed as they arrive (live intake), then the reps' activity is recorded.
    from leadroute.cli.report import demo_dashboard  # noqa: PLC0415
    from leadroute.demo.live import simulate_live_intake  # noqa: PLC0415

    activity = out_dir / "activity.csv"
    result, snapshot = simulate_live_intake(
        policy, store_path, host, adapter, activity=activity, now=DEMO_NOW, seed=seed
    )
    dashboard = demo_dashboard(
        policy,
        store_path,
        snapshot.reps,
        as_of=DEMO_NOW,
        path=out_dir / "dashboard.html",
    )
    outputs = {
        "assignments": str(out_dir / "assignments.csv"),
        "exceptions": str(out_dir / "exceptions.csv"),
        "activity": str(activity),
        "notifications": str(out_dir / "messages.txt"),
        "audit store": str(store_path),
        "policy": str(files.policy),
        "dashboard": str(dashboard),
    }
    _report(result, snapshot, outputs, as_json, "demo")
    if not as_json:
        sample = next((d.lead_id for d in result.decisions if d.candidates), None)
        out.print(f"\nOpen the routing dashboard: {dashboard}", highlight=False)
        out.print("Then try, from the demo's folder:", highlight=False)
        for line in demo_next_steps(out_dir, sample):
            out.print(f"  {line}", highlight=False, soft_wrap=True)


def demo_next_steps(out_dir: Path, sample: str | None) -> list[str]:
    """The commands the demo suggests, each working as printed in a fresh clone.

    Run from the demo's folder, every default (``leadroute.yaml``, ``.leadroute/``, the
    CSV files) is the demo's. Under ``uv run`` (how the README starts the demo) the
    commands need ``uv run`` too: ``leadroute`` is on the PATH only inside uv's environment.
    """
    prefix = "uv run leadroute" if os.environ.get("UV_RUN_RECURSION_DEPTH") else "leadroute"
    steps = [f"cd {shlex.quote(str(out_dir))}"]
    if sample:
        steps.append(f"{prefix} explain {sample}")
    steps += [
        f"{prefix} report exceptions",
        f"{prefix} report",
        f"{prefix} shares",
        f"{prefix} rebalance --dry-run",
    ]
    return steps


@app.command()
@handles_errors
def route(
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: InputOpt = None,
    output_dir: OutOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    batch: Annotated[
        bool,
        typer.Option("--batch", help="Assign pool leads jointly with the optimizer."),
    ] = False,
    arrival: Annotated[
        bool,
        typer.Option(
            "--arrival",
            help="Decide each lead at its own created time, in arrival order (replay a day "
            "as live intake would have routed it); leads created after --at wait.",
        ),
    ] = False,
    init: InitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Route every lead the source has, write owners back and report exceptions.

    A lead created after the run's time (now, or --at) is not decided: it waits for a
    later run.
    """
    if batch and arrival:
        raise UserInputError("--arrival decides leads one by one as they arrive; drop --batch")
    target = _target(policy_file, source, input_dir, output_dir, store)
    result, snapshot = _run(
        target,
        source,
        _parse_at(at),
        show_progress=not as_json and err.is_terminal,
        batch=batch,
        arrival=arrival,
        init=init,
    )
    outputs = {"audit store": _shown(target.store)}
    if (assignments := getattr(target.adapter, "assignments_path", None)) is not None:
        outputs["assignments"] = str(assignments)
    if (report_path := getattr(target.adapter, "exceptions_path", None)) is not None:
        outputs["exceptions"] = str(report_path)  # an adapter that writes its report to a file
    _report(result, snapshot, outputs, as_json, "route")
    exit_if_quota_stopped(result.relay)


@app.command()
@handles_errors
def rebalance(
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: InputOpt = None,
    output_dir: OutOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    init: InitOpt = False,
    dry_run: DryRunOpt = False,
    diff: Annotated[
        Path | None,
        typer.Option(
            "--diff", help="Where to write the diff CSV. [default: rebalance-diff.csv in --out]"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move owned-but-unworked leads jointly, as few as it must (nightly)."""
    target = _target(policy_file, source, input_dir, output_dir, store, purpose="rebalance")
    diff_path = diff or target.folder / "rebalance-diff.csv"
    check_file(diff_path, "--diff")
    with (
        Store.open(target.store, create=init) as opened,
        moves_lock(opened, "rebalance", dry_run=dry_run),
    ):
        snapshot = target.read()
        engine = target.engine(opened, snapshot, _parse_at(at))
        with target.writer(snapshot) as writer:
            result = _rebalance_with_progress(
                engine, snapshot, writer, source, dry_run, show=not as_json and err.is_terminal
            )
    rows = []
    for m in result.plan.moves:
        rows.append(
            [
                m.lead_id,
                m.from_owner,
                m.to_owner,
                ";".join(m.reasons),
                "" if m.fit_before is None else round(m.fit_before, 4),
                "" if m.fit_after is None else round(m.fit_after, 4),
            ]
        )
        # What the real run will also do: the person's other records follow the move.
        rows.extend(
            [lead_id, owner, m.to_owner, f"FOLLOWS {m.lead_id}", "", ""]
            for lead_id, owner in m.followers
        )
    write_csv_atomic(diff_path, DIFF_COLUMNS, rows)
    counts = result.counts()
    if as_json:
        _emit_json(
            {
                "command": "rebalance",
                "dry_run": dry_run,
                "counts": counts,
                "moves": [dict(zip(DIFF_COLUMNS, row, strict=True)) for row in rows],
                "solver": _solution_summary(result.plan.solution),
                "relay": attrs.asdict(result.relay) if result.relay else None,
                "outputs": {"diff": str(diff_path), "audit store": _shown(target.store)},
            }
        )
    else:
        render_rebalance(out, counts, rows, dry_run)
        out.print(f"diff: {diff_path}", highlight=False)
    exit_if_quota_stopped(result.relay)


DIFF_COLUMNS = ("lead_id", "from_owner", "to_owner", "reasons", "fit_before", "fit_after")


def _rebalance_with_progress(
    engine: Engine,
    snapshot: Snapshot,
    adapter: Adapter,
    source: str,
    dry_run: bool,
    *,
    show: bool,
) -> RebalanceResult:
    if not show or dry_run:
        return usecases.rebalance(engine, snapshot, adapter=adapter, dry_run=dry_run, source=source)
    with Progress(
        TextColumn("moving"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task("move", total=None)
        return usecases.rebalance(
            engine,
            snapshot,
            adapter=adapter,
            source=source,
            progress=lambda n: bar.update(task, completed=n),
        )


@app.command()
@handles_errors
def explain(
    lead_id: Annotated[str, typer.Argument(help="The lead's id in the source system.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Why a lead has its owner, and why not each other rep considered."""
    with Store.open(store_location(store), create=False) as opened:
        decision = explain_decision(opened, lead_id)
        observed = opened.observed_owner(decision.id)
    if as_json:
        from leadroute.store.codec import decision_to_json  # noqa: PLC0415

        _emit_json(
            {
                "decision": json.loads(decision_to_json(decision)),
                "explanation": explain_lines(decision, observed),
                "observed_owner": observed,
            }
        )
    else:
        render_explain(out, decision, observed)


@app.command("check-policy")
@handles_errors
def check_policy(
    policy_file: Annotated[Path, typer.Argument(help="The policy file to check.")],
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when the policy is valid, 2 with the first problem otherwise.

    Besides the structure, it builds every installed adapter the policy configures (their
    options) and checks the names the policy uses; a name that may be legitimate although
    nothing here knows it is printed as a warning.
    """
    try:
        host = cli_host()
        policy = host.configure(load_policy(policy_file), source=str(policy_file))
        registry = host.adapters()
        check_adapter_options(policy, registry, Path.cwd(), source=str(policy_file))
        warnings = check_names(policy, adapters=registry.names(), source=str(policy_file))
    except UserInputError as exc:
        if as_json:
            _emit_json({"valid": False, "error": redact_text(str(exc))})
            raise typer.Exit(exc.exit_code) from None
        raise
    summary = {
        "valid": True,
        "version": policy.version_tag,
        "rules": len(policy.routing),
        "pools": len(policy.pools),
        "warnings": warnings,
    }
    if as_json:
        _emit_json(summary)
        return
    for warning in warnings:
        sys.stderr.write(f"warning: {policy_file}: {warning}\n")
    out.print(
        f"{policy_file}: valid (version {policy.version_tag}, "
        f"{summary['rules']} rules, {summary['pools']} pools"
        + (f", {len(warnings)} warning(s)" if warnings else "")
        + ")",
        highlight=False,
    )


@policy_app.command("schema")
@handles_errors
def policy_schema(
    as_json: Annotated[
        bool, typer.Option("--json", help="Accepted for symmetry: the schema is JSON already.")
    ] = False,
) -> None:
    """Print the JSON Schema of leadroute.yaml (for editors and CI validation)."""
    _emit_json(json_schema())


@app.command()
@handles_errors
def plugins(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also report plugins with no hooks and misspelt or unmarked hook functions; "
            "exit 1 when anything is wrong.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List loaded plugins, the hooks each implements, failed plugins and adapters."""
    from leadroute.plugin_check import check_plugins  # noqa: PLC0415

    host = cli_host()
    infos, failures = host.plugins(), host.failures
    adapters = host.adapters().names()
    findings = check_plugins(host) if check else []
    if as_json:
        data: dict[str, Any] = {
            "plugins": [attrs.asdict(p) for p in infos],
            "failed": [attrs.asdict(f) for f in failures],
            "adapters": adapters,
        }
        if check:
            data["check"] = [attrs.asdict(f) for f in findings]
        _emit_json(data)
    else:
        render_plugins(out, infos, failures, adapters)
        if check:
            for finding in findings:
                if not finding.problem.startswith("failed to load"):  # listed above already
                    out.print(f"[red]check[/] {finding.plugin}: {finding.problem}", highlight=False)
            if not findings:
                out.print("check: no problems found")
    if findings:
        raise typer.Exit(1)


from leadroute.cli import report as _report_cli  # noqa: E402, F401 - registers `report`


def main() -> None:
    """Console-script entry point: plugins' commands join the built-in ones, then run."""
    try:
        cli_host().register_commands(app)
    except LeadrouteError as exc:  # a plugin's command registration failed: one line
        sys.stderr.write(f"error: {redact_text(str(exc))}\n")
        raise SystemExit(exc.exit_code) from None
    app()


# Commands in their own modules register themselves on ``app`` when imported.
from leadroute.cli import reassign as _reassign  # noqa: E402, F401
from leadroute.cli import relay as _relay  # noqa: E402, F401
from leadroute.cli import serve as _serve  # noqa: E402, F401
from leadroute.cli import shares as _shares  # noqa: E402, F401
