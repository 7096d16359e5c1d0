"""The HTML dashboard on the fixed history: self-contained, every chart with data, escaped."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import attrs
from tests.reporting.conftest import AS_OF

from leadroute.reporting.dashboard import build_charts, write_dashboard
from leadroute.reporting.exceptions import exception_rows
from leadroute.reporting.formats import fmt_pct, fmt_seconds
from leadroute.reporting.metrics import compute_report


def render(history, policy, reps, tmp_path):
    """Write the dashboard for the fixed history and return its text."""
    report = compute_report(history, policy, as_of=AS_OF, window=timedelta(days=30), reps=reps)
    rows = exception_rows(report.facts, history.problems, policy, AS_OF)
    return write_dashboard(tmp_path / "d.html", report, rows, title="Test").read_text()


def test_dashboard_is_self_contained(history, policy, reps, tmp_path):
    """No script, style or image comes from elsewhere; plotly.js is inlined exactly once."""
    html = render(history, policy, reps, tmp_path)
    assert html.count("* plotly.js v") == 1 and "Plotly.newPlot" in html
    page = re.sub(r"<script>/\*\*\n\* plotly\.js.*?</script>", "", html, count=1, flags=re.S)
    assert len(page) < len(html) // 4  # what is left is the page itself, not the library
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page


def test_every_chart_is_embedded_with_its_data(history, policy, reps, tmp_path):
    """Each of the six charts is a div plus its figure as JSON with at least one trace."""
    html = render(history, policy, reps, tmp_path)
    figures = dict(
        re.findall(
            r'<script type="application/json" data-figure="([^"]+)">(.*?)</script>', html, re.S
        )
    )
    assert set(figures) == {
        "chart-routes",
        "chart-owner-time",
        "chart-sla",
        "chart-load",
        "chart-fairness",
        "chart-exceptions",
    }
    for payload in figures.values():
        assert json.loads(payload)["data"]


def test_a_chart_without_data_is_left_out(history, policy):
    """Without reps there is no load or fairness to draw: those charts are omitted, not empty."""
    report = compute_report(history, policy, as_of=AS_OF, window=timedelta(days=30))
    assert {c.id for c in build_charts(report)} == {
        "chart-routes",
        "chart-owner-time",
        "chart-sla",
        "chart-exceptions",
    }


def test_tables_list_the_leads_needing_a_human(history, policy, reps, tmp_path):
    """The blank-owner, fallback, past-SLA and no-activity tables hold the right leads."""
    html = render(history, policy, reps, tmp_path)

    def leads_in(code: str) -> list[str]:
        block = html.split(f'id="table-{code}"', 1)[1].split('<div class="card"', 1)[0]
        return re.findall(r'<td class="id">([A-Z])</td>', block)

    assert leads_in("blank_owner") == ["F"]
    assert leads_in("fallback_owner") == ["D"]
    assert leads_in("past_sla") == ["C", "D"]
    assert leads_in("no_activity") == ["C", "D"]


def test_text_from_the_data_is_escaped(history, policy, reps, tmp_path):
    """A problem message carrying markup is shown as text, never run as HTML."""
    evil = attrs.evolve(history.problems[0], message="<script>alert(1)</script>")
    html = render(
        attrs.evolve(history, problems=(evil, *history.problems[1:])), policy, reps, tmp_path
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_number_formats():
    """Durations read as s, min, h, d; shares as percentages; missing data as a dash."""
    assert [fmt_seconds(v) for v in (45, 600, 7200, 200000, None)] == [
        "45 s",
        "10 min",
        "2.0 h",
        "2.3 d",
        "—",
    ]
    assert (fmt_pct(0.954), fmt_pct(None)) == ("95.4%", "—")


def test_dashboard_never_writes_through_a_planted_symlink(history, policy, reps, tmp_path):
    """A symlink at the old predictable <out>.tmp or at the output itself is never followed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "d.html.tmp").symlink_to(victim)
    (tmp_path / "e.html").symlink_to(victim)
    report = compute_report(history, policy, as_of=AS_OF, window=timedelta(days=30), reps=reps)
    rows = exception_rows(report.facts, history.problems, policy, AS_OF)
    write_dashboard(tmp_path / "d.html", report, rows)
    write_dashboard(tmp_path / "e.html", report, rows)
    assert victim.read_text() == "precious"
    assert not (tmp_path / "e.html").is_symlink()
