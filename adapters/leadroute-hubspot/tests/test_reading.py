"""Reading a portal: owners (archived, queues), search windows past the cap, mapping, companies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from leadroute.errors import PolicyError
from leadroute.host import make_host
from leadroute.models import AccountIndex
from leadroute_hubspot.mapping import lead_from_contact, parse_timestamp, settings_from_options
from leadroute_hubspot.reading import PortalReader, search_filters
from leadroute_hubspot.testing import FakeHubSpot


def searches(fake: FakeHubSpot) -> list[dict]:
    return [
        json.loads(c.request.content)
        for c in fake.router.calls
        if c.request.url.path.endswith("/contacts/search")
    ]


def test_search_reads_past_the_cap_by_windowing_on_object_id(client_for):
    """With more matches than one query may page through, every record is read, none twice, no 400."""
    fake = FakeHubSpot.portal(contacts=430, search_cap=100)
    reader = PortalReader(client_for(fake), window_cap=100, page_size=40)
    records = reader.search_all("contacts", search_filters(owned=False), ["email"])
    assert len(records) == 430 and len({r["id"] for r in records}) == 430
    bodies = searches(fake)
    assert all(int(b["after"]) + b["limit"] <= 100 for b in bodies)
    windows = [b for b in bodies if b["after"] == "0"]
    assert len(windows) == 5
    assert windows[1]["filterGroups"][0]["filters"][-1]["operator"] == "GT"


def test_paging_past_the_cap_is_what_the_fake_refuses(client_for):
    """The fake answers after >= cap with HubSpot's 400, so the windowing above is really needed."""
    fake = FakeHubSpot.portal(contacts=30, search_cap=10)
    client = client_for(fake)
    rejected = client.request(
        "POST", client.objects("contacts") + "/search", json={"after": "10"}, search=True
    )
    assert getattr(rejected, "status", None) == 400


def test_route_reads_only_contacts_without_owner(adapter_for, fake):
    """A route read asks for contacts with no owner and gets exactly those."""
    snapshot = adapter_for(fake).read()
    unowned = {cid for cid, p in fake.contacts.items() if not p["hubspot_owner_id"]}
    got = {lead.id for lead in snapshot.leads} | {p.record_id for p in snapshot.problems}
    assert got == unowned
    filters = searches(fake)[0]["filterGroups"][0]["filters"]
    assert filters[0] == {"propertyName": "hubspot_owner_id", "operator": "NOT_HAS_PROPERTY"}


def test_rebalance_reads_owned_contacts_with_last_activity(adapter_for, fake):
    """A rebalance read gets owned contacts, their owner and last activity, and open counts per owner."""
    snapshot = adapter_for(fake, purpose="rebalance").read()
    owned = {cid for cid, p in fake.contacts.items() if p["hubspot_owner_id"]}
    assert {lead.id for lead in snapshot.leads} | {p.record_id for p in snapshot.problems} == owned
    assert all(lead.owner_id for lead in snapshot.leads)
    assert any(lead.last_activity_at for lead in snapshot.leads)
    assert any(lead.last_activity_at is None for lead in snapshot.leads)
    reps = {r.id: r for r in snapshot.reps}
    assert sum(r.open_leads for r in reps.values()) == len(snapshot.leads)


def test_archived_and_queue_owners_are_never_eligible(adapter_for, fake):
    """Archived owners (names cleared) and queue owners are read but inactive."""
    reps = {r.id: r for r in adapter_for(fake).read().reps}
    assert not reps["104"].active and not reps["205"].active and not reps["950"].active
    assert reps["101"].active and reps["101"].pools == ("na",)
    assert reps["104"].name == reps["104"].email  # no name left after deactivation


def test_created_since_is_widened_by_the_lookback(adapter_for, fake):
    """created_since minus the lookback is what the search asks for (late-indexed records)."""
    adapter_for(fake, created_since="2026-11-01T00:00:00Z", lookback="15m").read()
    [created] = [
        f
        for f in searches(fake)[0]["filterGroups"][0]["filters"]
        if f["propertyName"] == "createdate"
    ]
    expected = datetime(2026, 10, 31, 23, 45, tzinfo=UTC)
    assert created == {
        "propertyName": "createdate",
        "operator": "GTE",
        "value": str(int(expected.timestamp() * 1000)),
    }


