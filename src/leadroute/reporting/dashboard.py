"""The HTML dashboard: one self-contained file (plotly.js inlined once, no network to open it).

Charts are plotly figures built here and rendered client-side by the bundled plotly.js;
tables of the leads that need a human come from the exception report. Every chart div
carries ``data-chart`` so the browser test can check each one rendered with data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import jinja2
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from leadroute.files import write_text_atomic
from leadroute.policy import format_duration
from leadroute.reporting.exceptions import ExceptionRow
from leadroute.reporting.formats import fmt_pct, fmt_seconds
from leadroute.reporting.metrics import Report

__all__ = ["Chart", "build_charts", "fmt_pct", "fmt_seconds", "render_dashboard", "write_dashboard"]

GREEN, RED, AMBER, BLUE, GREY, INK = (
    "#1a9e5c",
    "#d64545",
    "#e8a33d",
    "#3867d6",
    "#aab4c3",
    "#1f2a3c",
)
PALETTE = [BLUE, GREEN, AMBER, "#8e5bd6", RED, "#20a4b8"]


@attrs.frozen(kw_only=True)
class Chart:
    """One chart of the dashboard.

    Attributes:
        id: The div id (``chart-routes``).
        title: Heading above it.
        note: One line saying how to read it.
        figure: The plotly figure.
    """

    id: str
    title: str
    note: str
    figure: go.Figure

    def html(self) -> Markup:
        """The chart's div and its figure as inert JSON; ``draw_script`` draws them all."""
        height = self.figure.layout.height or 320
        payload = pio.to_json(self.figure, validate=False).replace("</", "<\\/")
        return Markup(  # noqa: S704 - ids are ours; the payload is JSON with "</" escaped
            f'<div id="{self.id}" class="chart" style="width:100%;height:{height}px"></div>\n'
            f'<script type="application/json" data-figure="{self.id}">{payload}</script>'
        )


# Charts are drawn once the page is laid out: drawing while the grid still holds one card
# would size every chart to the full page width.
DRAW_SCRIPT = Markup(
    """<script>
window.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("script[data-figure]").forEach(function (node) {
    var figure = JSON.parse(node.textContent);
    Plotly.newPlot(node.getAttribute("data-figure"), figure.data, figure.layout,
                   {displaylogo: false, responsive: true});
  });
});
</script>"""
)


def _layout(fig: go.Figure, *, height: int = 320, **extra: Any) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 12, "color": INK},
        legend={"orientation": "h", "y": -0.18},
        **extra,
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _routes(report: Report) -> go.Figure:
    rows = sorted(report.by_route, key=lambda r: r.leads)
    keys = [r.key for r in rows]
    touched = Counter(f.route for f in report.facts if f.first_touch_at is not None)
    series = (
        ("assigned", [r.leads for r in rows], GREY),
        ("touched", [touched[r.key] for r in rows], BLUE),
        ("meeting booked", [r.meetings for r in rows], GREEN),
        ("converted", [r.conversions for r in rows], "#8e5bd6"),
    )
    fig = go.Figure(
        [go.Bar(name=n, y=keys, x=v, orientation="h", marker_color=c) for n, v, c in series]
    )
    return _layout(fig, height=max(280, 46 * len(keys) + 90), barmode="group")


def _owner_histogram(report: Report) -> go.Figure:
    labels = list(report.owner_histogram)
    colors = [GREEN if i == 0 else (AMBER if i < 3 else RED) for i in range(len(labels))]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=list(report.owner_histogram.values()),
            marker_color=colors,
            text=list(report.owner_histogram.values()),
            textposition="outside",
        )
    )
    return _layout(fig, yaxis_title="leads", xaxis_title="time from lead created to owner")


