"""The policy reference's examples are valid policies."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from leadroute.policy import parse_policy

DOC = Path(__file__).parent.parent / "docs" / "policy.md"
BASE = {"version": "1", "fallback": {"owner": "ops"}}


def blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def checked_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"<!-- checked -->\n```yaml\n(.*?)```", text, re.S)


def test_the_complete_example_parses():
    """The first example in docs/policy.md is a complete, valid policy."""
    parse_policy(blocks()[0])


def test_checked_fragments_parse_with_a_minimal_base():
    """Every fragment marked ``<!-- checked -->`` is valid on top of a minimal policy."""
    fragments = checked_blocks()
    assert len(fragments) >= 2
    for fragment in fragments:
        data = {**BASE, **yaml.safe_load(fragment)}
        parse_policy(yaml.safe_dump(data))
