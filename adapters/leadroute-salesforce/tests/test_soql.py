"""SOQL building: literals are escaped, names are checked, the fake parses what we send."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from leadroute.errors import PolicyError
from leadroute_salesforce.client import ApiError
from leadroute_salesforce.soql import Query, Where, chunks, identifier, literal
from leadroute_salesforce.testing import parse_soql, sf_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien & Sons", r"'O\'Brien & Sons'"),
        ("back\\slash", r"'back\\slash'"),
        ("line\nbreak", r"'line\nbreak'"),
        ('say "hi"', r"'say \"hi\"'"),
        ("' OR Name != '", r"'\' OR Name != \''"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (date(2026, 10, 1), "2026-10-01"),
        (
            datetime(2026, 10, 1, 11, 30, tzinfo=timezone(timedelta(hours=2))),
            "2026-10-01T09:30:00Z",
        ),
    ],
)
def test_literal_renders_soql_syntax(value, expected):
    """Each kind of value becomes the SOQL literal Salesforce expects, strings escaped."""
    assert literal(value) == expected


def test_literal_refuses_naive_datetimes():
    """A datetime without a zone is a bug, not a guess at UTC."""
    with pytest.raises(ValueError, match="timezone-aware"):
        literal(datetime(2026, 10, 1))  # noqa: DTZ001


@pytest.mark.parametrize("name", ["Lead_Type__c", "Account.Name", "Id"])
def test_identifier_accepts_field_names(name):
    """Standard, custom and one-level relationship names pass."""
    assert identifier(name) == name


@pytest.mark.parametrize("name", ["Id FROM User --", "Name'", "a.b.c", "", "1Field"])
def test_identifier_refuses_anything_else(name):
    """Names cannot be escaped in SOQL, so anything outside the grammar is a policy error."""
    with pytest.raises(PolicyError, match="is not a Salesforce field"):
        identifier(name, path="adapters.salesforce.fields.leads.x")


def test_query_renders_conditions_grouping_and_order():
    """A query joins its conditions with AND and keeps field order without duplicates."""
    query = Query(
        sobject="Lead",
        fields=["Id", "OwnerId", "Id"],
        where=[
            Where("IsConverted", "=", False),
            Where("OwnerId", "IN", ["00G000000000001AAA", "00G000000000002AAA"]),
            Where("CreatedDate", ">=", datetime(2026, 10, 1, tzinfo=UTC)),
        ],
        order_by=["CreatedDate", "Id"],
        limit=10,
    )
    assert query.render() == (
        "SELECT Id, OwnerId FROM Lead WHERE IsConverted = false AND OwnerId IN "
        "('00G000000000001AAA', '00G000000000002AAA') AND CreatedDate >= 2026-10-01T00:00:00Z "
        "ORDER BY CreatedDate, Id LIMIT 10"
    )
    parsed = parse_soql(query.render())
    assert parsed.where[1] == ("OwnerId", "IN", ["00G000000000001AAA", "00G000000000002AAA"])


def test_where_refuses_unknown_operators_and_wrong_shapes():
    """An operator outside the set, or IN with a string, is a programming error."""
    with pytest.raises(ValueError, match="unsupported"):
        Where("Id", "; DELETE", "x").render()
    with pytest.raises(ValueError, match="sequence"):
        Where("Id", "IN", "abc").render()


def test_chunks_split_lists():
    """Collections and IN lists are split into slices of the given size."""
    assert [list(c) for c in chunks(["a", "b", "c"], 2)] == [["a", "b"], ["c"]]


def test_company_with_a_quote_round_trips_through_the_fake(adapter_for, fake):
    """A company name with a quote and a backslash is matched exactly, not broken or injected."""
    tricky = "O'Brien \\ Sons' OR Company != '"
    fake.add("Lead", {"Id": sf_id("00Q", 1), "Company": tricky, "OwnerId": sf_id("00G", 1)})
    fake.add("Lead", {"Id": sf_id("00Q", 2), "Company": "Acme", "OwnerId": sf_id("00G", 1)})
    adapter = adapter_for()
    query = Query(sobject="Lead", fields=["Id", "Company"], where=[Where("Company", "=", tricky)])
    records = list(adapter.client.query(query.render()))
    assert [r["Company"] for r in records] == [tricky]


def test_an_unescaped_quote_is_a_malformed_query(adapter_for, fake):
    """The fake rejects what Salesforce rejects: a broken literal is a 400 MALFORMED_QUERY."""
    adapter = adapter_for()
    with pytest.raises(ApiError, match="MALFORMED_QUERY") as info:
        list(adapter.client.query("SELECT Id FROM Lead WHERE Company = 'O'Brien'"))
    assert info.value.status == 400
    assert len(fake.data_requests("query")) == 1  # not retried