def _sla_over_time(report: Report) -> go.Figure:
    days = [d.day for d in report.days]
    fig = go.Figure(
        [
            go.Bar(name="met", x=days, y=[d.sla_met for d in report.days], marker_color=GREEN),
            go.Bar(
                name="breached", x=days, y=[d.sla_breached for d in report.days], marker_color=RED
            ),
            go.Scatter(
                name="compliance",
                x=days,
                y=[
                    None if d.sla_compliance is None else d.sla_compliance * 100
                    for d in report.days
                ],
                yaxis="y2",
                mode="lines+markers",
                line={"color": INK, "width": 2},
            ),
        ]
    )
    return _layout(
        fig,
        barmode="stack",
        yaxis={"title": "leads assigned"},
        yaxis2={"title": "compliance %", "overlaying": "y", "side": "right", "range": [0, 105]},
        xaxis={"type": "category"},
    )


def _loads(report: Report) -> go.Figure:
    rows = sorted((r for r in report.loads if r.capacity), key=lambda r: r.utilisation or 0)
    labels = [f"{r.name or r.rep_id}" for r in rows]
    colors = [
        RED if (r.utilisation or 0) >= 1 else AMBER if (r.utilisation or 0) >= 0.85 else BLUE
        for r in rows
    ]
    fig = go.Figure(
        [
            go.Bar(
                name="capacity",
                y=labels,
                x=[r.capacity for r in rows],
                orientation="h",
                marker_color="#e6eaf0",
            ),
            go.Bar(
                name="open leads",
                y=labels,
                x=[r.open_leads for r in rows],
                orientation="h",
                marker_color=colors,
                width=0.5,
            ),
        ]
    )
    return _layout(
        fig, height=max(300, 22 * len(rows) + 90), barmode="overlay", xaxis_title="open leads"
    )


def _fairness(report: Report) -> go.Figure:
    rows = sorted(
        (f for f in report.fairness if f.actual is not None),
        key=lambda f: (f.pool, f.rep_id),
        reverse=True,
    )
    labels = [f"{f.pool} · {f.rep_id}" for f in rows]
    fig = go.Figure(
        [
            go.Bar(
                name="actual share",
                y=labels,
                x=[(f.actual or 0) * 100 for f in rows],
                orientation="h",
                marker_color=[
                    RED if abs((f.actual or 0) - f.intended) > 0.5 * f.intended else BLUE
                    for f in rows
                ],
            ),
            go.Scatter(
                name="intended share",
                y=labels,
                x=[f.intended * 100 for f in rows],
                mode="markers",
                marker={"symbol": "line-ns-open", "size": 16, "color": INK, "line": {"width": 3}},
            ),
        ]
    )
    return _layout(fig, height=max(300, 22 * len(rows) + 90), xaxis_title="% of the pool's leads")


def _exceptions(report: Report) -> go.Figure:
    reasons = report.summary.exceptions_by_reason
    keys = list(reversed(list(reasons)))
    fig = go.Figure(
        go.Bar(
            y=keys,
            x=[reasons[k] for k in keys],
            orientation="h",
            marker_color=RED,
            text=[reasons[k] for k in keys],
            textposition="outside",
        )
    )
    return _layout(fig, height=max(240, 40 * len(keys) + 80), xaxis_title="leads")


def build_charts(report: Report) -> list[Chart]:
    """The dashboard's charts; a chart without data is left out rather than drawn empty."""
    charts = [
        Chart(
            id="chart-routes",
            title="Assignments and outcomes by route path",
            note="Is every route path producing worked leads? A path with many assignments "
            "and few touches or meetings needs a look.",
            figure=_routes(report),
        ),
        Chart(
            id="chart-owner-time",
            title="Time to owner",
            note="From lead creation to an owner. Target: under a minute for at least 95% of leads.",
            figure=_owner_histogram(report),
        ),
        Chart(
            id="chart-sla",
            title="First-touch SLA compliance by day",
            note="Leads by assignment day: touched within their SLA (green) or not (red); "
            "the line is the day's compliance.",
            figure=_sla_over_time(report),
        ),
        Chart(
            id="chart-load",
            title="Load against capacity",
            note="Open leads per rep (blue; amber from 85%, red when full) against the cap (grey).",
            figure=_loads(report),
        ),
        Chart(
            id="chart-fairness",
            title="Fairness: share of each pool's leads",
            note="Bars: the share each member received; dashes: the share the pool's strategy intends.",
            figure=_fairness(report),
        ),
        Chart(
            id="chart-exceptions",
            title="Exceptions by reason",
            note="Leads that went to the fallback queue, were rejected, or were flagged for review.",
            figure=_exceptions(report),
        ),
    ]
    return [c for c in charts if _has_data(c.figure)]


