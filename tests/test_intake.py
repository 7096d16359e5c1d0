"""Intake around routing: lead types with SLA and priority, nurture routes, MQLs, policy checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, standard_reps

from leadroute.errors import PolicyError
from leadroute.models import AccountIndex, DecisionStatus, LeadEvent, RouteStep
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import parse_policy
from leadroute.store.codec import decision_from_json, decision_to_json
from leadroute.strategies import Ledger

TYPES = """
nurture: {owner: mkt, queue: nurture}
lead_types:
  calendar: {timezone: Europe/London, days: {mon-fri: "09:00-17:30"}, holidays: GB}
  default: contact
  types:
    - {name: demo, when: {lead_type: demo}, sla: 4h, priority: 1}
    - {name: content, when: {lead_type: [content, ebook]}, sla: 2d, priority: 4, route: nurture}
    - {name: contact, sla: 1d, priority: 3}
scoring:
  mql: 60
  rules:
    - {name: pricing-page, event: pricing_page, points: 35}
    - {name: demo-request, event: demo_request, points: 40}
"""
POLICY = BASE_POLICY + TYPES


def reps():
    return [*standard_reps(), rep("mkt")]


def decide(make_pipeline, at=AT, policy_text=POLICY, **fields):
    outcome = make_pipeline(reps(), policy=policy_from(policy_text)).decide(
        lead("L1", **fields), at
    )
    assert isinstance(outcome, Decided)
    return outcome.decision


def test_decision_carries_type_priority_and_sla_deadline(make_pipeline):
    """A demo decided on Monday 09:00 London is priority 1, due four working hours later."""
    d = decide(make_pipeline, lead_type="demo")
    assert (d.lead_type, d.priority) == ("demo", 1)
    assert d.sla_due_at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


def test_sla_deadline_counts_working_time_over_a_weekend(make_pipeline):
    """Friday 16:30 + 4 working hours (to 17:30) is Monday 12:00, not Friday 20:30."""
    friday = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)  # London is on GMT in November
    d = decide(make_pipeline, at=friday, lead_type="demo")
    assert d.sla_due_at == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


def test_sla_deadline_skips_public_holidays(make_pipeline):
    """Christmas Eve 17:00 + 4h: the 25th, the weekend and the Boxing Day substitute are closed."""
    eve = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    d = decide(make_pipeline, at=eve, lead_type="demo")
    assert d.sla_due_at == datetime(2026, 12, 29, 12, 30, tzinfo=UTC)


def test_without_a_calendar_sla_is_wall_clock(make_pipeline):
    """No SLA calendar: the deadline is the decision time plus the SLA."""
    text = POLICY.replace(
        '  calendar: {timezone: Europe/London, days: {mon-fri: "09:00-17:30"}, holidays: GB}\n', ""
    )
    friday = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)
    d = decide(make_pipeline, at=friday, policy_text=text, lead_type="demo")
    assert d.sla_due_at == friday + timedelta(hours=4)


def test_fallback_decisions_carry_the_sla_too(make_pipeline):
    """A lead the rules cannot place still has a type and a first-touch deadline."""
    d = decide(make_pipeline, lead_type="demo", country="JP")
    assert d.status == DecisionStatus.FALLBACK
    assert (d.lead_type, d.sla_due_at) == ("demo", datetime(2026, 11, 2, 13, 0, tzinfo=UTC))


def test_nurture_type_goes_to_the_nurture_queue(make_pipeline):
    """A content download below MQL goes to the nurture queue and its owner."""
    d = decide(make_pipeline, lead_type="ebook")
    assert (d.step, d.owner_id, d.queue, d.lead_type) == (
        RouteStep.NURTURE,
        "mkt",
        "nurture",
        "content",
    )
    assert "type:content:nurture" in d.route_path
    assert d.reason == "lead type content routes to nurture at stage lead"


def test_a_lead_crossing_mql_in_the_same_request_routes_to_sales(make_pipeline):
    """A content lead whose events in this request lift it to MQL routes to a sales pool."""
    events = (
        LeadEvent(kind="pricing_page", at=AT - timedelta(hours=1)),
        LeadEvent(kind="demo_request", at=AT),
    )
    d = decide(make_pipeline, lead_type="content", events=events)
    assert (d.lifecycle_stage, d.score) == ("mql", 75)
    assert d.step == RouteStep.POOL and d.rule == "na"
    assert not any(p.startswith("nurture") for p in d.route_path)


def test_current_owner_keeps_a_nurture_type_lead(make_pipeline):
    """An owned lead keeps its owner even when its type routes to nurture."""
    d = decide(make_pipeline, lead_type="content", owner_id="na-1")
    assert (d.step, d.owner_id) == (RouteStep.CURRENT_OWNER, "na-1")


def test_decisions_with_intake_fields_survive_the_store(make_pipeline):
    """Type, SLA, score and contributions round-trip through the audit JSON."""
    d = decide(make_pipeline, lead_type="content", events=(LeadEvent(kind="demo_request", at=AT),))
    assert decision_from_json(decision_to_json(d)) == d


def test_nurture_owner_must_be_a_known_active_rep(host):
    """A nurture queue without a real, active owner is a policy error naming nurture.owner."""
    policy = policy_from(POLICY)
    for people in (standard_reps(), [*standard_reps(), rep("mkt", active=False)]):
        with pytest.raises(PolicyError, match=r"nurture\.owner"):
            Pipeline.build(
                host, policy, people, AccountIndex.build([]), assigned={}, ledger=Ledger({}, 0)
            )


MINIMAL = "version: '1'\nfallback: {owner: ops}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "lead_types: {types: [{name: content, route: nurture}]}",
            "lead_types.types[0].route: routes to nurture, but the policy has no 'nurture'",
        ),
        (
            "validation: {actions: {INVALID_EMAIL: nurture}}",
            "validation.actions.INVALID_EMAIL: routes",
        ),
        ("validation: {actions: {MISSING_FIELD: flag}}", "set it with validation.missing_action"),
        ("validation: {actions: {invalid_email: flag}}", "problem codes are upper case"),
        (
            "validation: {actions: {INVALID_EMAIL: drop}}",
            "expected one of: reject, fallback, nurture, flag",
        ),
        ("lead_types: {default: demo}", "lead_types.default: unknown lead type 'demo'"),
        ("lead_types: {types: [{name: a}, {name: A}]}", "lead_types.types[1].name: duplicate"),
        (
            "lead_types: {types: [{name: a, priority: 0}]}",
            "lead_types.types[0].priority: must be 1",
        ),
        ("lead_types: {types: [{name: a, sla: 0}]}", "lead_types.types[0].sla: must be longer"),
        (
            "lead_types: {types: [{name: a, route: email}]}",
            "lead_types.types[0].route: expected one of: sales, nurture",
        ),
        ("lead_types: {calendar: {timezone: Mars/Base}}", "lead_types.calendar: unknown time zone"),
        (
            "lead_types: {calendar: {holidays: XX}}",
            "lead_types.calendar: no public-holiday calendar",
        ),
        (
            "lead_types: {calendar: {days: {mon: '9-5'}}}",
            "lead_types.calendar: '9-5' is not a time range",
        ),
        ("nurture: {owner: ' '}", "nurture.owner: must name"),
        ("scoring: {mql: 80, sql: 50}", "scoring.mql: mql is above sql"),
        ("scoring: {caps: {fit: -1}}", "scoring.caps.fit: must be 0 or more"),
        ("scoring: {half_life: 0}", "scoring.half_life: must be longer"),
        ("scoring: {rules: [{name: a, points: 1, cap: -2}]}", "scoring.rules[0].cap: must be 0"),
        (
            "scoring: {rules: [{name: a, points: 1}, {name: a, points: 2}]}",
            "scoring.rules[1].name: duplicate",
        ),
        ("scoring: {rules: [{name: a}]}", "scoring.rules[0].points: required key missing"),
    ],
)
def test_intake_policy_errors_name_their_path(text, expected):
    """Every malformed intake section is one PolicyError naming where and what."""
    with pytest.raises(PolicyError) as info:
        parse_policy(MINIMAL + text, source="p.yaml")
    assert expected in str(info.value)


DOCS = Path(__file__).resolve().parents[1] / "docs" / "policy.md"


@pytest.mark.parametrize("section", ["validation", "lead_types", "nurture", "scoring"])
def test_policy_reference_examples_for_intake_parse(section):
    """Each intake section's YAML example in docs/policy.md is a valid policy fragment."""
    text = DOCS.read_text(encoding="utf-8")
    body = text.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", body, flags=re.S)
    assert blocks, f"no example for {section}"
    for block in blocks:
        data = {
            "version": "1",
            "fallback": {"owner": "ops"},
            "nurture": {"owner": "mkt"},
            "pools": [{"name": "senior-aes"}],
            **yaml.safe_load(block),
        }
        parse_policy(yaml.safe_dump(data))


def test_json_schema_accepts_the_demo_intake_sections_and_rejects_typos():
    """The published schema covers lead_types, nurture, scoring and the new validation keys."""
    from importlib import resources

    import jsonschema

    from leadroute.policy import json_schema

    schema = json_schema()
    data = yaml.safe_load(
        resources.files("leadroute.demo").joinpath("leadroute.yaml").read_text(encoding="utf-8")
    )
    jsonschema.validate(data, schema)
    data["lead_types"]["types"][0]["slaa"] = "1h"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
