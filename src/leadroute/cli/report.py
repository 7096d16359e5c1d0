"""``leadroute report``: the outcome dashboard (HTML, JSON, CSV) and the exception report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from rich.table import Table

from leadroute.cli import (
    AtOpt,
    JsonOpt,
    PolicyOpt,
    SourceOpt,
    StoreOpt,
    _build_adapter,
    _emit_json,
    _parse_at,
    app,
    handles_errors,
    out,
    store_location,
)
from leadroute.cli.hosting import cli_host
from leadroute.cli.outputs import check_file
from leadroute.clock import utcnow
from leadroute.errors import UserInputError
from leadroute.files import write_text_atomic
from leadroute.models import Rep, Snapshot
from leadroute.outcomes import deliver_outcomes
from leadroute.policy import ConditionError, Policy, format_duration, load_policy, parse_duration
from leadroute.reporting import ExceptionRow, History, Report, compute_report, exception_rows
from leadroute.reporting.export import (
    LEAD_COLUMNS,
    METRIC_COLUMNS,
    lead_rows,
    metric_rows,
    report_to_dict,
)
from leadroute.reporting.formats import fmt_pct, fmt_seconds
from leadroute.spreadsheet import write_csv_atomic
from leadroute.store import Store

__all__ = ["build_report", "demo_dashboard", "report_app"]


class Format(StrEnum):
    """What ``leadroute report`` writes."""

    HTML = "html"
    JSON = "json"
    CSV = "csv"


WindowOpt = Annotated[
    str, typer.Option("--window", help="How far back to look, e.g. 7d, 30d, 12h. [default: 30d]")
]
ReportInputOpt = Annotated[
    Path | None,
    typer.Option("--input", help="CSV: folder with reps.csv (capacity, weights, pools)."),
]
EXCEPTION_COLUMNS = ("lead_id", "reason_code", "reason", "action", "owner_id", "since", "where")

report_app = typer.Typer(
    help="Outcome reporting: the handoff dashboard, metrics and the exception report.",
)
app.add_typer(report_app, name="report")


@attrs.frozen(kw_only=True)
class Built:
    """A computed report with its exception rows."""

    report: Report
    exceptions: list[ExceptionRow]
    policy: Policy


def _window(text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ConditionError as exc:
        raise UserInputError(f"--window: {exc}") from None
    if value <= timedelta(0):
        raise UserInputError(f"--window: {text!r} must be longer than zero")
    return value


def _read_source(policy: Policy, source: str, input_dir: Path | None) -> Snapshot:
    """The source's reps (capacity, weights, pools) and outcomes; CSV without --input reads nothing."""
    if source == "csv" and input_dir is None:
        return Snapshot()
    options = {"input_dir": str(input_dir)} if input_dir else {}
    adapter = _build_adapter(cli_host(), source, policy, options, Path.cwd())
    return adapter.read()


def build_report(
    policy_file: Path,
    source: str,
    input_dir: Path | None,
    store: str | None,
    at: datetime | None,
    window: timedelta,
) -> Built:
    """Load the policy, the history and (when asked) the reps, then compute everything."""
    policy = load_policy(policy_file)
    read = _read_source(policy, source, input_dir)
    with Store.open(store_location(store), create=False) as opened:
        # What reps did in the CRM since (calls, meetings, status changes) reaches the
        # store through leadroute_record_outcome, as a route run would record it.
        deliver_outcomes(cli_host(), opened, read.outcomes)
        history = History.load(opened)
    as_of = at or history.window_end(utcnow(), window)
    report = compute_report(history, policy, as_of=as_of, window=window, reps=read.reps)
    problems = history.problems_in(as_of - window, as_of)
    rows = exception_rows(report.facts, problems, policy, as_of, failures=history.failures)
    return Built(report=report, exceptions=rows, policy=policy)


def demo_dashboard(
    policy: Policy,
    store_path: Path,
    reps: Sequence[Rep],
    *,
    as_of: datetime,
    path: Path,
) -> Path:
    """The demo's closing step: the dashboard over its whole history, as of its clock."""
    with Store.open(store_path) as opened:
        history = History.load(opened)
    report = compute_report(history, policy, as_of=as_of, window=timedelta(days=30), reps=reps)
    built = Built(
        report=report,
        exceptions=exception_rows(
            report.facts,
            history.problems_in(as_of - report.window, as_of),
            policy,
            as_of,
            failures=history.failures,
        ),
        policy=policy,
    )
    [written] = write_report(built, Format.HTML, path)
    return written


def _headline(report: Report) -> dict[str, Any]:
    s, o = report.summary, report.summary.overall
    return {
        "as_of": report.as_of.isoformat(),
        "window": format_duration(report.window),
        "input": s.input,
        "routed": o.leads,
        "rejected": s.rejected,
        "exception_rate": s.exception_rate,
        "owner_median_s": o.owner_median_s,
        "owner_within_share": o.owner_within_share,
        "no_activity_share": o.idle_share,
        "sla_compliance": o.sla_compliance,
        "targets": [attrs.asdict(t) for t in report.targets],
    }


