"""Hostile policy files: every one is refused with one line and exit 2, never a crash or a hang."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import BASE_POLICY
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.errors import PolicyError
from leadroute.policy import Policy, json_schema, load_policy, parse_policy
from leadroute.policy_files import MAX_DEPTH, MAX_NODES, MAX_POLICY_BYTES, load_yaml

MINIMAL = 'version: "1"\nfallback: {owner: ops}\n'


def laughs(levels: int) -> str:
    """A billion-laughs document under ``adapters`` (free-form, so only its size is wrong)."""
    lines = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]")
    return MINIMAL + "adapters:\n csv:\n" + "\n".join(" " + line for line in lines) + "\n"


HOSTILE = {
    "billion laughs": laughs(7),
    "recursive alias": MINIMAL + "adapters: {csv: &a {loop: *a}}\n",
    "recursive alias in a list": MINIMAL + "adapters: {csv: {x: &b [1, *b]}}\n",
    "5,000-deep nesting": MINIMAL + "adapters: {csv: {x: " + "[" * 5000 + "]" * 5000 + "}}\n",
    "5,000-deep mappings": MINIMAL + "adapters: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "number and text keys that collide": MINIMAL + 'adapters: {csv: {1: a, "1": b}}\n',
    "a null key next to text keys": MINIMAL + "adapters: {csv: {null: a, b: c}}\n",
    "a boolean key where keys are checked": MINIMAL + "pools: [{name: p, yes: 1}]\n",
    "a float key": MINIMAL + "regions: {1.5: [US]}\n",
    "a date key": MINIMAL + "regions: {2026-01-01: [US]}\n",
    "a list as a key": MINIMAL + "regions: {? [a, b] : [US]}\n",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_yaml_is_one_policy_error(text):
    """Aliases that explode or loop, deep nesting and odd keys raise PolicyError, nothing else."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert "\n" not in str(caught.value)


@pytest.fixture
def _reset_structlog() -> Iterator[None]:
    """The CLI configures logging; put structlog back the way the library leaves it."""
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("_reset_structlog")
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_policy_file_exits_2_with_one_line(tmp_path, text):
    """check-policy on each hostile file prints one error line and exits 2 (no traceback)."""
    path = tmp_path / "leadroute.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check-policy", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ")


def test_alias_expansion_limit_names_the_line():
    """The billion-laughs refusal says where and why, before the aliases are expanded."""
    with pytest.raises(
        PolicyError, match=rf"line \d+: the file expands to more than {MAX_NODES:,}"
    ):
        parse_policy(laughs(9))


def test_recursive_alias_is_named():
    """A recursive alias is refused as such (it would never end once expanded)."""
    with pytest.raises(PolicyError, match=r"alias \*a refers to a node that contains it"):
        parse_policy(HOSTILE["recursive alias"])


def test_depth_limit_names_the_line():
    """Nesting past the limit is refused from the event stream, naming the line."""
    text = MINIMAL + "adapters:\n  csv: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    with pytest.raises(PolicyError, match=rf"line 4: nested deeper than {MAX_DEPTH} levels"):
        parse_policy(text)


def test_moderate_aliases_still_work():
    """Ordinary YAML anchors (a shared shift, a merge key) are still read as before."""
    policy = parse_policy(
        MINIMAL + "adapters:\n  csv: &opts {input_dir: in}\n  other: {<<: *opts, extra: 1}\n"
    )
    assert policy.adapter_options("other") == {"input_dir": "in", "extra": 1}


def test_whole_number_keys_become_text():
    """An owner id written as a bare number (101:) is read as the text '101'."""
    assert load_yaml("reps: {101: {max_open: 5}}", source="p.yaml") == {
        "reps": {"101": {"max_open": 5}}
    }


def test_boolean_key_names_its_path_and_the_hint():
    """A bare NO (Norway) as a key is read by YAML as false: refused with where and why."""
    with pytest.raises(
        PolicyError, match=r"regions\.EU: key false is a boolean, not text: quote it"
    ):
        parse_policy(MINIMAL + "regions: {EU: {NO: 1}}\n")


