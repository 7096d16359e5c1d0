"""Loading leadroute.yaml: structure, precise errors, conditions and the JSON Schema."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml
from tests.conftest import BASE_POLICY

from leadroute.errors import PolicyError
from leadroute.models import Lead
from leadroute.policy import (
    Condition,
    Strategy,
    format_duration,
    json_schema,
    load_policy,
    parse_duration,
    parse_policy,
)

MINIMAL = "version: '1'\nfallback: {owner: ops}\n"


def test_base_policy_structures_every_section():
    """A valid policy becomes typed objects: pools with strategies, rules, a fallback with a duration."""
    policy = parse_policy(BASE_POLICY)
    assert [p.strategy for p in policy.pools] == [Strategy.ROUND_ROBIN, Strategy.ROUND_ROBIN]
    assert policy.fallback.escalate_after == timedelta(hours=4)
    assert policy.region_of("de") == "EMEA"
    assert policy.segment_of(200) == "enterprise" and policy.segment_of(None) == ""
    assert policy.version_tag == f"t1@{policy.digest[:8]}"


def test_digest_changes_when_the_content_changes():
    """Editing the file without bumping the version still changes what decisions record."""
    assert parse_policy(MINIMAL).version_tag != parse_policy(MINIMAL + "name: x\n").version_tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "pools: [{name: x}]\nrouting: [{name: r, pool: y}]",
            "routing[0].pool: unknown pool 'y'",
        ),
        (
            MINIMAL + "pools: [{name: x}]\nrouting: [{name: r, pool: x}, "
            "{name: s, pool: x, when: {country: {equals: US}}}]",
            "routing[1].when.country: unknown operator 'equals'",
        ),
        (
            MINIMAL + "pools: [{name: x, strategy: rr}]",
            "pools[0].strategy: expected one of: round_robin, weighted, least_loaded",
        ),
        ("version: '1'\nfallback: {}", "fallback.owner: required key missing"),
        (MINIMAL + "colour: blue", "unknown key(s): colour"),
        (
            MINIMAL + "pools: [{name: x, members: [a], stratgy: weighted}]",
            "pools[0]: unknown key(s): stratgy",
        ),
        (
            "version: '1'\nfallback: {owner: a, escalate_after: soon}",
            "fallback.escalate_after: expected a duration",
        ),
        (
            MINIMAL + "validation: {missing_action: drop}",
            "validation.missing_action: expected one of: reject, fallback, nurture, flag",
        ),
        (MINIMAL + "pools: [{name: x}, {name: x}]", "pools[1].name: duplicate name 'x'"),
        (
            MINIMAL + "pools: [{name: x, max_per_batch: -1}]",
            "pools[0].max_per_batch: must be 0 or more",
        ),
        (MINIMAL + "regions: {NA: [USA]}", "regions.NA: 'USA' is not a two-letter"),
        (MINIMAL + "regions: {NA: [US], AM: [US]}", "regions.AM: US is already in region 'NA'"),
        (
            MINIMAL + "segments: [{name: s, min_employees: 10, max_employees: 5}]",
            "segments[0]: min_employees is above max_employees",
        ),
        (
            MINIMAL
            + "pools: [{name: x}]\nrouting: [{name: r, pool: x, when: {employees: {gte: lots}}}]",
            "routing[0].when.employees: 'gte' takes a number",
        ),
        ("version: ''\nfallback: {owner: a}", "version: must not be empty"),
        ("version: '1'\nfallback: {owner: ' '}", "fallback.owner: must name the rep"),
        ("- just\n- a list\n", "expected a mapping at the top"),
        ("version: [1\n", "line 2, column 1: invalid YAML"),
        (MINIMAL + "digest: abc", "digest: 'digest' is computed"),
        (
            MINIMAL + "pools: [{name: p, out_of_hours: follow_the_sun}]",
            "pools[0].on_shift_pool: follow_the_sun needs on_shift_pool",
        ),
        (
            MINIMAL + "pools: [{name: p, out_of_hours: follow_the_sun, on_shift_pool: p}]",
            "pools[0].on_shift_pool: unknown pool 'p' (name another pool)",
        ),
        (
            MINIMAL + "pools: [{name: p, on_shift_pool: q}, {name: q}]",
            "pools[0].on_shift_pool: only used with out_of_hours: follow_the_sun",
        ),
        (
            MINIMAL + "pools: [{name: p, out_of_hours: sleep}]",
            "pools[0].out_of_hours: expected one of: exclude, follow_the_sun, defer",
        ),
        (
            MINIMAL + "pools: [{name: p, defer: soonest}]",
            "pools[0].defer: expected one of: strategy, earliest_available",
        ),
        (
            MINIMAL + "pools: [{name: p, share: weight_x_capacity}]",
            "pools[0].share: expected one of: weight, weight_x_daily_cap",
        ),
        (MINIMAL + "pools: [{name: p, half_life: 0s}]", "pools[0].half_life: must be longer"),
        (MINIMAL + "capacity: {load: ' '}", "capacity.load: name a lead field or 'count'"),
        (MINIMAL + "capacity: {missing_load: -1}", "capacity.missing_load: must be 0 or more"),
        (MINIMAL + "regions: {EMEA: [SE, NO]}", "regions.EMEA[1]: got false; YAML reads"),
        (
            MINIMAL + "pools: [{name: p}]\nrouting: [{name: r, pool: p, when: {country: NO}}]",
            "routing[0].when.country: got false; YAML reads",
        ),
    ],
)
def test_errors_name_the_path_and_the_problem(text, expected):
    """Every malformed policy raises one PolicyError whose message names where and what."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.yaml")
    message = str(info.value)
    assert message.startswith("p.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_several_problems_are_counted_in_one_line():
    """When several keys are wrong, the first is named and the rest are counted."""
    with pytest.raises(PolicyError, match=r"\(and 1 more problem\(s\)\)"):
        parse_policy("version: '1'\nfallback: {owner: a, escalate_after: soon}\nname: [x]")


def test_unsafe_yaml_tags_are_refused():
    """A python object tag is never constructed (yaml.safe_load only)."""
    with pytest.raises(PolicyError, match="invalid YAML"):
        parse_policy(MINIMAL + "name: !!python/object/apply:os.system ['echo hi']\n")


def test_missing_file_is_a_policy_error(tmp_path):
    """A missing policy file is a one-line policy error naming the file."""
    with pytest.raises(PolicyError, match=r"nope\.yaml: file not found"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("US", "us", True),
        ("US", "CA", False),
        (["US", "CA"], "ca", True),
        ({"not_in": ["US"]}, "DE", True),
        ({"gte": 200, "lt": 1000}, "200", True),
        ({"gte": 200, "lt": 1000}, "1000", False),
        ({"gte": 200}, "", False),
        ({"gte": 200}, "lots", False),
        ({"exists": True}, "", False),
        ({"exists": False}, "", True),
        ({"prefix": ["94", "95"]}, "94107", True),
        ({"ne": "partner"}, "demo", True),
        (2, "2", True),
    ],
)
def test_conditions(spec, value, expected):
    """Scalars test equality, lists membership, mappings operators; text ignores case."""
    policy = parse_policy(
        MINIMAL
        + "pools: [{name: p}]\n"
        + yaml.safe_dump({"routing": [{"name": "r", "pool": "p", "when": {"country": spec}}]})
    )
    assert policy.routing[0].matches(Lead(id="x", country=value)) is expected


