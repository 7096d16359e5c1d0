"""Policy values of the wrong kind are refused in plain words, naming the path."""

from __future__ import annotations

import pytest

from leadroute.errors import PolicyError
from leadroute.policy import parse_policy

BASE = "version: '1'\nfallback: {owner: ops}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "segments: [{name: s, max_employees: lots}]",
            "segments[0].max_employees: expected a whole number, got 'lots'",
        ),
        (
            "pools: [{name: p, max_per_batch: 2.5}]",
            "pools[0].max_per_batch: expected a whole number, got 2.5",
        ),
        ("batch: {fairness: high}", "batch.fairness: expected a number, got 'high'"),
        (
            "batch: {same_owner_per_account: maybe}",
            "batch.same_owner_per_account: expected true or false, got 'maybe'",
        ),
        ("keep_current_owner: 3", "keep_current_owner: expected true or false, got 3"),
        (
            "pools: [{name: p, members: rep-1}]",
            "pools[0].members: expected a list (like [a, b]), got 'rep-1'",
        ),
        ("regions: {EMEA: DE}", "regions.EMEA: expected a list (like [a, b]), got 'DE'"),
        ("pools: {name: p}", "pools: expected a list (like [a, b]), got a mapping"),
        ("fit: {weights: [language]}", "fit.weights: expected a mapping (key: value), got a list"),
        ("fallback: ops", "fallback: expected a mapping (key: value), got text"),
    ],
)
def test_a_value_of_the_wrong_kind_is_said_in_plain_words(text, message):
    """No cattrs wording ("invalid value for type, expected int"): what was expected, what was found."""
    source = BASE if text.startswith("fallback") is False else "version: '1'\n"
    with pytest.raises(PolicyError) as info:
        parse_policy(source + text + "\n")
    assert str(info.value) == f"leadroute.yaml: {message}"


def test_numbers_in_any_spelling_still_read():
    """Whole floats, ints for floats and quoted numbers are accepted as before."""
    policy = parse_policy(
        BASE + "pools: [{name: p, max_per_batch: 4.0}]\nbatch: {fairness: 1}\n"
        "segments: [{name: s, max_employees: '200'}]\n"
    )
    assert policy.pools[0].max_per_batch == 4 and isinstance(policy.pools[0].max_per_batch, int)
    assert policy.batch.fairness == 1.0
    assert policy.segments[0].max_employees == 200
