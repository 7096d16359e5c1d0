"""Numbers as CRMs write them: separators, multipliers, closed and open ranges, read by policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadroute.errors import PolicyError
from leadroute.numbers import NumberRange, parse_count, parse_number, parse_range
from leadroute.policy import parse_policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", NumberRange(1200, 1200)),
        ("1,200", NumberRange(1200, 1200)),
        ("1 200", NumberRange(1200, 1200)),
        ("1000.0", NumberRange(1000, 1000)),
        ("25-50", NumberRange(25, 50)),
        ("25 - 50", NumberRange(25, 50)),
        ("2–10", NumberRange(2, 10)),
        ("25 to 50", NumberRange(25, 50)),
        ("501-1,000", NumberRange(501, 1000)),
        ("5 001 - 10 000", NumberRange(5001, 10000)),
        ("10,001+", NumberRange(10001, None)),
        ("1000 or more", NumberRange(1000, None)),
        ("Over 500", NumberRange(500, None)),
        (">=200", NumberRange(200, None)),
        ("<10", NumberRange(0, 10)),
        ("up to 9", NumberRange(0, 9)),
        ("1k-5k", NumberRange(1000, 5000)),
        ("$1M - $5M", NumberRange(1_000_000, 5_000_000)),
        ("€2.5m", NumberRange(2_500_000, 2_500_000)),
    ],
)
def test_numbers_and_ranges_as_crms_export_them(text, expected):
    """Every form a CRM dropdown or export uses reads as its number or range."""
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "low", "midpoint"),
    [("25-50", 25, 38), ("10,001+", 10001, 10001), ("1,200", 1200, 1200), ("<10", 0, 5)],
)
def test_a_range_is_its_low_end_or_its_midpoint(text, low, midpoint):
    """``low`` takes the lower end; ``midpoint`` the middle (halves up), or an open range's end."""
    assert parse_count(text) == low
    assert parse_count(text, ranges="midpoint") == midpoint
    assert parse_number("25-50", ranges="midpoint") == 37.5


@pytest.mark.parametrize("text", ["many", "50-25", "-5", "1e5", "25-", "ten"])
def test_what_is_no_number_is_an_error_naming_the_text(text):
    """A value that is neither a number nor a range raises ValueError quoting it."""
    with pytest.raises(ValueError, match=r"is not a number|ends below"):
        parse_range(text)


def test_an_empty_cell_is_no_number():
    """Empty and blank cells are None, not zero and not an error."""
    assert parse_count("") is None and parse_count("   ") is None


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_any_written_range_reads_back(a, b):
    """Any ``low-high`` range written with thousands separators reads back exactly."""
    low, high = sorted((a, b))
    parsed = parse_range(f"{low:,}-{high:,}")
    assert parsed == NumberRange(low, high)
    assert parsed.value("low") <= parsed.value("midpoint") <= high


def test_the_policy_names_the_range_reading():
    """validation.number_ranges accepts low or midpoint and names its path otherwise."""
    base = 'version: "1"\nfallback: {owner: ops}\n'
    assert parse_policy(base).validation.number_ranges == "low"
    chosen = parse_policy(base + "validation: {number_ranges: midpoint}\n")
    assert chosen.validation.number_ranges == "midpoint"
    with pytest.raises(
        PolicyError, match=r"validation\.number_ranges: expected one of: low, midpoint"
    ):
        parse_policy(base + "validation: {number_ranges: middle}\n")
