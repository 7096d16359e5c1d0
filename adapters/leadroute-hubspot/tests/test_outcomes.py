"""Reading what reps did in HubSpot back as outcomes: activities, status and stage changes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.errors import PolicyError
from leadroute.models import OutcomeKind, Rep
from leadroute.store import Store
from leadroute_hubspot.mapping import settings_from_options
from leadroute_hubspot.testing import FakeHubSpot

runner = CliRunner()


def unowned(fake: FakeHubSpot, n: int) -> list[str]:
    return [c for c, p in fake.contacts.items() if not p["hubspot_owner_id"]][:n]


def test_activities_become_touches_and_meetings_by_their_owner(adapter_for, fake):
    """Calls, outgoing emails and notes are first touches; a meeting is booked when created."""
    a, b, c = unowned(fake, 3)
    now = fake.clock.now()
    fake.log_activity("calls", a, "101", at=now - timedelta(hours=3))
    fake.log_activity("emails", b, "102", at=now - timedelta(hours=2), hs_email_direction="EMAIL")
    fake.log_activity(
        "emails", c, "", at=now - timedelta(hours=2), hs_email_direction="INCOMING_EMAIL"
    )
    fake.log_activity("notes", c, "103", at=now - timedelta(minutes=30))
    fake.log_activity("meetings", a, "101", at=now + timedelta(days=2))  # booked now, held later
    fake.log_activity("calls", b, "102", at=now - timedelta(days=40))  # outside the window
    fake.clock.sleep(5)  # the index catches up
    outcomes = adapter_for(fake).read().outcomes
    got = {(o.lead_id, o.kind, o.rep_id, o.detail) for o in outcomes}
    assert got == {
        (a, OutcomeKind.FIRST_TOUCH, "101", "call"),
        (b, OutcomeKind.FIRST_TOUCH, "102", "email"),
        (c, OutcomeKind.FIRST_TOUCH, "103", "note"),
        (a, OutcomeKind.MEETING_BOOKED, "101", "meeting"),
    }
    meeting = next(o for o in outcomes if o.kind == OutcomeKind.MEETING_BOOKED)
    assert meeting.at == now  # when it was booked, not when it takes place


def test_status_and_stage_changes_are_acceptance_touches_and_conversions(adapter_for, fake):
    """Lead status and lifecycle stage history map to outcomes, by the user who changed them."""
    owned = [c for c, p in fake.contacts.items() if p["hubspot_owner_id"] == "101"]
    a, b = owned[:2]
    fake.change(a, "hs_lead_status", "IN_PROGRESS", by_owner="101")
    fake.change(b, "hs_lead_status", "ATTEMPTED_TO_CONTACT", by_owner="101")
    fake.change(b, "lifecyclestage", "opportunity", by_owner="101")
    fake.change(b, "hs_lead_status", "UNQUALIFIED", by_owner="101")  # not mapped: nothing
    fake.clock.sleep(5)
    outcomes = adapter_for(fake).read().outcomes
    got = {(o.lead_id, o.kind, o.rep_id, o.detail) for o in outcomes}
    assert got == {
        (a, OutcomeKind.ACCEPTED, "101", "hs_lead_status IN_PROGRESS"),
        (b, OutcomeKind.FIRST_TOUCH, "101", "hs_lead_status ATTEMPTED_TO_CONTACT"),
        (b, OutcomeKind.CONVERTED, "101", "lifecyclestage opportunity"),
    }


def test_leadroutes_own_status_write_is_no_outcome(adapter_for, fake):
    """The on_routed value leadroute writes itself never counts as the rep's acceptance."""
    [a] = [c for c, p in fake.contacts.items() if p["hubspot_owner_id"] == "101"][:1]
    fake.change(a, "hs_lead_status", "IN_PROGRESS", source="INTEGRATION")
    fake.clock.sleep(5)
    adapter = adapter_for(fake, on_routed={"hs_lead_status": "IN_PROGRESS"})
    assert adapter.read().outcomes == ()


def test_reading_again_gives_the_same_outcomes(adapter_for, fake):
    """Two reads of the same window give outcomes with the same ids (stored once)."""
    [a] = unowned(fake, 1)
    fake.log_activity("calls", a, "101")
    fake.clock.sleep(5)
    first = {o.id for o in adapter_for(fake).read().outcomes}
    assert first and first == {o.id for o in adapter_for(fake).read().outcomes}