def test_policy_file_over_the_size_limit_is_refused(tmp_path):
    """A policy file past the size limit is refused before it is parsed."""
    path = tmp_path / "leadroute.yaml"
    path.write_text(MINIMAL + "#" * MAX_POLICY_BYTES + "\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"leadroute\.yaml: file is larger than 1,024 KB"):
        load_policy(path)


def test_policy_that_is_not_utf8_is_one_line(tmp_path):
    """Bytes that are not UTF-8 are refused with the offset, not a decode traceback."""
    path = tmp_path / "leadroute.yaml"
    path.write_bytes(MINIMAL.encode() + b"name: \xff\n")
    with pytest.raises(PolicyError, match="not UTF-8 text"):
        load_policy(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_territory_file_dev_zero_is_refused(tmp_path):
    """territory_files: [/dev/zero] is refused at once instead of reading forever."""
    path = tmp_path / "leadroute.yaml"
    path.write_text(MINIMAL + "territory_files: [/dev/zero]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"/dev/zero: territory table is not a regular file"):
        load_policy(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_policy_and_territory_fifos_are_refused_without_blocking(tmp_path):
    """A named pipe (which would block until someone writes) is refused, not waited on."""
    os.mkfifo(tmp_path / "pipe.csv")
    os.mkfifo(tmp_path / "pipe.yaml")
    path = tmp_path / "leadroute.yaml"
    path.write_text(MINIMAL + "territory_files: [pipe.csv]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"pipe\.csv: territory table is not a regular file"):
        load_policy(path)
    with pytest.raises(PolicyError, match=r"pipe\.yaml: file is not a regular file"):
        load_policy(tmp_path / "pipe.yaml")


def test_directory_as_policy_or_territory_file_is_refused(tmp_path):
    """A directory given as the policy or as a territory table is one line, not IsADirectoryError."""
    (tmp_path / "tables").mkdir()
    path = tmp_path / "leadroute.yaml"
    path.write_text(MINIMAL + "territory_files: [tables]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="tables: territory table is not a regular file"):
        load_policy(path)
    with pytest.raises(PolicyError, match="file is not a regular file"):
        load_policy(tmp_path / "tables")


# --------------------------------------------------------------------------- fuzzing


def _vocabulary() -> list[str]:
    """Every key the policy's JSON Schema knows, so fuzzed documents reach deep sections."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                found.update(node["properties"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json_schema())
    return sorted(found)


VOCABULARY = _vocabulary()
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["4h", "US", "NO", "round_robin", "2026-01-01", "09:00-17:00", "mon-fri", "9" * 5000, "1d"]
    ),
)
KEYS = st.one_of(
    st.sampled_from(VOCABULARY), st.text(max_size=6), st.integers(), st.booleans(), st.none()
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)
BASE = yaml.safe_load(BASE_POLICY)


def _outcome(text: str) -> None:
    """Parsing either gives a Policy or raises PolicyError with a one-line message."""
    try:
        policy: Policy | None = parse_policy(text)
        message = ""
    except PolicyError as exc:
        policy, message = None, str(exc)
    assert isinstance(policy, Policy) or (message and "\n" not in message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sections=st.dictionaries(st.sampled_from(VOCABULARY), TREES, min_size=1, max_size=3))
def test_fuzzed_policies_never_crash_the_loader(sections):
    """A valid policy with sections replaced by random values is loaded or refused, never crashes."""
    _outcome(yaml.safe_dump({**BASE, **sections}, sort_keys=False, allow_unicode=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.lists(
        st.sampled_from([*"ab1:-[]{}&*!|>'\"#,?%@ \n\t<=.~", "NO", "yes", "&a ", "*a", "!!"]),
        max_size=60,
    ).map("".join)
)
def test_fuzzed_yaml_text_never_crashes_the_loader(text):
    """Random YAML syntax (anchors, aliases, tags, flow and block styles) is loaded or refused."""
    _outcome(MINIMAL + text)


def test_a_key_with_a_line_break_is_reported_on_one_line():
    """A policy key holding a newline is named escaped; the error stays one line."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump({**BASE, "account_matching": {"\n": {None: None}}}))
    assert "\n" not in str(caught.value)
    assert "\\n" in str(caught.value)
