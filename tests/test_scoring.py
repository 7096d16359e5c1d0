"""Scoring: rule points, time decay, caps per group and per rule, and the lifecycle stage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from

from leadroute.models import LeadEvent, ScoreContribution
from leadroute.pipeline import Decided, Trail
from leadroute.scoring import combine, decay, format_score, rule_contributions

SCORED = (
    BASE_POLICY
    + """
scoring:
  mql: 60
  sql: 100
  half_life: 14d
  caps: {behaviour: 50}
  rules:
    - {name: enterprise, group: fit, when: {employees: {gte: 200}}, points: 30}
    - {name: student, group: fit, when: {email: {prefix: student}}, points: -20}
    - {name: pricing-page, group: behaviour, event: pricing_page, points: 20}
    - {name: page-visits, group: behaviour, event: page_visit, points: 2, cap: 10}
    - {name: demo-request, group: intent, event: demo_request, points: 40}
"""
)


def event(kind, days_ago=0.0, count=1):
    return LeadEvent(kind=kind, at=AT - timedelta(days=days_ago), count=count)


def score_of(policy, **fields):
    parts = rule_contributions(lead("L1", **fields), policy.scoring, AT)
    return combine(parts, policy)


def test_decay_halves_points_every_half_life():
    """An event one half-life old is worth half, two half-lives a quarter; none: no decay."""
    assert decay(timedelta(days=14), timedelta(days=14)) == 0.5
    assert decay(timedelta(days=28), timedelta(days=14)) == 0.25
    assert decay(timedelta(days=28), None) == 1.0
    assert decay(timedelta(0), timedelta(days=14)) == 1.0


def test_event_points_decay_by_age():
    """A pricing-page view 14 days old gives 10 of its 20 points, and says so."""
    policy = policy_from(SCORED)
    score = score_of(policy, events=(event("pricing_page", days_ago=14),))
    (part,) = score.contributions
    assert (part.name, part.points) == ("pricing-page", 10.0)
    assert "20 decayed to 10.0" in part.detail


def test_events_after_the_decision_time_do_not_count():
    """A replay at an earlier time sees only the events that had happened by then."""
    policy = policy_from(SCORED)
    assert score_of(policy, events=(event("demo_request", days_ago=-1),)).total == 0


def test_counts_multiply_and_a_rule_cap_limits_one_rule():
    """Twelve page visits at 2 points are 24, capped by the rule at 10."""
    policy = policy_from(SCORED)
    score = score_of(policy, events=(event("page_visit", count=12),))
    assert [(c.name, c.points) for c in score.contributions] == [("page-visits", 10)]
    assert "capped at 10" in score.contributions[0].detail


def test_group_cap_shows_as_its_own_contribution():
    """Three pricing-page views (60) and page visits (10) cap the behaviour group at 50."""
    policy = policy_from(SCORED)
    score = score_of(policy, events=(event("pricing_page", count=3), event("page_visit", count=5)))
    assert [(c.name, c.points) for c in score.contributions] == [
        ("pricing-page", 60),
        ("page-visits", 10),
        ("cap:behaviour", -20),
    ]
    assert score.total == 50


@pytest.mark.parametrize(
    ("fields", "total", "stage"),
    [
        ({}, 0, "lead"),
        ({"employees": 500, "events": (event("pricing_page"),)}, 50, "lead"),
        ({"employees": 500, "events": (event("demo_request"),)}, 70, "mql"),
        (
            {"employees": 500, "events": (event("demo_request"), event("pricing_page", count=2))},
            110,
            "sql",
        ),
        ({"email": "student1@uni.edu", "events": (event("demo_request"),)}, 20, "lead"),
    ],
)
def test_thresholds_set_the_lifecycle_stage(fields, total, stage):
    """Below mql is lead, from mql up mql, from sql up sql; negative points lower the score."""
    score = score_of(policy_from(SCORED), **fields)
    assert (score.total, score.stage) == (total, stage)


def test_no_thresholds_means_no_stage():
    """A scoring section without mql/sql scores but sets no lifecycle stage."""
    policy = policy_from(BASE_POLICY + "scoring: {rules: [{name: all, points: 5}]}\n")
    assert (score_of(policy).total, score_of(policy).stage) == (5, "")


def test_caps_apply_to_plugin_contributions_too():
    """A third party's points count against the policy's cap of their group."""
    policy = policy_from(SCORED)
    score = combine([ScoreContribution(name="intent", points=80, group="behaviour")], policy)
    assert score.total == 50


def test_routing_sees_the_score_and_stage_of_this_request(make_pipeline):
    """The score lands on the lead before routing; a CRM's stale score column is replaced."""
    policy = policy_from(SCORED)
    outcome = make_pipeline(policy=policy).decide(
        lead("L1", employees=500, events=(event("demo_request"),), attributes={"score": "3"}),
        AT,
    )
    assert isinstance(outcome, Decided)
    d = outcome.decision
    assert (d.score, d.lifecycle_stage) == (70, "mql")
    assert {c.name for c in d.score_contributions} == {"enterprise", "demo-request"}
    trail = make_pipeline(policy=policy).start(
        lead("L2", employees=500, events=(event("demo_request"),), attributes={"score": "3"}),
        AT,
        1,
    )
    assert isinstance(trail, Trail)
    assert (trail.lead.get("score"), trail.lead.get("lifecycle_stage")) == ("70", "mql")


def test_without_scoring_nothing_is_scored(make_pipeline):
    """No scoring section and no plugin: no score, and an input score attribute stays."""
    pipeline = make_pipeline()
    outcome = pipeline.decide(lead("L1", attributes={"score": "3"}), AT)
    assert isinstance(outcome, Decided)
    assert (outcome.decision.score, outcome.decision.lifecycle_stage) == (None, "")
    trail = pipeline.start(lead("L2", attributes={"score": "3"}), AT, 1)
    assert isinstance(trail, Trail) and trail.lead.get("score") == "3"


@pytest.mark.parametrize(
    ("total", "text"), [(70.0, "70"), (61.21, "61.21"), (1234567.0, "1234567"), (-5.5, "-5.5")]
)
def test_score_text_is_plain_for_conditions(total, text):
    """The score attribute is plain decimal text a numeric condition reads back exactly."""
    assert format_score(total) == text