def test_outcomes_can_be_narrowed_or_switched_off(adapter_for, fake):
    """outcomes.activities narrows the objects read; enabled: false reads none of them."""
    [a] = unowned(fake, 1)
    fake.log_activity("calls", a, "101")
    fake.log_activity("notes", a, "101")
    fake.clock.sleep(5)
    only_calls = adapter_for(fake, outcomes={"activities": ["calls"]}).read().outcomes
    assert [o.detail for o in only_calls] == ["call"]
    before = fake.calls("/calls/search")
    assert adapter_for(fake, outcomes={"enabled": False}).read().outcomes == ()
    assert fake.calls("/calls/search") == before


@pytest.mark.parametrize(
    ("outcomes", "path"),
    [
        ({"lead_statuses": {"IN_PROGRESS": "took_it"}}, "outcomes.lead_statuses.IN_PROGRESS"),
        ({"activities": ["calls", "sms"]}, "outcomes.activities"),
        ({"since": "soon"}, "outcomes.since"),
        ({"wat": 1}, "outcomes.wat"),
    ],
)
def test_bad_outcome_options_name_their_path(outcomes, path):
    """Every mistake in adapters.hubspot.outcomes names its path."""
    with pytest.raises(PolicyError, match=path.replace(".", r"\.")):
        settings_from_options({"outcomes": outcomes}, env={})


POLICY = """
version: "hs-out"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: round_robin}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: "900", queue: unrouted, escalate_after: 4h}
lead_types:
  default: inbound
  types:
    - {name: inbound, sla: 1h, escalation: {remind_at: 0.5, on_breach: notify_manager}}
"""


def cli(fake: FakeHubSpot, *args: str) -> dict:
    with fake.installed():
        result = runner.invoke(app, [*args, "--source", "hubspot", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_shows_first_touch_and_meetings_read_from_hubspot(tmp_path: Path, monkeypatch):
    """route, reps work the leads in HubSpot, report --source hubspot: touch and meeting metrics."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    fake = FakeHubSpot.portal(contacts=40)
    start = fake.clock.now()
    cli(fake, "route", "--init", "--at", start.isoformat())
    with Store.open(tmp_path / ".leadroute" / "leadroute.db") as store:
        decided = store.current_decisions()
    leads = sorted(decided)
    touched, met = leads[:10], leads[:4]
    fake.clock.sleep(20 * 60)
    for lead in touched:
        fake.log_activity("calls", lead, decided[lead].owner_id)
    for lead in met:
        fake.log_activity("meetings", lead, decided[lead].owner_id, at=start + timedelta(days=1))
    fake.clock.sleep(60)
    later = (start + timedelta(hours=2)).isoformat()
    out = tmp_path / "report.json"
    cli(fake, "report", "--at", later, "--format", "json", "--out", str(out))
    overall = json.loads(out.read_text(encoding="utf-8"))["summary"]["overall"]
    assert overall["touch_median_s"] == pytest.approx(20 * 60, abs=10)  # plus pacing waits
    assert overall["meetings"] == len(met)
    assert overall["sla_met"] == len(touched)
    assert overall["sla_breached"] == len(decided) - len(touched)


def test_a_first_touch_read_from_hubspot_stops_the_sla_clock(tmp_path: Path, monkeypatch):
    """A call logged in HubSpot, read by the next run, stops that lead's SLA timers."""
    from leadroute.engine import Engine
    from leadroute.policy import load_policy
    from leadroute.sla import Scheduler
    from leadroute.sla.moves import EngineMover
    from leadroute.store.timers import lead_timers

    monkeypatch.chdir(tmp_path)
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    fake = FakeHubSpot.portal(contacts=12)
    start = fake.clock.now()
    cli(fake, "route", "--init", "--at", start.isoformat())
    path = tmp_path / ".leadroute" / "leadroute.db"
    with Store.open(path) as store:
        decided = store.current_decisions()
    touched = sorted(decided)[0]
    fake.clock.sleep(10 * 60)
    fake.log_activity("calls", touched, decided[touched].owner_id)
    fake.clock.sleep(60)
    cli(fake, "route", "--at", fake.clock.now().isoformat())  # reads the call back
    policy = load_policy(tmp_path / "leadroute.yaml")
    reps = {oid: Rep(id=oid, manager_id="900") for oid in fake.owners}
    untouched = sorted(decided)[1]
    at = start + timedelta(hours=3)
    with Store.open(path) as store:
        assert lead_timers(store, touched)
        engine = Engine.open(policy, store, reps=list(reps.values()), clock=lambda: at)
        scheduler = Scheduler(
            store=store, policy=policy, reps=reps, mover=EngineMover(engine), clock=lambda: at
        )
        scheduler.tick(limit=1000)
        stopped = {t.status for t in lead_timers(store, touched)}
        fired = {t.status for t in lead_timers(store, untouched)}
    assert stopped == {"cancelled"} and "cancelled" not in fired
