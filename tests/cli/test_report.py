"""leadroute report and report exceptions as a user drives them, and the demo's dashboard in a browser."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.demo import EDGE_CASES

runner = CliRunner()
AS_OF = "2026-11-02T09:00:00Z"  # the demo's clock
CHARTS = {
    "chart-routes",
    "chart-owner-time",
    "chart-sla",
    "chart-load",
    "chart-fairness",
    "chart-exceptions",
}


def invoke(*args: str, cwd: Path | None = None):
    if cwd is None:
        return runner.invoke(app, list(args), catch_exceptions=False)
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """One demo run (routes, writes activity.csv and dashboard.html) shared by this module."""
    out = tmp_path_factory.mktemp("report-demo")
    result = invoke("demo", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    (out / "demo.json").write_text(result.stdout)
    return out


def demo_counts(demo: Path) -> dict:
    """The demo's own counts (input, routed, fallback, exceptions)."""
    return json.loads((demo / "demo.json").read_text())["counts"]


def report_args(demo: Path, *extra: str) -> list[str]:
    return [
        "--policy",
        str(demo / "leadroute.yaml"),
        "--input",
        str(demo),
        "--store",
        str(demo / ".leadroute" / "leadroute.db"),
        "--at",
        AS_OF,
        *extra,
    ]


def test_demo_ends_with_the_dashboard_and_keeps_json_valid(demo):
    """The demo's --json output stays one JSON object and names the dashboard it wrote."""
    data = json.loads((demo / "demo.json").read_text())
    dashboard = Path(data["outputs"]["dashboard"])
    assert dashboard == demo / "dashboard.html" and dashboard.stat().st_size > 1_000_000
    assert data["counts"]["new"] == data["counts"]["routed"] + data["counts"]["fallback"]


def test_demo_activity_is_realistic(demo):
    """activity.csv has touches, meetings, conversions, a rejection and SLA breaches; some leads none."""
    with (demo / "activity.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {r["kind"] for r in rows}
    assert {"first_touch", "meeting_booked", "converted", "rejected", "sla_breached"} <= kinds
    touched = {r["lead_id"] for r in rows if r["kind"] == "first_touch"}
    assert 150 < len(touched) < 290  # most leads, not all
    assert [r["lead_id"] for r in rows if r["kind"] == "rejected"] == list(
        EDGE_CASES["declined_by_owner"]
    )


def test_report_json_has_every_metric(demo):
    """--format json writes the metrics, targets, groups, per-lead rows and exceptions."""
    out = demo / "r.json"
    result = invoke("report", *report_args(demo, "--format", "json", "--out", str(out)))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    s, c = data["summary"], demo_counts(demo)
    assert (s["input"], s["rejected"]) == (c["input"], c["exceptions"])
    assert s["overall"]["leads"] == c["routed"] + c["fallback"]
    assert 0 < s["overall"]["owner_within_share"] < 1
    assert 0 < s["overall"]["sla_compliance"] < 1
    assert {t["name"] for t in data["targets"]} == {
        "owner within 1 min",
        "exception rate",
        "no activity after 30 min",
    }
    assert data["by_route"] and data["by_rep"] and data["by_type"] and data["by_source"]
    assert len(data["leads"]) == s["overall"]["leads"]
    codes = {e["reason_code"] for e in data["exceptions"]}
    assert {
        "BLANK_OWNER",
        "FALLBACK_OWNER",
        "INVALID_SOURCE",
        "NO_ACTIVITY",
        "REP_REJECTED",
    } <= codes


def test_report_csv_for_bi_tools(demo):
    """--format csv writes one row per lead and a long table of metrics by group."""
    out = demo / "bi" / "report.csv"
    result = invoke("report", *report_args(demo, "--format", "csv", "--out", str(out), "--json"))
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)["outputs"]
    assert written == [str(out), str(out.with_name("report-metrics.csv"))]
    with out.open(newline="", encoding="utf-8") as fh:
        leads = list(csv.DictReader(fh))
    c = demo_counts(demo)
    assert len(leads) == c["routed"] + c["fallback"]
    assert {"lead_id", "time_to_owner_s", "sla_state"} <= set(leads[0])
    with Path(written[1]).open(newline="", encoding="utf-8") as fh:
        metrics = list(csv.DictReader(fh))
    assert {m["group"] for m in metrics} == {"all", "route", "pool", "rep", "lead_type", "source"}


