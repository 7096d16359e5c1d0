"""Reps fully: the users object, custom user properties, the policy's reps and a reps.csv overlay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.errors import PolicyError
from leadroute.store import Store
from leadroute_hubspot.mapping import settings_from_options
from leadroute_hubspot.reps import hours_from_hubspot
from leadroute_hubspot.testing import FakeHubSpot


def user_of(fake: FakeHubSpot, owner_id: str) -> dict[str, str]:
    return next(
        u for u in fake.users.values() if u["hs_internal_user_id"] == str(int(owner_id) * 10)
    )


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def test_users_object_gives_time_zone_hours_leave_pause_languages_and_phone(adapter_for, fake):
    """With users: true each owner gets its user's zone, hours, out-of-office, away and phone."""
    now = fake.clock.now()
    ana = user_of(fake, "101")
    ana |= {
        "hs_working_hours": json.dumps(
            [
                {"days": "MONDAY_TO_FRIDAY", "startMinute": 540, "endMinute": 720},
                {"days": "MONDAY_TO_FRIDAY", "startMinute": 780, "endMinute": 1020},
            ]
        ),
        "hs_out_of_office_hours": json.dumps(
            [
                {
                    "startTimestamp": ms(now - timedelta(days=1)),
                    "endTimestamp": ms(now + timedelta(days=2)),
                }
            ]
        ),
        "hs_main_user_language_skill": "en",
        "hs_secondary_user_language_skill": "es",
        "hs_additional_phone": "+1 555 0101",
    }
    user_of(fake, "102")["hs_availability_status"] = "away"
    reps = {r.id: r for r in adapter_for(fake, users=True).read().reps}
    ana_rep = reps["101"]
    a = ana_rep.availability
    assert a.timezone == "America/New_York" and a.hours["mon"] == "09:00-12:00, 13:00-17:00"
    assert a.leave_at(now) is not None and ana_rep.languages == ("en", "es")
    assert ana_rep.phone == "+1 555 0101" and reps["102"].availability.paused
    assert reps["201"].availability.timezone == "Europe/Berlin"
    assert fake.calls("/objects/users") == 1


def test_custom_user_properties_use_the_reps_csv_grammar(adapter_for, fake):
    """user_properties maps rep fields to custom properties of the users object."""
    user_of(fake, "201").update(
        {"leadroute_skills": "fintech:2;payments", "leadroute_accounts": "acme.com"}
    )
    reps = {
        r.id: r
        for r in adapter_for(
            fake,
            users=True,
            user_properties={"skills": "leadroute_skills", "accounts": "leadroute_accounts"},
        )
        .read()
        .reps
    }
    assert reps["201"].skills == {"fintech": 2, "payments": 1}
    assert reps["201"].accounts == ("acme.com",)


def test_unreadable_user_data_is_reported_and_keeps_the_rep_out(adapter_for, fake):
    """A working-hours value HubSpot's format does not allow is a problem; that rep takes no leads."""
    user_of(fake, "103")["hs_working_hours"] = json.dumps([{"days": "WEEKDAYS", "startMinute": 1}])
    snapshot = adapter_for(fake, users=True).read()
    [problem] = [p for p in snapshot.problems if p.kind == "rep"]
    assert (problem.record_id, problem.field, problem.code) == (
        "103",
        "hs_working_hours",
        "BAD_HOURS",
    )
    assert not {r.id: r for r in snapshot.reps}["103"].active


