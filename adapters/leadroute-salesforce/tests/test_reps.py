"""Reps in full: standard and custom user fields, a reps.csv overlay, Out of Office as leave,
and open-lead counts for orgs with any number of owners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadroute.models import LeaveWindow
from leadroute_salesforce.testing import AGGREGATE_LIMIT, SoqlError, populate, sf_datetime, sf_id

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PROFILE_FIELDS = {
    "skills": "Skills__c",
    "accounts": "Named_Accounts__c",
    "hours": "Working_Hours__c",
    "holidays": "Holiday_Region__c",
    "leave": "Leave__c",
    "max_per_day": "Daily_Cap__c",
    "type_caps": "Type_Caps__c",
    "slack_id": "Slack_Id__c",
    "pools": "Leadroute_Pools__c",
}


@pytest.fixture
def org(fake):
    """Six users; the first carries every custom profile field."""
    org = populate(fake, leads=5, owned=12, users=6, inactive=0, accounts=2)
    fake.get("User", org.active_users[0]).update(
        Phone="+49 30 1234567",
        ManagerId=org.active_users[1],
        Skills__c="fintech:2;payments",
        Named_Accounts__c="acme.com;0015000000AbCdE",
        Working_Hours__c="mon-fri=09:00-17:30",
        Holiday_Region__c="DE-BE",
        Leave__c="2026-12-21/2026-12-31",
        Daily_Cap__c=8,
        Type_Caps__c="demo=3",
        Slack_Id__c="U024BE7LH",
    )
    return org


def read(adapter_for, **options):
    adapter = adapter_for(fields={"users": PROFILE_FIELDS}, **options)
    adapter.reader.clock = lambda: NOW
    return adapter.read()


def test_custom_user_fields_fill_the_whole_profile(adapter_for, fake, org):
    """Skills, named accounts, hours, holidays, leave, caps and ids come from user fields."""
    snapshot = read(adapter_for)
    rep = next(r for r in snapshot.reps if r.id == org.active_users[0])
    assert rep.active
    assert rep.phone == "+49 30 1234567" and rep.manager_id == org.active_users[1]
    assert dict(rep.skills) == {"fintech": 2, "payments": 1}
    assert rep.accounts == ("acme.com", "0015000000abcde")
    assert dict(rep.availability.hours) == {"mon-fri": "09:00-17:30"}
    assert rep.availability.holidays == "DE-BE"
    assert rep.availability.timezone == "Europe/Berlin"
    (leave,) = rep.availability.leave
    assert leave.start == datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # local midnight, Berlin
    assert rep.capacity.per_day == 8 and dict(rep.capacity.per_type) == {"demo": 3}
    assert rep.slack_id == "U024BE7LH"
    assert snapshot.problems == ()


def test_an_unreadable_profile_value_benches_the_rep(adapter_for, fake, org):
    """A value that cannot be read is a report row naming the field; the rep takes no leads."""
    fake.get("User", org.active_users[2])["Working_Hours__c"] = "weekdays, mostly"
    snapshot = read(adapter_for)
    rep = next(r for r in snapshot.reps if r.id == org.active_users[2])
    assert not rep.active
    (problem,) = snapshot.problems
    assert (problem.record_id, problem.field, problem.file) == (
        org.active_users[2],
        "hours",
        "salesforce:User",
    )
    assert "takes no leads" in problem.message


def test_reps_file_overlay_wins_and_reports_unknown_rows(adapter_for, fake, org, tmp_path):
    """A reps.csv overlay is merged by id or email and wins over user fields; a row for
    nobody is reported."""
    overlay = tmp_path / "overlay.csv"
    overlay.write_text(
        "id,skills,languages,capacity\n"
        f"{org.active_users[0]},fintech:3,de;en,15\n"
        "rep3@acme.example,,fr,\n"
        "005000000000999ZZZ,,es,\n",
        encoding="utf-8",
    )
    snapshot = read(adapter_for, reps_file="overlay.csv")
    reps = {r.id: r for r in snapshot.reps}
    first = reps[org.active_users[0]]
    assert dict(first.skills) == {"fintech": 3}  # the overlay wins
    assert first.languages == ("de", "en") and first.capacity.max_open == 15
    assert first.accounts == ("acme.com", "0015000000abcde")  # user fields it did not cover stay
    assert reps[sf_id("005", 3)].languages == ("fr",)  # matched by email
    (unknown,) = snapshot.problems
    assert (unknown.code, unknown.record_id, unknown.line) == (
        "UNKNOWN_REP",
        "005000000000999ZZZ",
        4,
    )


def test_out_of_office_is_leave(adapter_for, fake, org):
    """An enabled Out of Office period that has not ended becomes a leave window."""
    rep = org.active_users[3]
    away = (NOW + timedelta(days=1), NOW + timedelta(days=4))
    fake.set_out_of_office(rep, *away)
    fake.set_out_of_office(rep, NOW - timedelta(days=9), NOW - timedelta(days=5))  # over
    fake.set_out_of_office(org.active_users[4], *away, enabled=False)  # switched off
    reps = {r.id: r for r in read(adapter_for).reps}
    assert reps[rep].availability.leave == (LeaveWindow(start=away[0], end=away[1]),)
    assert reps[org.active_users[4]].availability.leave == ()


def test_an_org_without_out_of_office_still_reads(adapter_for, fake, org):
    """Without the OutOfOffice object (INVALID_TYPE) the read goes on with no leave from it."""
    del fake.objects["OutOfOffice"]
    snapshot = read(adapter_for)
    assert len(snapshot.reps) == 6
    assert all(r.availability.leave == () for r in snapshot.reps if r.id != org.active_users[0])


def test_out_of_office_can_be_switched_off(adapter_for, fake, org):
    """out_of_office: false sends no OutOfOffice query."""
    read(adapter_for, out_of_office=False)
    assert not [r for r in fake.data_requests("query") if "OutOfOffice" in r["params"]["q"]]


def test_lead_phone_is_read(adapter_for, fake, org):
    """The lead's Phone becomes Lead.phone (for normalisation and notifications)."""
    lead = org.waiting_leads[0]
    fake.get("Lead", lead)["Phone"] = "+1 415 555 0100"
    snapshot = read(adapter_for)
    assert next(x for x in snapshot.leads if x.id == lead).phone == "+1 415 555 0100"


