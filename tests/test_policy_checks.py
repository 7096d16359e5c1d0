"""Names in the policy that match nothing, and keys written twice, are caught at load/check time."""

from __future__ import annotations

import pytest

from leadroute.adapters import AdapterRegistry
from leadroute.errors import PolicyError
from leadroute.policy import parse_policy
from leadroute.policy_checks import check_adapter_options, check_names

BASE = "version: '1'\nfallback: {owner: ops}\npools: [{name: p}]\n"


def test_a_top_level_key_written_twice_is_an_error():
    """Two routing: blocks: the first would be dropped silently, so loading refuses it."""
    text = BASE + "routing:\n  - {name: a, pool: p}\nname: x\nrouting:\n  - {name: b, pool: p}\n"
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert str(info.value).startswith("leadroute.yaml: routing: appears twice (lines 4 and 7)")


def test_a_nested_key_written_twice_names_its_path():
    """A key repeated inside a list item is named with the item's path."""
    text = "version: '1'\nfallback: {owner: ops}\npools:\n  - name: p\n  - name: q\n    name: r\n"
    with pytest.raises(PolicyError, match=r"pools\[1\]\.name: appears twice \(lines 5 and 6\)"):
        parse_policy(text)


def test_the_same_key_in_different_mappings_is_fine():
    """Keys repeat across sibling mappings (every pool has a name) without complaint."""
    policy = parse_policy(BASE.replace("[{name: p}]", "[{name: p}, {name: q}]"))
    assert [p.name for p in policy.pools] == ["p", "q"]


def names(text: str, adapters=("csv", "hubspot", "salesforce")) -> list[str]:
    return check_names(parse_policy(BASE + text), adapters=adapters)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "adapters: {hubspott: {}}",
            "adapters.hubspott: no installed adapter is named 'hubspott': did you mean 'hubspot'?",
        ),
        (
            "fit: {weights: {langauge: 2}}",
            "fit.weights.langauge: no built-in fit contribution is named 'langauge': "
            "did you mean 'language'?",
        ),
        (
            "regions: {EMEA: [DE]}\nrouting: [{name: r, pool: p, when: {region: EMAE}}]",
            "routing[0].when.region: no region in regions is named 'emae': did you mean 'EMEA'?",
        ),
        (
            "segments: [{name: enterprise, min_employees: 1000}]\n"
            "routing: [{name: r, pool: p, when: {segment: [enterprize]}}]",
            "routing[0].when.segment: no segment in segments is named 'enterprize': "
            "did you mean 'enterprise'?",
        ),
    ],
)
def test_a_near_miss_of_a_known_name_is_an_error(text, message):
    """A typo of an adapter, fit contribution, region or segment stops with the likely name."""
    with pytest.raises(PolicyError) as info:
        names(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (
            "adapters: {pipedrive: {}}",
            "adapters.pipedrive: no installed adapter is named 'pipedrive'",
        ),
        (
            "fit: {weights: {intnet: 2}}",
            "fit.weights.intnet: no built-in fit contribution is named 'intnet'",
        ),
        (
            "regions: {NA: [US]}\nrouting: [{name: r, pool: p, when: {region: EMEA}}]",
            "routing[0].when.region: no region in regions is named 'emea'",
        ),
        (
            "routing: [{name: r, pool: p, when: {region: EMEA}}]",
            "routing[0].when.region: no region",
        ),
    ],
)
def test_a_name_nothing_knows_is_a_warning(text, start):
    """A name unlike any known one may be legitimate (a plugin, the data): a warning naming the path."""
    [warning] = names(text)
    assert warning.startswith(start)


def test_known_names_raise_nothing():
    """The names the built-ins and the policy define pass without a word."""
    text = (
        "regions: {EMEA: [DE]}\nadapters: {csv: {}}\nfit: {weights: {language: 2, headroom: 1}}\n"
        "routing: [{name: r, pool: p, when: {region: [emea], country: DE}}]\n"
    )
    assert names(text) == []


def test_an_adapter_option_naming_no_field_is_found_by_the_check():
    """A column mapped to a field the CSV adapter does not have fails the check, not the run."""
    from leadroute_csv.adapter import CsvAdapter

    registry = AdapterRegistry()
    registry.register("csv", CsvAdapter.from_config)
    policy = parse_policy(BASE + "adapters: {csv: {columns: {leads: {favourite: Colour}}}}\n")
    with pytest.raises(
        PolicyError, match=r"adapters\.csv\.columns\.leads\.favourite: unknown field"
    ):
        check_adapter_options(policy, registry, workdir=__import__("pathlib").Path.cwd())


def test_an_adapter_missing_its_credentials_passes_the_options_check():
    """Credentials are not the policy's business: an adapter that stops for them is not a policy error."""
    from leadroute.errors import AuthError

    def needs_token(config):
        raise AuthError("no token")

    registry = AdapterRegistry()
    registry.register("crm", needs_token)
    check_adapter_options(
        parse_policy(BASE + "adapters: {crm: {}}\n"),
        registry,
        workdir=__import__("pathlib").Path.cwd(),
    )
