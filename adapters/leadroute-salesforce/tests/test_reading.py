"""Reading a snapshot: queues are never reps, each purpose selects its leads."""

from __future__ import annotations

from datetime import UTC, datetime

from leadroute_salesforce.testing import populate, sf_datetime, sf_id


def lead_queries(fake) -> list[str]:
    return [
        r["params"]["q"]
        for r in fake.data_requests("query")
        if " FROM Lead WHERE IsConverted = false" in r["params"]["q"]
        and "GROUP BY" not in r["params"]["q"]
    ]


def test_route_reads_leads_waiting_in_queues(adapter_for, fake):
    """Route reads unconverted, open leads owned by queues; they have no owner in leadroute."""
    org = populate(fake, leads=40, owned=30, users=6, inactive=2, queues=2, accounts=5)
    snapshot = adapter_for().read()
    assert {lead.id for lead in snapshot.leads} == set(org.waiting_leads)
    assert all(lead.owner_id == "" for lead in snapshot.leads)
    assert all(lead.attributes["queue_id"] in org.queues for lead in snapshot.leads)
    assert {lead.attributes["queue"] for lead in snapshot.leads} <= {"Inbound_1", "Inbound_2"}
    (query,) = lead_queries(fake)
    assert "IsConverted = false" in query and "Status NOT IN ('Closed - Not Converted')" in query
    assert f"OwnerId IN ('{org.queues[0]}', '{org.queues[1]}')" in query


def test_queues_and_groups_are_never_reps(adapter_for, fake):
    """Reps are users (005) only, active or not; queues and public groups never appear."""
    org = populate(fake, leads=5, owned=5, users=6, inactive=2, accounts=1)
    snapshot = adapter_for().read()
    assert {r.id for r in snapshot.reps} == set(org.active_users + org.inactive_users)
    assert {r.id for r in snapshot.reps if not r.active} == set(org.inactive_users)
    assert not any(r.id.startswith("00G") for r in snapshot.reps)


def test_open_lead_counts_feed_rep_load(adapter_for, fake):
    """Each rep's open_leads is the number of unconverted leads they own."""
    org = populate(fake, leads=5, owned=40, users=4, inactive=0, accounts=1)
    snapshot = adapter_for().read()
    owned = dict.fromkeys(org.active_users, 0)
    for lead_id in org.owned_leads:
        owned[fake.get("Lead", lead_id)["OwnerId"]] += 1
    assert {r.id: r.open_leads for r in snapshot.reps} == owned


def test_route_queues_and_unowned_owners_narrow_or_widen_the_read(adapter_for, fake):
    """Only the listed queues are read, plus leads of placeholder owners (who are not owners)."""
    org = populate(fake, leads=30, owned=30, users=6, inactive=0, queues=3, accounts=1)
    placeholder = org.active_users[0]
    snapshot = adapter_for(route_queues=[org.queues[0]], unowned_owners=[placeholder]).read()
    expected = {
        i
        for i, r in fake.objects["Lead"].items()
        if r["OwnerId"] in (org.queues[0], placeholder)
        and not r["IsConverted"]
        and r["Status"] != "Closed - Not Converted"
    }
    assert {lead.id for lead in snapshot.leads} == expected
    assert all(lead.owner_id == "" for lead in snapshot.leads)


def test_created_since_limits_the_read(adapter_for, fake):
    """created_since becomes a CreatedDate >= condition."""
    org = populate(fake, leads=50, owned=0, accounts=1)
    cutoff = "2026-10-25T00:00:00Z"
    snapshot = adapter_for(created_since=cutoff).read()
    assert all(lead.created_at.isoformat() >= "2026-10-25" for lead in snapshot.leads)
    assert 0 < len(snapshot.leads) < len(org.waiting_leads)
    assert "CreatedDate >= 2026-10-25T00:00:00Z" in lead_queries(fake)[0]


def test_rebalance_reads_owned_leads_with_activity(adapter_for, fake):
    """Rebalance reads leads owned by users, keeping owner ids and last activity."""
    org = populate(fake, leads=10, owned=30, accounts=1)
    snapshot = adapter_for(purpose="rebalance").read()
    assert {lead.id for lead in snapshot.leads} == set(org.owned_leads)
    assert all(lead.owner_id.startswith("005") for lead in snapshot.leads)
    worked = [i for i in org.owned_leads if fake.get("Lead", i)["LastActivityDate"]]
    assert worked
    by_id = {lead.id: lead for lead in snapshot.leads}
    assert all(by_id[i].last_activity_at is not None for i in worked)


def test_bad_records_become_exception_rows(adapter_for, fake):
    """A lead whose value cannot be used is reported with its id and field, not dropped silently."""
    populate(fake, leads=3, owned=0, accounts=1)
    bad = sf_id("00Q", 777)
    fake.add(
        "Lead",
        {
            "Id": bad,
            "OwnerId": sf_id("00G", 1),
            "IsConverted": False,
            "Status": "Open",
            "CreatedDate": "not a date",
            "Company": "X",
        },
    )
    snapshot = adapter_for().read()
    assert bad not in {lead.id for lead in snapshot.leads}
    (problem,) = snapshot.problems
    assert (problem.file, problem.record_id, problem.field, problem.code) == (
        "salesforce:Lead",
        bad,
        "created_at",
        "BAD_DATE",
    )


def test_contacts_are_routed_when_the_policy_says_so(adapter_for, fake):
    """Contacts of a placeholder owner are read too, with the company from their account."""
    org = populate(fake, leads=2, owned=0, accounts=2)
    placeholder = org.active_users[0]
    fake.add(
        "Contact",
        {
            "Id": sf_id("003", 1),
            "OwnerId": placeholder,
            "Email": "c@x.example",
            "AccountId": org.accounts[0],
            "CreatedDate": sf_datetime(datetime(2026, 11, 1, tzinfo=UTC)),
        },
    )
    snapshot = adapter_for(contacts=True, unowned_owners=[placeholder]).read()
    (contact,) = [lead for lead in snapshot.leads if lead.id.startswith("003")]
    assert contact.company == "Account 1 Ltd" and contact.owner_id == ""


def test_no_queue_and_no_placeholder_reads_no_leads(adapter_for, fake):
    """An org without queues has nothing waiting: no lead query is sent at all."""
    fake.add("User", {"Id": sf_id("005", 1), "Name": "A", "IsActive": True, "UserType": "Standard"})
    snapshot = adapter_for().read()
    assert snapshot.leads == () and lead_queries(fake) == []
