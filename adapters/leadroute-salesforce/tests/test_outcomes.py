"""Outcomes read back from the org: touches, meetings, status changes and conversions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.errors import PolicyError
from leadroute.models import OutcomeKind
from leadroute.store import Store
from leadroute_salesforce.outcomes import conversion_time
from leadroute_salesforce.testing import populate

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def org(fake):
    """A small org whose clock reads 2026-11-10 12:00 UTC."""
    fake.now = NOW
    return populate(fake, leads=10, owned=10, users=6, inactive=0, accounts=2)


def read(adapter_for, **options):
    adapter = adapter_for(**options)
    adapter.reader.clock = lambda: NOW
    return adapter.read().outcomes


def test_each_activity_becomes_its_outcome(adapter_for, fake, org):
    """A logged call, a meeting, a status change and a conversion each become one outcome."""
    lead = org.owned_leads
    rep = fake.get("Lead", lead[0])["OwnerId"]
    call = fake.log_activity(lead[0], rep, at=NOW - timedelta(hours=5))
    fake.book_meeting(lead[1], rep, at=NOW - timedelta(hours=4))
    fake.set_status(lead[2], "Working - Contacted", by=rep, at=NOW - timedelta(hours=3))
    fake.convert(lead[3], at=NOW - timedelta(hours=2))
    outcomes = {o.lead_id: o for o in read(adapter_for)}
    assert set(outcomes) == set(lead[:4])
    touch = outcomes[lead[0]]
    assert (touch.kind, touch.rep_id, touch.at, touch.detail, touch.source) == (
        OutcomeKind.FIRST_TOUCH,
        rep,
        NOW - timedelta(hours=5),
        "call",
        "salesforce",
    )
    assert touch.origin == f"salesforce:Task/{call['Id']}"
    assert outcomes[lead[1]].kind == OutcomeKind.MEETING_BOOKED
    assert (outcomes[lead[2]].kind, outcomes[lead[2]].detail) == (
        OutcomeKind.FIRST_TOUCH,
        "status Working - Contacted",
    )
    converted = outcomes[lead[3]]
    assert (converted.kind, converted.detail, converted.at) == (
        OutcomeKind.CONVERTED,
        "opportunity",
        NOW - timedelta(hours=2),
    )
    assert converted.rep_id == fake.get("Lead", lead[3])["OwnerId"]


def test_open_tasks_and_unmapped_statuses_are_not_outcomes(adapter_for, fake, org):
    """An open task is not a touch, and a status the policy does not map is not an outcome."""
    lead = org.owned_leads[0]
    rep = fake.get("Lead", lead)["OwnerId"]
    fake.log_activity(lead, rep, subtype="Task", closed=False)
    fake.set_status(lead, "Closed - Not Converted", by=rep)
    assert read(adapter_for) == ()


def test_reading_twice_yields_the_same_outcomes(adapter_for, fake, org):
    """Outcome ids are stable across reads, so the store records each event once."""
    lead = org.owned_leads[0]
    fake.log_activity(lead, fake.get("Lead", lead)["OwnerId"], at=NOW - timedelta(days=1))
    first, second = read(adapter_for), read(adapter_for)
    assert [o.id for o in first] == [o.id for o in second] and len(first) == 1


def test_activity_older_than_the_window_is_not_read(adapter_for, fake, org):
    """Only activity since outcomes.since is read (a bounded, constant-cost read)."""
    lead = org.owned_leads[0]
    rep = fake.get("Lead", lead)["OwnerId"]
    fake.log_activity(lead, rep, at=NOW - timedelta(days=40))
    fake.book_meeting(lead, rep, at=NOW - timedelta(days=3))
    assert [o.kind for o in read(adapter_for)] == [OutcomeKind.MEETING_BOOKED]
    assert [o.kind for o in read(adapter_for, outcomes={"since": "2d"})] == []


def test_task_subtypes_narrow_what_counts_as_a_touch(adapter_for, fake, org):
    """With task_subtypes: [Call], a completed email is not a touch; a call is."""
    lead = org.owned_leads
    rep = fake.get("Lead", lead[0])["OwnerId"]
    fake.log_activity(lead[0], rep, subtype="Email")
    fake.log_activity(lead[1], rep, subtype="Call")
    outcomes = read(adapter_for, outcomes={"task_subtypes": ["Call"]})
    assert [o.lead_id for o in outcomes] == [lead[1]]


def test_status_table_maps_values_to_outcomes(adapter_for, fake, org):
    """The statuses table decides which Lead Status values are which outcome."""
    lead = org.owned_leads[0]
    rep = fake.get("Lead", lead)["OwnerId"]
    fake.set_status(lead, "Qualified", by=rep)
    (outcome,) = read(adapter_for, outcomes={"statuses": {"Qualified": "meeting_booked"}})
    assert outcome.kind == OutcomeKind.MEETING_BOOKED and outcome.rep_id == rep


def test_outcomes_can_be_switched_off(adapter_for, fake, org):
    """outcomes: false reads nothing back and sends no outcome query."""
    fake.log_activity(org.owned_leads[0], org.active_users[0])
    assert read(adapter_for, outcomes=False) == ()
    queries = [r["params"]["q"] for r in fake.data_requests("query")]
    assert not [q for q in queries if "FROM Task" in q or "FROM Event" in q]


def test_conversion_time_is_a_time_on_the_converted_date():
    """ConvertedDate is a date: the last change that day is the time, else its midnight."""
    lead = {"ConvertedDate": "2026-11-03", "LastModifiedDate": "2026-11-03T15:20:00.000+0000"}
    assert conversion_time(lead) == datetime(2026, 11, 3, 15, 20, tzinfo=UTC)
    lead["LastModifiedDate"] = "2026-11-05T09:00:00.000+0000"
    assert conversion_time(lead) == datetime(2026, 11, 3, tzinfo=UTC)
    assert conversion_time({"ConvertedDate": None}) is None


@pytest.mark.parametrize(
    ("outcomes", "path"),
    [
        ({"since": "soon"}, "adapters.salesforce.outcomes.since"),
        ({"since": "0m"}, "adapters.salesforce.outcomes.since"),
        ({"statuses": {"Working": "liked"}}, "adapters.salesforce.outcomes.statuses.Working"),
        ({"task_subtypes": "Call"}, "adapters.salesforce.outcomes.task_subtypes"),
        ({"colour": 1}, "adapters.salesforce.outcomes.colour"),
        ("yes", "adapters.salesforce.outcomes"),
    ],
)
def test_bad_outcome_options_name_their_path(settings_for, outcomes, path):
    """Each bad outcomes option fails with one line starting with its policy path."""
    with pytest.raises(PolicyError) as info:
        settings_for(outcomes=outcomes)
    assert str(info.value).startswith(path + ":")


ROUTE_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLICY = """
version: "sf-outcomes"
routing:
  - {{name: all, when: {{}}, pool: everyone}}