def test_bad_numbers_land_in_the_exception_report(adapter_for, fake):
    """A contact with an unreadable numemployees is a problem naming the property, not a lead."""
    snapshot = adapter_for(fake).read()
    [problem, *_] = snapshot.problems
    assert problem.code == "BAD_NUMBER" and "numemployees 'many' is not a number" in problem.message
    assert problem.file == "hubspot:contacts" and problem.record_id in fake.contacts


def test_property_mapping_from_the_policy(adapter_for, fake):
    """properties maps lead fields (and attributes.<name>) to contact properties."""
    first = next(iter(fake.contacts))
    fake.contacts[first] |= {"product_interest": "analytics", "form_type": "demo"}
    snapshot = adapter_for(
        fake,
        properties={
            "product": "product_interest",
            "lead_type": "form_type",
            "attributes.form": "form_type",
        },
    ).read()
    lead = next(lead for lead in snapshot.leads if lead.id == first)
    assert (lead.product, lead.lead_type, lead.attributes["form"]) == ("analytics", "demo", "demo")
    assert lead.created_at is not None and lead.origin == f"hubspot:contacts/{first}"


def test_associated_company_is_the_matched_account(adapter_for, fake, policy):
    """A contact associated with a company matches it before domain matching."""
    snapshot = adapter_for(fake).read()
    lead = next(lead for lead in snapshot.leads if "hubspot_company_id" in lead.attributes)
    host = make_host()
    enriched = host.enrich_lead(lead, policy)
    match = host.match_account(enriched, AccountIndex.build(list(snapshot.accounts)), policy)
    assert match is not None and match.method == "hubspot_association"
    assert match.account_id == lead.attributes["hubspot_company_id"]
    assert fake.calls("/contacts/companies/batch/read") == 1


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"token": "x"}, "adapters.hubspot.token"),
        ({"properties": {"nope": "x"}}, "adapters.hubspot.properties.nope"),
        ({"page_size": 500}, "adapters.hubspot.page_size"),
        ({"api_version": "v9"}, "adapters.hubspot.api_version"),
        ({"reps": {"101": {"colour": "red"}}}, "adapters.hubspot.reps.101.colour"),
        ({"reps": {"101": {"max_open": "ten"}}}, "adapters.hubspot.reps.101.max_open"),
        ({"reps": {"101": {"weight": 0}}}, "adapters.hubspot.reps.101.weight"),
        ({"tasks": {"priority": {"demo": "URGENT"}}}, "adapters.hubspot.tasks.priority.demo"),
        ({"lookback": "soon"}, "adapters.hubspot.lookback"),
    ],
)
def test_bad_options_name_their_path(options, path):
    """Every bad option is one PolicyError naming its path (and secrets are refused outright)."""
    with pytest.raises(PolicyError, match=path.replace(".", r"\.")):
        settings_from_options(options)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1572480000000", datetime(2019, 10, 31, tzinfo=UTC)),
        ("2026-09-30T15:00:00.000Z", datetime(2026, 9, 30, 15, tzinfo=UTC)),
        ("2026-09-30T17:00:00+02:00", datetime(2026, 9, 30, 15, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
    ],
)
def test_timestamps_in_every_hubspot_form(text, expected):
    """ms-epoch, ISO with Z or an offset, empty and garbage are all read (or refused) correctly."""
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("de", "DE"),
        ("Germany", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Atlantis", "Atlantis"),
    ],
)
def test_country_names_become_iso_codes(written, code):
    """HubSpot's free-text country becomes an ISO code; an unknown name is kept as written."""
    settings = settings_from_options({})
    lead = lead_from_contact({"id": "1", "properties": {"country": written}}, settings)
    assert getattr(lead, "country", None) == code
    assert settings.lookback == timedelta(minutes=10)