def test_condition_on_derived_attribute():
    """Conditions may name derived attributes such as region."""
    rule = parse_policy(BASE_POLICY).routing[1]
    assert rule.matches(Lead(id="x", attributes={"region": "EMEA"}))
    assert not rule.matches(Lead(id="x", country="DE"))  # region not derived yet


@pytest.mark.parametrize(
    ("text", "seconds"), [("4h", 14400), ("90m", 5400), ("1d12h", 129600), (30, 30)]
)
def test_durations(text, seconds):
    """Durations read as days/hours/minutes/seconds and write back the same way."""
    value = parse_duration(text)
    assert value.total_seconds() == seconds
    assert parse_duration(format_duration(value)) == value


def test_json_schema_validates_the_base_policy_and_rejects_typos():
    """The published schema accepts a valid policy and rejects an unknown key."""
    schema = json_schema()
    json.dumps(schema)
    data = yaml.safe_load(BASE_POLICY)
    jsonschema.validate(data, schema)
    data["pools"][0]["stratgy"] = "weighted"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_json_schema_knows_the_time_options():
    """Editors validate ``defer`` and ``share`` on pools: the schema lists their values."""
    pool = json_schema()["$defs"]["PoolPolicy"]["properties"]
    assert pool["defer"] == {"enum": ["strategy", "earliest_available"]}
    assert pool["share"] == {"enum": ["weight", "weight_x_daily_cap"]}
    data = yaml.safe_load(BASE_POLICY)
    data["pools"][0] |= {"defer": "earliest_available", "share": "weight_x_daily_cap"}
    jsonschema.validate(data, json_schema())
    data["pools"][0]["defer"] = "whenever"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema())


def test_pools_split_by_weight_and_defer_to_their_strategy_by_default():
    """Without the new keys a pool splits by weight and keeps today's out-of-hours choice."""
    pool = parse_policy(MINIMAL + "pools: [{name: p}]").pools[0]
    assert (pool.share, pool.defer) == ("weight", "strategy")


