"""docs/adapters/hubspot.md names every scope, property and setting the adapter uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from leadroute.policy import parse_policy
from leadroute_hubspot.admin import PROPERTIES_READ, SCOPES, SETTINGS
from leadroute_hubspot.mapping import DEFAULT_PROPERTIES, settings_from_options
from leadroute_hubspot.properties import written_properties

DOC = Path(__file__).parents[3] / "docs" / "adapters" / "hubspot.md"
TEXT = DOC.read_text(encoding="utf-8")


def table_rows(heading: str) -> str:
    """The text of a section, from its heading to the next heading of the same level."""
    start = TEXT.index(heading)
    level = heading.split(" ", 1)[0]
    rest = TEXT[start + len(heading) :]
    end = re.search(rf"\n{level} ", rest)
    return rest[: end.start()] if end else rest


def test_every_scope_the_code_needs_is_in_the_scope_table():
    """Each scope in leadroute_hubspot.admin.SCOPES has a row in "Scopes"."""
    section = table_rows("### 2. Scopes")
    for scope in SCOPES:
        assert f"| `{scope.name}` |" in section, scope.name


@pytest.mark.parametrize(("table", "keys"), sorted(SETTINGS.items()))
def test_every_option_is_documented(table, keys):
    """Each key of adapters.hubspot (and of its tasks and outcomes tables) is named."""
    section = table_rows("## The policy: `adapters.hubspot`")
    for key in keys:
        assert re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", section), (table, key)


@pytest.mark.parametrize(("kind", "names"), sorted(PROPERTIES_READ.items()))
def test_every_property_read_is_named(kind, names):
    """Each property the adapter reads appears on the page."""
    for name in names:
        assert f"`{name}`" in TEXT or f"→{name}`" in TEXT, (kind, name)


def test_every_property_written_by_the_documented_example_is_named():
    """Each property the example policy makes the adapter write is named on the page."""
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", TEXT, re.S) if "adapters:" in b]
    options = yaml.safe_load(example)["adapters"]["hubspot"]
    settings = settings_from_options(options, env={})
    for _, name, value in written_properties(settings):
        assert f"`{name}`" in TEXT or f"{name}:" in example, name
        if value:
            assert value in TEXT, value


def test_the_documented_example_is_a_valid_policy():
    """The page's policy example parses, and its adapter section passes the adapter's checks."""
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", TEXT, re.S) if "adapters:" in b]
    parse_policy('version: "1"\n' + example)


def test_the_default_mapping_is_listed():
    """Each default lead field -> property pair is on the page as field→property."""
    for field, prop in DEFAULT_PROPERTIES.items():
        assert f"`{field}→{prop}`" in TEXT, field