def test_capped_reps_get_their_open_count_from_hubspot(adapter_for, fake):
    """An owner with max_open in reps gets open_leads from a count search; others are not counted."""
    owned_by_101 = sum(
        1
        for p in fake.contacts.values()
        if p["hubspot_owner_id"] == "101" and p["lifecyclestage"] == "lead"
    )
    reps = {
        r.id: r
        for r in adapter_for(fake, reps={"101": {"max_open": 50}}, lifecycle_stages=["lead"])
        .read()
        .reps
    }
    assert reps["101"].open_leads == owned_by_101 > 0
    assert reps["101"].capacity.max_open == 50 and reps["102"].open_leads == 0


def test_search_reads_past_hubspots_real_10000_cap(client_for):
    """At HubSpot's real cap (10,000 per query) a 10,050-contact portal is read completely."""
    fake = FakeHubSpot.portal(contacts=10_050)
    reader = PortalReader(client_for(fake))
    records = reader.search_all("contacts", search_filters(owned=False), ["email"])
    assert len({r["id"] for r in records}) == 10_050
    bodies = searches(fake)
    assert max(int(b["after"]) for b in bodies) == 9_800 and len(bodies) == 51
    assert fake.search_429s == 0


@pytest.mark.parametrize(
    ("how", "expected"),
    [("low", {"25-50": 25, "10,001+": 10_001, "1,200": 1200}), ("midpoint", {"25-50": 38})],
)
def test_size_ranges_are_read_as_the_policy_says(fake, policy, tmp_path, how, expected):
    """numemployees ranges (HubSpot's dropdown) route the lead: low end or midpoint, never a reject."""
    import attrs

    from leadroute.adapters import AdapterConfig
    from leadroute_hubspot.adapter import HubSpotAdapter

    ids = list(fake.contacts)[: len(expected)]
    for cid, text in zip(ids, expected, strict=True):
        fake.contacts[cid]["numemployees"] = text
    policy = attrs.evolve(policy, validation=attrs.evolve(policy.validation, number_ranges=how))
    with fake.installed():
        adapter = HubSpotAdapter.from_config(AdapterConfig(policy=policy, workdir=tmp_path))
    snapshot = adapter.read()
    employees = {lead.id: lead.employees for lead in snapshot.leads}
    assert [employees[cid] for cid in ids] == list(expected.values())
    assert not {p.record_id for p in snapshot.problems} & set(ids)


def test_the_contact_phone_is_the_lead_phone(adapter_for, fake):
    """HubSpot's phone property becomes the lead's phone (normalized to E.164 by routing)."""
    leads = {lead.id: lead for lead in adapter_for(fake).read().leads}
    with_phone = [cid for cid, p in fake.contacts.items() if p["phone"] and cid in leads]
    assert with_phone and all(leads[c].phone == fake.contacts[c]["phone"] for c in with_phone)


def test_a_contact_with_many_companies_keeps_its_primary(adapter_for):
    """The primary company on the association read's second page is still the lead's account."""
    fake = FakeHubSpot.portal(contacts=3, association_page=2)
    cid = next(c for c in fake.contacts if not fake.contacts[c]["hubspot_owner_id"])
    fake.contacts[cid]["numemployees"] = "40"
    fake.contact_companies[cid] = ["5039", "5001", "5002", "5003"]  # the primary: 5039
    snapshot = adapter_for(fake).read()
    lead = next(lead for lead in snapshot.leads if lead.id == cid)
    assert lead.attributes["hubspot_company_id"] == "5039"
    assert fake.calls("/contacts/companies/batch/read") == 2


def test_read_leads_reads_the_named_contacts_in_batches(adapter_for):
    """A webhook's contacts are read by id (100 a batch read), as leads; unknown ids are left out."""
    from leadroute_hubspot.testing import FakeHubSpot

    fake = FakeHubSpot.portal(contacts=150, owned=0)
    ids = sorted(fake.contacts, key=int)
    adapter = adapter_for(fake)
    with fake.installed():
        snapshot = adapter.read_leads([*ids, "999999999"])
    got = {lead.id for lead in snapshot.leads} | {p.record_id for p in snapshot.problems}
    assert got == set(ids)
    assert fake.calls("contacts/batch/read") == 2