def test_overlay_file_and_policy_reps_complete_the_profile(adapter_for, fake, tmp_path: Path):
    """reps_file rows (by id or email) win over the policy's reps; teams stay pools."""
    (tmp_path / "reps.csv").write_text(
        "id,skills,hours,timezone\n"
        "101,fintech:3,mon-fri=08:00-16:00,America/Chicago\n"
        "dora.201@seller.example,payments,,\n"
        "777,fintech,,\n",
        encoding="utf-8",
    )
    adapter = adapter_for(
        fake,
        reps_file="reps.csv",
        reps={"101": {"territories": ["US"], "skills": "fintech:1", "max_open": 40}},
    )
    snapshot = adapter.read()
    reps = {r.id: r for r in snapshot.reps}
    ana = reps["101"]
    assert ana.skills == {"fintech": 3} and ana.territories == ("US",)
    assert ana.capacity.max_open == 40 and "na" in ana.pools
    assert ana.availability.hours == {"mon-fri": "08:00-16:00"}
    assert reps["201"].skills == {"payments": 1}
    [stranger] = [p for p in snapshot.problems if p.kind == "rep"]
    assert (stranger.file, stranger.line, stranger.code) == ("reps.csv", 4, "UNKNOWN_REP")


@pytest.mark.parametrize(
    ("reps", "path"),
    [
        ({"101": {"hours": "mon-fri=9-5"}}, "adapters.hubspot.reps.101.hours"),
        ({"101": {"max_open": -1}}, "adapters.hubspot.reps.101.max_open"),
        ({"101": {"colour": "red"}}, "adapters.hubspot.reps.101.colour"),
    ],
)
def test_bad_policy_reps_name_their_path(reps, path):
    """An unreadable value in the policy's reps table is a PolicyError at its path."""
    with pytest.raises(PolicyError, match=path.replace(".", r"\.")):
        settings_from_options({"reps": reps}, env={})


def test_hubspot_working_hours_become_leadroute_hours():
    """Each HubSpot day group expands to weekdays; 24:00 ends a day."""
    text = json.dumps(
        [
            {"days": "SATURDAY_SUNDAY", "startMinute": 600, "endMinute": 840},
            {"days": "EVERY_DAY", "startMinute": 1320, "endMinute": 1440},
        ]
    )
    hours = hours_from_hubspot(text)
    assert hours["sat"] == "10:00-14:00, 22:00-24:00" and hours["mon"] == "22:00-24:00"


POLICY = """
version: "hs-reps"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: round_robin}
skills:
  - {name: big, when: {employees: {gte: 500}}, require: {enterprise: 1}}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: "900", queue: unrouted, escalate_after: 4h}
adapters:
  hubspot:
    users: true
    reps_file: reps.csv
"""


def test_every_policy_feature_works_for_hubspot_users(tmp_path: Path, monkeypatch):
    """Leave and away from HubSpot, skills from the overlay: routing honours each, and says so."""
    fake = FakeHubSpot.portal(contacts=150)
    now = fake.clock.now()
    user_of(fake, "101")["hs_out_of_office_hours"] = json.dumps(
        [
            {
                "startTimestamp": ms(now - timedelta(hours=1)),
                "endTimestamp": ms(now + timedelta(days=1)),
            }
        ]
    )
    user_of(fake, "103")["hs_availability_status"] = "away"
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "reps.csv").write_text(
        "id,skills\n202,enterprise\n102,enterprise\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    at = now.astimezone(UTC).isoformat()
    with fake.installed():
        result = CliRunner().invoke(
            app, ["route", "--init", "--source", "hubspot", "--at", at, "--json"]
        )
    assert result.exit_code == 0, result.output
    with Store.open(tmp_path / ".leadroute" / "leadroute.db") as store:
        decided = store.current_decisions()
    owners = {d.owner_id for d in decided.values()}
    assert "101" not in owners and "103" not in owners and "102" in owners
    codes = {e.code for d in decided.values() for e in d.all_exclusions()}
    assert {"ON_LEAVE", "PAUSED", "SKILL_MISSING"} <= codes
    big = [d for lead, d in decided.items() if int(fake.contacts[lead]["numemployees"]) >= 500]
    assert big and {d.owner_id for d in big} <= {"102", "202", "900"}
    assert any(d.owner_id in {"102", "202"} for d in big)
