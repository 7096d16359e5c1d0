"""Field mapping and record conversion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadroute.adapters import AdapterConfig
from leadroute.policy import parse_policy
from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.mapping import (
    BadValue,
    account_from,
    build_field_map,
    lead_from,
    parse_sf_datetime,
    rep_from,
)


def test_policy_overrides_and_unmaps_defaults():
    """Custom fields replace defaults, null drops one, unknown lead keys become attributes."""
    fields = build_field_map(
        {"leads": {"country": "Country", "state": None, "lead_type": "Type__c", "utm": "UTM__c"}}
    )
    leads = fields.of("leads")
    assert leads["country"] == "Country" and "state" not in leads
    assert fields.select("leads")[:2] == ["Id", "OwnerId"]
    assert "UTM__c" in fields.select("leads")
    lead = lead_from(
        {"Id": "00Q1", "Country": "de", "Type__c": "demo", "UTM__c": "spring", "Email": None},
        leads,
        owner_id="",
        origin="salesforce:Lead/00Q1",
    )
    assert (lead.country, lead.lead_type, lead.email) == ("DE", "demo", "")
    assert lead.attributes == {"utm": "spring"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-10-01T09:15:00.000+0000", datetime(2026, 10, 1, 9, 15, tzinfo=UTC)),
        ("2026-10-01T11:15:00.000+0200", datetime(2026, 10, 1, 9, 15, tzinfo=UTC)),
        ("2026-10-01T09:15:00Z", datetime(2026, 10, 1, 9, 15, tzinfo=UTC)),
        ("2026-10-01", datetime(2026, 10, 1, 23, 59, 59, 999999, tzinfo=UTC)),
        (None, None),
    ],
)
def test_salesforce_times_become_aware_utc(raw, expected):
    """Datetimes with +0000 offsets parse; a date means the end of that day (worked that day)."""
    assert parse_sf_datetime("created_at", raw) == expected


def test_bad_values_name_the_field():
    """A value that cannot be converted raises BadValue with the leadroute field and a code."""
    with pytest.raises(BadValue) as info:
        lead_from(
            {"Id": "00Q1", "NumberOfEmployees": "lots"},
            {"employees": "NumberOfEmployees"},
            owner_id="",
            origin="",
        )
    assert (info.value.field, info.value.code) == ("employees", "BAD_NUMBER")
    with pytest.raises(BadValue, match="created_at"):
        parse_sf_datetime("created_at", "yesterday")


def test_users_become_reps_with_lists_and_capacity():
    """Multi-select values split on ';', capacity and weight are numbers, inactive stays inactive."""
    mapping = build_field_map(
        {"users": {"territories": "Territories__c", "capacity": "Cap__c", "weight": "W__c"}}
    ).of("users")
    rep, errors = rep_from(
        {
            "Id": "0051",
            "Name": "Ann",
            "IsActive": False,
            "TimeZoneSidKey": "Europe/Berlin",
            "Territories__c": "emea;dach",
            "Cap__c": 12,
            "W__c": 1.5,
        },
        mapping,
        separator=";",
        open_leads=4,
        origin="",
    )
    assert errors == [] and not rep.active
    assert rep.territories == ("EMEA", "DACH")
    assert (rep.capacity.max_open, rep.weight, rep.open_leads) == (12, 1.5, 4)
    assert rep.availability.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("raw", "code"), [("de", "DE"), ("Germany", "DE"), ("United Kingdom", "GB"), ("", "")]
)
def test_country_names_and_codes_become_iso_codes(raw, code):
    """A Country text field with names works as well as CountryCode."""
    lead = lead_from({"Id": "00Q1", "Country": raw}, {"country": "Country"}, owner_id="", origin="")
    assert lead.country == code


def test_accounts_take_their_domain_from_the_website():
    """The registrable domain of Website (scheme, subdomains and path dropped) is the matching key."""
    mapping = build_field_map({}).of("accounts")
    account = account_from(
        {
            "Id": "0011",
            "Name": "Acme",
            "Website": "https://eu.www.Acme.co.uk/about",
            "OwnerId": "0051",
        },
        mapping,
        origin="",
    )
    assert (account.domain, account.owner_id) == ("acme.co.uk", "0051")


def test_contacts_read_the_company_through_the_account():
    """A contact's company is its account's name (a relationship field)."""
    mapping = build_field_map({}, contacts=True).of("contacts")
    lead = lead_from(
        {"Id": "0031", "Account": {"Name": "Globex"}, "AccountId": "0011", "Email": "a@g.example"},
        mapping,
        owner_id="",
        origin="",
    )
    assert lead.company == "Globex"
    assert lead.attributes["account_id"] == "0011"


@pytest.mark.parametrize(
    ("raw", "ranges", "expected"),
    [
        ("25-50", "low", 25),
        ("25-50", "midpoint", 38),
        ("10,001+", "midpoint", 10001),
        (120, "low", 120),
        ("", "low", None),
    ],
)
def test_employee_ranges_from_a_picklist_never_reject_the_lead(raw, ranges, expected):
    """A mapped company-size picklist holds ranges: read as validation.number_ranges says."""
    lead = lead_from(
        {"Id": "00Q1", "Size__c": raw},
        {"employees": "Size__c"},
        owner_id="",
        origin="salesforce:Lead/00Q1",
        ranges=ranges,
    )
    assert lead.employees == expected


def test_employee_value_that_is_no_number_is_a_bad_value():
    """A size that is neither a number nor a range is still a bad value, naming the field."""
    with pytest.raises(BadValue, match="employees: expected a number or a range"):
        lead_from(
            {"Id": "00Q1", "Size__c": "many"}, {"employees": "Size__c"}, owner_id="", origin=""
        )


def test_adapter_takes_the_policy_range_rule(jwt_env, tmp_path, monkeypatch):
    """from_config passes the policy's validation.number_ranges to the lead mapping."""
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = parse_policy(
        'version: "1"\nvalidation: {number_ranges: midpoint}\nfallback: {owner: x, queue: q}\n'
    )
    config = AdapterConfig(policy=policy, options={}, workdir=tmp_path)
    assert SalesforceAdapter.from_config(config).settings.number_ranges == "midpoint"