def test_report_html_and_json_summary(demo):
    """The default writes the HTML dashboard; --json prints the headline with each target."""
    out = demo / "dash.html"
    result = invoke("report", *report_args(demo, "--out", str(out), "--json"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outputs"] == [str(out)] and out.read_text().startswith("<!doctype html>")
    c = demo_counts(demo)
    assert data["summary"]["routed"] == c["routed"] + c["fallback"]
    assert len(data["summary"]["targets"]) == 3


def test_report_human_output(demo):
    """Without --json the report prints each target with its verdict and the file path."""
    out = demo / "dash2.html"
    result = invoke("report", *report_args(demo, "--out", str(out)))
    assert result.exit_code == 0
    assert "owner within 1 min" in result.stdout and "off target" in result.stdout
    assert str(out) in result.stdout.replace("\n", "")


def test_window_limits_the_leads(demo):
    """A 1-day window holds only the leads first routed in the last day."""
    result = invoke(
        "report",
        *report_args(
            demo, "--window", "1d", "--format", "csv", "--out", str(demo / "w.csv"), "--json"
        ),
    )
    assert result.exit_code == 0
    c = demo_counts(demo)
    assert 0 < json.loads(result.stdout)["summary"]["routed"] < c["routed"] + c["fallback"]


def test_report_exceptions_lists_reason_and_action(demo):
    """report exceptions lists each stuck lead with reason and action, as JSON and as CSV."""
    out = demo / "exc.csv"
    result = invoke("report", "exceptions", *report_args(demo, "--json", "--out", str(out)))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_lead = {(e["lead_id"], e["reason_code"]): e for e in data["exceptions"]}
    missing = by_lead[("L-0061", "BLANK_OWNER")]
    assert "MISSING_FIELD" in missing["reason"] and "email" in missing["action"]
    assert ("L-0041", "FALLBACK_OWNER") in by_lead
    assert (EDGE_CASES["unknown_source"][0], "INVALID_SOURCE") in by_lead
    assert (EDGE_CASES["declined_by_owner"][0], "REP_REJECTED") in by_lead
    assert data["counts"]["NO_ACTIVITY"] > 0
    with out.open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(data["exceptions"])
    human = invoke("report", "exceptions", *report_args(demo))
    assert human.exit_code == 0 and "need a human" in human.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "soon"], "--window: expected a duration"),
        (["--window", "0m"], "--window: '0m' must be longer than zero"),
        (["--at", "yesterday"], "--at: 'yesterday' is not an ISO-8601 date-time"),
        (["--format", "pdf"], "pdf"),
    ],
)
def test_bad_options_fail_with_one_line(demo, args, message):
    """A bad option is one line on stderr and exit code 2, never a traceback."""
    result = runner.invoke(app, ["report", *report_args(demo, *args)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_report_without_a_store_says_so(tmp_path, demo):
    """Reporting before any routing names the missing store and exits 2."""
    missing = tmp_path / "none.db"
    result = runner.invoke(
        app, ["report", "--policy", str(demo / "leadroute.yaml"), "--store", str(missing)]
    )
    assert result.exit_code == 2
    assert f"--store: {missing} does not exist" in result.stderr


# --------------------------------------------------------------------------- browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRED = os.environ.get("LEADROUTE_REQUIRE_BROWSER") == "1"


def _browser():
    """Headless Debian chromium through its own chromedriver (never a downloaded browser)."""
    if not (CHROMIUM and CHROMEDRIVER):
        reason = (
            "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )
        if REQUIRED:
            pytest.fail(f"LEADROUTE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


CHART_STATE = """
return Array.from(document.querySelectorAll('[data-chart]')).map(function (card) {
  var gd = card.querySelector('.js-plotly-plot');
  var points = 0;
  (gd && gd.data || []).forEach(function (t) {
    (t.orientation === 'h' ? t.x : t.y || []).forEach(function (v) { if (v) points += 1; });
  });
  return {id: card.getAttribute('data-chart'), drawn: !!(gd && gd.querySelector('svg.main-svg')),
          traces: gd && gd.data ? gd.data.length : 0, points: points};
});
"""


def test_demo_dashboard_renders_every_chart_in_chromium(demo, tmp_path):
    """The demo dashboard opens offline in headless Chromium: no console errors, every chart has data."""
    driver = _browser()
    try:
        driver.get((demo / "dashboard.html").as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 30).until(
            lambda d: all(c["drawn"] for c in d.execute_script(CHART_STATE))
        )
        charts = driver.execute_script(CHART_STATE)
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
        )
        driver.save_screenshot(str(tmp_path / "dashboard.png"))
    finally:
        driver.quit()
    assert errors == []
    assert {c["id"] for c in charts} == CHARTS
    for chart in charts:
        assert chart["traces"] >= 1 and chart["points"] >= 1, chart
    assert fetched == []  # self-contained: nothing loaded from anywhere


@pytest.mark.parametrize("fmt", ["json", "html", "csv"])
def test_report_replaces_a_symlink_at_its_output_instead_of_following_it(demo, tmp_path, fmt):
    """report --out LINK writes a new file where the link was; the link's target is untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / f"report.{fmt}"
    link.symlink_to(victim)
    result = runner.invoke(app, ["report", *report_args(demo, "--format", fmt, "--out", str(link))])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious" and not link.is_symlink()


def test_the_run_summary_and_the_dashboard_agree(demo, tmp_path):
    """demo --json and report --format json give the same input, exceptions and duplicates."""
    counts = demo_counts(demo)
    out = tmp_path / "r.json"
    result = invoke(
        "report",
        "--policy",
        str(demo / "leadroute.yaml"),
        "--store",
        str(demo / ".leadroute" / "leadroute.db"),
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    s = json.loads(out.read_text())["summary"]
    assert (s["input"], s["rejected"], s["fallback"]) == (
        counts["input"],
        counts["rejected"],
        counts["fallback"],
    )
    assert s["rejected"] + s["fallback"] + s["review"] == counts["needs_human"]
    assert round(s["exception_rate"], 4) == counts["exception_rate"]
    assert s["duplicates"] == counts["duplicates"] > 0
    assert round(s["duplicate_rate"], 4) == counts["duplicate_rate"]


def test_the_route_step_table_adds_up_to_the_leads(demo, tmp_path):
    """Every lead is one row of "By route step": steps, fallback causes and rejected codes."""
    c = demo_counts(demo)
    steps = sum(n for step, n in c["by_step"].items() if step != "fallback")
    assert (
        steps + sum(c["fallback_by_code"].values()) + sum(c["exceptions_by_code"].values())
        == (c["input"])
    )
    text = invoke("route", *report_args(demo), "--out", str(tmp_path))
    rows = [line for line in text.stdout.splitlines() if line.startswith("│")]
    table = rows[: rows.index(next(r for r in rows if "total" in r)) + 1]
    numbers = [int(r.split("│")[2]) for r in table]
    assert sum(numbers[:-1]) == numbers[-1] == c["input"]


def test_a_report_after_the_demo_needs_no_date(demo):
    """With no --at, the report of the demo's store (dated 2 Nov 2026) shows its 300 leads."""
    result = invoke("report", "--json", cwd=demo)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["as_of"].startswith("2026-11-02T09:00")
    assert summary["input"] == demo_counts(demo)["input"]