def test_fake_refuses_an_aggregate_past_2000_groups(fake):
    """The fake is honest: a GROUP BY with more than 2,000 groups fails instead of paging."""
    for n in range(AGGREGATE_LIMIT + 1):
        fake.add("Lead", {"Id": sf_id("00Q", n + 1), "OwnerId": sf_id("005", n + 1)})
    with pytest.raises(SoqlError, match="does not support queryMore"):
        fake.run_query("SELECT OwnerId, COUNT(Id) n FROM Lead GROUP BY OwnerId")


def test_open_lead_counts_are_exact_with_more_than_2000_owners(adapter_for, fake):
    """2,100 owners: the counts are read in slices of user ids, every owner's count exact."""
    owners = 2100
    for n in range(1, owners + 1):
        user = sf_id("005", n)
        fake.add(
            "User",
            {"Id": user, "Name": f"U{n}", "IsActive": True, "UserType": "Standard"},
        )
        for k in range(n % 3):
            fake.add(
                "Lead",
                {
                    "Id": sf_id("00Q", n * 10 + k),
                    "OwnerId": user,
                    "IsConverted": False,
                    "Status": "Working - Contacted",
                    "CreatedDate": sf_datetime(NOW),
                },
            )
    adapter = adapter_for(outcomes=False, accounts=False, out_of_office=False)
    reps = adapter.read().reps
    assert len(reps) == owners
    assert all(r.open_leads == int(r.id[3:15]) % 3 for r in reps)
    aggregates = [r for r in fake.data_requests("query") if "GROUP BY" in r["params"]["q"]]
    assert len(aggregates) == 7  # 2,100 users in slices of 300
