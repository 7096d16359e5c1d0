"""Every metric on the fixed history of conftest.py, with the numbers worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from tests.reporting.conftest import AS_OF, T0

from leadroute.reporting.metrics import compute_report, median, p90

WINDOW = timedelta(days=30)


@pytest.fixture
def report(history, policy, reps):
    """The report over the last 30 days as of T0 + 2 days."""
    return compute_report(history, policy, as_of=AS_OF, window=WINDOW, reps=reps)


def test_median_and_p90_conventions():
    """Median averages the two middle values; p90 is the nearest-rank value; empty is None."""
    assert median([10, 30, 120, 300]) == 75.0
    assert p90([10, 30, 120, 300]) == 300.0
    assert p90(list(range(1, 11))) == 9.0
    assert median([]) is None
    assert p90([]) is None


def test_window_keeps_leads_first_decided_inside_it(report):
    """The lead decided 40 days ago is outside a 30-day window; the five at T0 are inside."""
    assert report.summary.overall.leads == 5
    assert [f.lead_id for f in report.facts] == ["A", "B", "C", "D", "E"]


def test_time_to_owner(report):
    """Owner times 10, 30, 120, 300 s (E kept its owner): median 75 s, p90 300 s, 2/4 in a minute."""
    o = report.summary.overall
    assert (o.owner_median_s, o.owner_p90_s, o.owner_within_share) == (75.0, 300.0, 0.5)
    assert report.owner_histogram == {
        "< 1 min": 2,
        "1-5 min": 1,
        "5-30 min": 1,
        "30 min-1 h": 0,
        "1-4 h": 0,
        "4-24 h": 0,
        "> 1 day": 0,
    }


def test_first_touch_and_no_activity(report):
    """Touches at 5, 10, 45 min: median 10 min, p90 45 min; B, C, D idle past 30 min: 3/5."""
    o = report.summary.overall
    assert (o.touch_median_s, o.touch_p90_s) == (600.0, 2700.0)
    assert (o.idle, o.idle_share) == (3, 0.6)


def test_no_activity_is_undecided_until_its_time_has_passed(history, policy):
    """Ten minutes after T0, later touches are unseen: B, C, D are open, not yet idle."""
    r = compute_report(history, policy, as_of=T0 + timedelta(minutes=10), window=WINDOW)
    assert (r.summary.overall.idle, r.summary.overall.idle_share) == (0, 0.0)
    assert r.summary.overall.sla_open == 3  # B, C (1 h) and D (15 min) still inside their SLA


def test_sla_compliance_uses_the_lead_type_sla(report):
    """A (demo, 10 min < 15 min), B (45 min < 1 h) and E met; C and D breached: 3/5."""
    o = report.summary.overall
    assert (o.sla_met, o.sla_breached, o.sla_open, o.sla_compliance) == (3, 2, 0, 0.6)
    [day] = report.days
    assert (day.day, day.assigned, day.sla_met, day.sla_breached) == ("2026-11-02", 5, 3, 2)


def test_the_default_sla_applies_where_no_type_set_a_deadline(history, policy):
    """With a 30 min default, B (contact, touched at 45 min) breaches; demos keep their 15 min."""
    from tests.reporting.conftest import POLICY

    from leadroute.policy import parse_policy

    tight = parse_policy(POLICY + "reporting: {first_touch_sla: 30m}\n")
    r = compute_report(history, tight, as_of=AS_OF, window=WINDOW)
    assert (r.summary.overall.sla_met, r.summary.overall.sla_breached) == (2, 3)


def test_nurture_leads_have_no_sales_sla_or_idle_clock(history, policy):
    """A lead parked in nurture is neither breached nor idle: sales is not meant to touch it."""
    from leadroute.models import RouteStep

    nurtured = tuple(
        attrs.evolve(d, step=RouteStep.NURTURE) if d.lead_id == "C" else d
        for d in history.decisions
    )
    r = compute_report(
        attrs.evolve(history, decisions=nurtured), policy, as_of=AS_OF, window=WINDOW
    )
    o = r.summary.overall
    assert (o.sla_met, o.sla_breached, o.idle, o.idle_share) == (3, 1, 2, 0.5)


def test_exception_rate_counts_rejected_fallback_and_review(report):
    """Two rejected leads (F, duplicate A) and fallback D over 7 input leads: 3/7; 1 duplicate."""
    s = report.summary
    assert (s.input, s.rejected, s.fallback, s.review) == (7, 2, 1, 0)
    assert s.exception_rate == pytest.approx(3 / 7)
    assert s.exceptions_by_reason == {"DUPLICATE_ID": 1, "FALLBACK_NO_RULE": 1, "MISSING_FIELD": 1}
    assert (s.duplicates, s.duplicate_rate) == (1, pytest.approx(1 / 7))


def test_rates_by_route_path(report):
    """Rule na holds A, B, C (one meeting: 1/3, owner median 30 s); fallback and kept owner apart."""
    rows = {r.key: r for r in report.by_route}
    assert set(rows) == {"rule na", "fallback", "current owner"}
    na = rows["rule na"]
    assert (na.leads, na.meetings, na.meeting_rate) == (3, 1, pytest.approx(1 / 3))
    assert (na.owner_median_s, na.owner_within_share) == (30.0, pytest.approx(2 / 3))
    assert (rows["fallback"].exceptions, rows["fallback"].exception_rate) == (1, 1.0)
    assert rows["current owner"].owner_median_s is None


def test_acceptance_by_rep(report):
    """r1 accepted A (1/1); r2 declined E (0/1); overall 1 of 2."""
    rows = {r.key: r for r in report.by_rep}
    assert (rows["r1"].accepted, rows["r1"].rejected, rows["r1"].acceptance_rate) == (1, 0, 1.0)
    assert (rows["r2"].accepted, rows["r2"].rejected, rows["r2"].acceptance_rate) == (0, 1, 0.0)
    assert report.summary.overall.acceptance_rate == 0.5


def test_groupings_by_type_source_and_pool(report):
    """Types demo 2 / contact 3; sources web 3, event 1, none 1; pool p1 has A, B, C."""
    assert {r.key: r.leads for r in report.by_type} == {"contact": 3, "demo": 2}
    assert {r.key: r.leads for r in report.by_source} == {"web": 3, "event": 1, "(none)": 1}
    assert {r.key: r.leads for r in report.by_pool} == {"p1": 3}


def test_load_against_capacity(report):
    """r1: 3 open + A, C and H (older, still held) = 6/10; r2: 1 open + B = 2/4 (E counted); q: D."""
    loads = {r.rep_id: r for r in report.loads}
    assert (loads["r1"].open_leads, loads["r1"].utilisation, loads["r1"].assigned) == (6, 0.6, 2)
    assert (loads["r2"].open_leads, loads["r2"].utilisation) == (2, 0.5)
    assert (loads["q"].open_leads, loads["q"].capacity, loads["q"].utilisation) == (1, None, None)


def test_fairness_against_intended_share(report):
    """Round robin intends 1/2 each; r1 got A and C (2/3), r2 got B (1/3)."""
    shares = {f.rep_id: f for f in report.fairness}
    assert shares["r1"].actual == pytest.approx(2 / 3)
    assert shares["r2"].actual == pytest.approx(1 / 3)
    assert shares["r1"].intended == shares["r2"].intended == 0.5


def test_targets_say_which_metric_is_off(report):
    """0.5 within a minute (< 95%), 3/7 exceptions (>= 5%), 0.6 idle (>= 10%): all off target."""
    assert [(t.name, t.ok) for t in report.targets] == [
        ("owner within 1 min", False),
        ("exception rate", False),
        ("no activity after 30 min", False),
    ]


def test_stale_mqls_and_unworked_sqls_come_from_the_recorded_stage(history, policy):
    """C (untouched) recorded as an SQL is unworked past its SLA; as an MQL, stale after 7 days."""

    def staged(stage):
        return attrs.evolve(
            history,
            decisions=tuple(
                attrs.evolve(d, lifecycle_stage=stage) if d.lead_id == "C" else d
                for d in history.decisions
            ),
        )

    r = compute_report(staged("sql"), policy, as_of=AS_OF, window=WINDOW)
    assert (r.unworked_sqls, r.stale_mqls) == (("C",), ())
    early = compute_report(staged("mql"), policy, as_of=AS_OF, window=WINDOW)
    assert early.stale_mqls == ()
    later = compute_report(staged("mql"), policy, as_of=AS_OF + timedelta(days=6), window=WINDOW)
    assert later.stale_mqls == ("C",)


def test_an_empty_history_reports_no_data_not_zero():
    """With nothing routed every share is None and no target claims to be met or missed."""
    from leadroute.policy import parse_policy
    from leadroute.reporting.history import History

    r = compute_report(
        History(), parse_policy("version: '1'\nfallback: {owner: q}\n"), as_of=AS_OF, window=WINDOW
    )
    assert r.summary.overall.owner_within_share is None
    assert r.summary.exception_rate is None
    assert {t.ok for t in r.targets} == {None}