def _print_headline(report: Report, exceptions: Sequence[ExceptionRow]) -> None:
    o = report.summary.overall
    out.print(
        f"[bold]{report.summary.input}[/] leads in the {format_duration(report.window)} to "
        f"{report.as_of.isoformat(timespec='minutes')}: "
        f"time to owner median {fmt_seconds(o.owner_median_s)}, "
        f"SLA compliance {fmt_pct(o.sla_compliance)}, "
        f"{len(exceptions)} exception row(s)",
        highlight=False,
    )
    for t in report.targets:
        mark = (
            "[green]on target[/]" if t.ok else "[red]off target[/]" if t.ok is False else "no data"
        )
        sign = ">=" if t.better == "higher" else "<"
        out.print(
            f"  {t.name}: {fmt_pct(t.value)} ({mark}, target {sign} {fmt_pct(t.target)})",
            highlight=False,
        )


def write_report(built: Built, fmt: Format, path: Path | None, *, title: str = "") -> list[Path]:
    """Write the report in one format; returns the files written."""
    report, rows = built.report, built.exceptions
    if fmt == Format.HTML:
        from leadroute.reporting.dashboard import write_dashboard  # noqa: PLC0415 - plotly

        target = path or Path("leadroute-report.html")
        return [write_dashboard(target, report, rows, title=title or built.policy.name)]
    if fmt == Format.JSON:
        target = path or Path("leadroute-report.json")
        text = json.dumps(report_to_dict(report, rows), indent=2, sort_keys=True)
        return [write_text_atomic(target, text + "\n")]
    target = path or Path("leadroute-report.csv")
    metrics = target.with_name(f"{target.stem}-metrics{target.suffix or '.csv'}")
    write_csv_atomic(target, LEAD_COLUMNS, [list(r.values()) for r in lead_rows(report)])
    write_csv_atomic(metrics, METRIC_COLUMNS, [list(r.values()) for r in metric_rows(report)])
    return [target, metrics]


@report_app.callback(invoke_without_command=True)
@handles_errors
def report(
    ctx: typer.Context,
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: ReportInputOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    window: WindowOpt = "30d",
    fmt: Annotated[
        Format, typer.Option("--format", help="html (dashboard), json or csv (for BI tools).")
    ] = Format.HTML,
    output: Annotated[
        Path | None,
        typer.Option("--out", help="File to write. [default: leadroute-report.<format>]"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the routing dashboard: time to owner, first touch, SLA, exceptions, fairness."""
    if ctx.invoked_subcommand is not None:
        return
    check_file(output or Path(f"leadroute-report.{fmt}"), "--out")
    built = build_report(policy_file, source, input_dir, store, _parse_at(at), _window(window))
    written = write_report(built, fmt, output)
    if as_json:
        _emit_json(
            {
                "command": "report",
                "format": str(fmt),
                "outputs": [str(p) for p in written],
                "summary": _headline(built.report),
            }
        )
        return
    _print_headline(built.report, built.exceptions)
    for path in written:
        out.print(f"{fmt} report: {path}", highlight=False)


@report_app.command("exceptions")
@handles_errors
def exceptions(
    policy_file: PolicyOpt = Path("leadroute.yaml"),
    source: SourceOpt = "csv",
    input_dir: ReportInputOpt = None,
    store: StoreOpt = None,
    at: AtOpt = None,
    window: WindowOpt = "30d",
    output: Annotated[
        Path | None, typer.Option("--out", help="Also write the list to this CSV file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every lead needing a human: blank or fallback owner, duplicate, bad source, no activity."""
    if output is not None:
        check_file(output, "--out")
    built = build_report(policy_file, source, input_dir, store, _parse_at(at), _window(window))
    rows = built.exceptions
    cells = [
        [
            r.lead_id,
            r.reason_code,
            r.reason,
            r.action,
            r.owner_id,
            r.since.isoformat() if r.since else "",
            r.where,
        ]
        for r in rows
    ]
    if output is not None:
        write_csv_atomic(output, EXCEPTION_COLUMNS, cells)
    counts = dict(sorted(Counter(r.reason_code for r in rows).items()))
    if as_json:
        _emit_json(
            {
                "command": "report exceptions",
                "counts": counts,
                "exceptions": [dict(zip(EXCEPTION_COLUMNS, c, strict=True)) for c in cells],
                "outputs": [str(output)] if output else [],
            }
        )
        return
    table = Table(title=f"{len(rows)} lead(s) need a human", title_justify="left")
    for column in ("lead", "reason", "owner", "why", "what to do"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.lead_id, r.reason_code, r.owner_id or "-", r.reason, r.action)
    out.print(table)
    if output is not None:
        out.print(f"exceptions: {output}", highlight=False)
