"""Territory keys, lead keys and CSV territory tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadroute.errors import PolicyError
from leadroute.territories import (
    Territory,
    check_key,
    lead_geo_keys,
    merge_territories,
    read_territory_table,
)

REGIONS = {"NA", "EMEA"}


@pytest.mark.parametrize("key", ["US", "de", "NA", "emea", "US-CA", "de-by", "US:941", "GB:SW1A 1"])
def test_well_formed_keys_pass(key):
    """Countries, regions, COUNTRY-STATE and COUNTRY:POSTAL_PREFIX keys are accepted."""
    assert check_key(key, REGIONS) == ""


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("USA", "unknown territory key 'USA'"),
        ("USA-CA", "'USA' is not a two-letter country code"),
        ("U1:94", "'U1' is not a two-letter country code"),
        ("US:", "empty postal prefix"),
        ("US-C A", "is not a state or province code"),
    ],
)
def test_malformed_keys_say_why(key, message):
    """A malformed key is named with what is wrong with it."""
    assert message in check_key(key, REGIONS)


def test_lead_keys_cover_country_region_state_and_every_postal_prefix():
    """A lead matches its country, region, COUNTRY-STATE and each prefix of its postal code."""
    keys = lead_geo_keys("us", "ca", "94105-1234", "NA")
    assert {"US", "NA", "US-CA", "US:9", "US:94", "US:941", "US:941051234"} <= keys
    assert lead_geo_keys("GB", "", "sw1a 1aa", "") >= {"GB:SW1A", "GB:SW1A1AA"}
    assert lead_geo_keys("", "CA", "94105", "") == frozenset()


def test_merge_unites_keys_and_accounts_of_the_same_name():
    """Territories of one name from the policy and a table merge, normalised, without repeats."""
    merged = merge_territories(
        [
            {"West": Territory(keys=("us-ca",), accounts=("Acme.com",))},
            {"West": Territory(keys=("US-CA", "us:97")), "East": Territory(keys=("US-NY",))},
        ]
    )
    assert merged["West"] == Territory(keys=("US-CA", "US:97"), accounts=("acme.com",))
    assert merged["East"].keys == ("US-NY",)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "territories.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_table_rows_become_keys_and_named_accounts(tmp_path):
    """Each row adds one key or one named account to its territory."""
    path = write(
        tmp_path,
        "territory,country,state,postal_prefix,region,account\n"
        "NA-West,US,CA,,,\n"
        "NA-West,us,,97,,\n"
        "NA-West,CA,,,,\n"
        "\n"
        "EMEA,,,,emea,\n"
        "Strategic,,,,,Acme.com\n",
    )
    table = read_territory_table(path, "territories.csv", REGIONS)
    assert table["NA-West"].keys == ("US-CA", "US:97", "CA")
    assert table["EMEA"].keys == ("EMEA",)
    assert table["Strategic"] == Territory(keys=(), accounts=("acme.com",))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",US,,,,", "territory is empty"),
        ("T,,CA,,,", "state needs a country"),
        ("T,,,94,,", "postal_prefix needs a country"),
        ("T,,,,,", "row names no country, region or account"),
        ("T,USA,,,,", "country 'USA' is not a two-letter country code"),
        ("T,US,CA,94,,", "give a state or a postal prefix, not both"),
        ("T,,,,APAC,", "unknown region 'APAC' (not in the policy's regions)"),
        ("T,US,,,NA,", "a region row names only the territory and the region"),
        ("T,US,,,,acme.com", "an account row names only the territory and the account"),
        ("T,US,C-A,,,", "state 'C-A' is not a state or province code"),
        ("T,US,,-,,", "postal_prefix '-' has no letters or digits"),
        ("T,US,,,,,extra", "row has 7 cells but the header has 6"),
    ],
)
def test_a_bad_row_is_one_error_naming_file_and_line(tmp_path, row, message):
    """A bad row raises a PolicyError whose message starts with the file and its line."""
    path = write(
        tmp_path, f"territory,country,state,postal_prefix,region,account\nOK,US,,,,\n{row}\n"
    )
    with pytest.raises(PolicyError) as caught:
        read_territory_table(path, "territories.csv", REGIONS)
    assert str(caught.value) == f"territories.csv:3: {message}"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("country,state", "territories.csv:1: no 'territory' column in the header"),
        ("territory,country,zip", "territories.csv:1: unknown column(s) 'zip'"),
    ],
)
def test_a_bad_header_is_named(tmp_path, header, message):
    """A table without a territory column, or with an unknown column, fails at line 1."""
    path = write(tmp_path, f"{header}\nT,US,x\n")
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_territory_table(path, "territories.csv", REGIONS)


def test_a_missing_table_is_named(tmp_path):
    """A table the policy references but that does not exist is a one-line error."""
    with pytest.raises(PolicyError, match=r"^nowhere\.csv: territory table not found$"):
        read_territory_table(tmp_path / "nowhere.csv", "nowhere.csv", REGIONS)