pools:
  - {{name: everyone, strategy: round_robin}}
fallback: {{owner: "{fallback}", queue: unrouted}}
adapters:
  salesforce:
    fields:
      leads: {{lead_type: Lead_Type__c}}
      users: {{pools: Leadroute_Pools__c}}
    outcomes: {{since: 3650d}}
    output_dir: "{out}"
"""


def test_report_shows_touches_meetings_and_the_sla_read_from_the_org(
    fake, jwt_env, tmp_path, monkeypatch
):
    """Route, then reps work the leads in Salesforce: the next run records what they did,
    and the report's first-touch, meeting and SLA figures come from it."""
    org = populate(fake, leads=12, owned=0, users=6, inactive=0, accounts=2)
    for user in org.active_users:
        fake.get("User", user)["Leadroute_Pools__c"] = "everyone"
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(POLICY.format(fallback=org.active_users[0], out=tmp_path), encoding="utf-8")
    store = tmp_path / "a.db"
    runner = CliRunner()
    base = ["--policy", str(policy), "--store", str(store), "--source", "salesforce", "--json"]
    with fake.router:
        routed = runner.invoke(app, ["route", "--init", *base, "--at", ROUTE_AT.isoformat()])
    assert routed.exit_code == 0, routed.output
    with Store.open(store) as audit:
        decisions = audit.current_decisions()
    leads = sorted(decisions)
    owner = {lead: decisions[lead].owner_id for lead in leads}
    fake.log_activity(leads[0], owner[leads[0]], at=ROUTE_AT + timedelta(minutes=20))
    fake.book_meeting(leads[1], owner[leads[1]], at=ROUTE_AT + timedelta(minutes=30))
    fake.set_status(
        leads[2], "Working - Contacted", by=owner[leads[2]], at=ROUTE_AT + timedelta(hours=5)
    )
    with fake.router:
        again = runner.invoke(
            app, ["route", *base, "--at", (ROUTE_AT + timedelta(days=1)).isoformat()]
        )
    assert again.exit_code == 0, again.output
    with Store.open(store) as audit:
        assert audit.current_decisions() == decisions  # reading outcomes decides nothing anew
    out = tmp_path / "report.json"
    as_of = (ROUTE_AT + timedelta(days=1)).isoformat()
    with fake.router:
        result = runner.invoke(
            app,
            ["report", *base, "--at", as_of, "--format", "json", "--out", str(out)],
        )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    overall = report["summary"]["overall"]
    assert overall["meetings"] == 1
    rows = {row["lead_id"]: row for row in report["leads"]}
    assert rows[leads[0]]["sla_state"] == "met"  # the SLA clock stopped on the CRM's touch
    assert rows[leads[1]]["sla_state"] == "met"  # a meeting is a touch too
    assert rows[leads[2]]["sla_state"] == "breached"  # touched five hours in: too late
    assert rows[leads[3]]["sla_state"] == "breached"  # never touched
    assert overall["touch_median_s"] == 30 * 60  # 20 min, 30 min, 5 h