def _has_data(fig: go.Figure) -> bool:
    return any(
        any(v not in (None, 0) for v in (trace.x if trace.orientation == "h" else trace.y) or ())
        for trace in fig.data
    )


def _needs_human(
    report: Report, exceptions: Sequence[ExceptionRow]
) -> dict[str, list[ExceptionRow]]:
    tables: dict[str, list[ExceptionRow]] = defaultdict(list)
    for row in exceptions:
        tables[row.reason_code].append(row)
    past_sla = []
    for f in report.facts:
        if f.first_touch_at is None and f.sla_state(report.as_of) == "breached":
            past_sla.append(
                ExceptionRow(
                    lead_id=f.lead_id,
                    reason_code="PAST_SLA",
                    reason=f"untouched {fmt_seconds((report.as_of - f.assigned_at).total_seconds())} "
                    f"after assignment; SLA {format_duration(f.sla)} ({f.lead_type or 'default'})",
                    action="reassign it now (leadroute rebalance) or get the owner on it",
                    owner_id=f.owner_id,
                    since=f.assigned_at,
                )
            )
    tables["PAST_SLA"] = past_sla
    return tables


TABLES = (
    ("BLANK_OWNER", "Blank owner", "Rejected before routing: nobody owns these leads."),
    (
        "FALLBACK_OWNER",
        "In the fallback queue",
        "The queue owner must place them before escalation.",
    ),
    ("PAST_SLA", "Past their SLA, untouched", "Assigned, never touched, deadline gone."),
    (
        "NO_ACTIVITY",
        "No activity since assignment",
        "No first touch 30 minutes or more after assignment.",
    ),
    ("REP_REJECTED", "Declined by their owner", "The owner rejected them and still holds them."),
    ("DUPLICATE", "Duplicates", "The data says these records repeat another one."),
    (
        "INVALID_SOURCE",
        "Invalid source value",
        "Source values the policy does not know (validation.sources).",
    ),
    ("REVIEW", "Flagged for review", "Routed, with a problem a human should check."),
)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leadroute.reporting", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = fmt_pct
    env.filters["secs"] = fmt_seconds
    env.filters["when"] = lambda d: "" if d is None else f"{d:%Y-%m-%d %H:%M}"
    return env


def render_dashboard(
    report: Report,
    exceptions: Sequence[ExceptionRow],
    *,
    title: str = "",
    generated_at: datetime | None = None,
) -> str:
    """The dashboard as one HTML document."""
    template = _environment().get_template("dashboard.html.j2")
    tables = _needs_human(report, exceptions)
    return template.render(
        title=title or "Lead routing report",
        report=report,
        s=report.summary,
        o=report.summary.overall,
        charts=build_charts(report),
        tables=[(code, label, note, tables.get(code, [])) for code, label, note in TABLES],
        window=format_duration(report.window),
        generated_at=generated_at or report.as_of,
        plotly_js=Markup(get_plotlyjs()),  # noqa: S704 - the bundled library, verbatim
        draw_script=DRAW_SCRIPT,
    )


def write_dashboard(
    path: Path, report: Report, exceptions: Sequence[ExceptionRow], *, title: str = ""
) -> Path:
    """Write the dashboard atomically, never through a symlink (``leadroute.files``)."""
    return write_text_atomic(path, render_dashboard(report, exceptions, title=title))