def test_condition_object_reports_operator():
    """A parsed condition keeps its operator and lower-cased operands."""
    policy = parse_policy(
        MINIMAL + "pools: [{name: p}]\nrouting: [{name: r, pool: p, when: {country: [US, Ca]}}]"
    )
    assert policy.routing[0].when["country"] == (Condition(op="in", values=("us", "ca")),)


# --------------------------------------------------------------------------- hard constraints

CONSTRAINED = """
version: "c1"
regions: {NA: [US, CA]}
territories:
  NA-West: {keys: [US-CA], accounts: [Acme.com]}
territory_files: [tables/territories.csv]
fallback: {owner: ops}
"""


def test_territory_files_are_read_relative_to_the_policy_and_merged(tmp_path):
    """A territory table next to the policy extends the inline territories of the same name."""
    (tmp_path / "tables").mkdir()
    table = tmp_path / "tables" / "territories.csv"
    table.write_text("territory,country,state,postal_prefix\nNA-West,US,OR,\nNA-West,US,,97\n")
    (tmp_path / "leadroute.yaml").write_text(CONSTRAINED)
    policy = load_policy(tmp_path / "leadroute.yaml")
    west = policy.territory("na-west")
    assert west is not None
    assert west.keys == ("US-CA", "US-OR", "US:97") and west.accounts == ("acme.com",)
    before = policy.version_tag
    table.write_text("territory,country,state\nNA-West,US,WA\n")
    assert load_policy(tmp_path / "leadroute.yaml").version_tag != before  # data change shows


def test_a_bad_territory_table_row_names_the_file_and_line(tmp_path):
    """The policy loader surfaces a bad table row as one line with the table's name and line."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "territories.csv").write_text("territory,country,state\nW,,CA\n")
    (tmp_path / "leadroute.yaml").write_text(CONSTRAINED)
    with pytest.raises(PolicyError, match=r"^tables/territories\.csv:2: state needs a country$"):
        load_policy(tmp_path / "leadroute.yaml")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("territories: {W: {keys: [USA]}}", "territories.W.keys: unknown territory key 'USA'"),
        (
            "skills: [{require: {fintech: 0}}]",
            "skills[0].require.fintech: level of 'fintech' must be 1 or more",
        ),
        (
            "segments: [{name: s, min_revenue: 10, max_revenue: 5}]",
            "segments[0]: min_revenue is above max_revenue",
        ),
        ("territory_files: ['']", "territory_files[0]: must name a file"),
    ],
)
def test_constraint_options_are_checked(extra, message):
    """Malformed territory keys, skill levels, revenue bands and file names are policy errors."""
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy(f"version: x\nfallback: {{owner: o}}\n{extra}\n")


def test_skill_requirements_take_the_highest_level_asked():
    """Policy requirements whose when holds and the rule's skills combine, highest level wins."""
    policy = parse_policy(
        "version: x\nfallback: {owner: o}\npools: [{name: p}]\n"
        "skills: [{when: {industry: banking}, require: {fintech: 2}}, {require: {crm: 1}}]\n"
        "routing: [{name: r, pool: p, skills: {FinTech: 3}}]\n"
    )
    banking = Lead(id="L", attributes={"industry": "banking"})
    assert policy.skills_required(banking, policy.routing[0]) == {"fintech": 3, "crm": 1}
    assert policy.skills_required(Lead(id="M"), None) == {"crm": 1}


def _doc_yaml_blocks(section: str) -> list[str]:
    """The ```yaml blocks of one ``## `section` `` of docs/policy.md."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text()
    body = text.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", body, flags=re.DOTALL)


@pytest.mark.parametrize("section", ["duplicates", "account_matching"])
def test_documented_examples_parse(section):
    """The policy reference's examples for duplicates and account matching are valid policies."""
    [block] = _doc_yaml_blocks(section)
    policy = parse_policy("version: '1'\nfallback: {owner: ops}\n" + block)
    assert getattr(policy, section) != getattr(
        parse_policy("version: '1'\nfallback: {owner: ops}\n"), section
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("duplicates: {action: merge}", "duplicates.action"),
        ("duplicates: {by_lead_type: {demo: keep}}", "duplicates.by_lead_type.demo"),
        ("duplicates: {match_on: [fax]}", "duplicates.match_on"),
        ("duplicates: {match_on: []}", "duplicates.match_on"),
        ("account_matching: {name_threshold: 0}", "account_matching.name_threshold"),
        ("account_matching: {name_threshold: 1.5}", "account_matching.name_threshold"),
    ],
)
def test_bad_duplicate_and_matching_settings_name_their_path(text, path):
    """Unknown actions, identity kinds and out-of-range thresholds are errors at their path."""
    with pytest.raises(PolicyError) as info:
        parse_policy("version: '1'\nfallback: {owner: ops}\n" + text + "\n")
    assert info.value.path.startswith(path), info.value
