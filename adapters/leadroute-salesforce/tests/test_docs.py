"""The Salesforce docs page's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from leadroute_salesforce.settings import OPTIONS, load_settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "adapters" / "salesforce.md"


def test_fake_org_example_runs():
    """The testing example on docs/adapters/salesforce.md executes and builds a 3,000-lead org."""
    (block,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    org = namespace["org"]
    assert len(org.waiting_leads) == 3000  # type: ignore[attr-defined]


def test_documented_options_are_all_valid(jwt_env, tmp_path):
    """Every option in the docs' full adapters.salesforce example is accepted as written."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (full,) = [b for b in blocks if "adapters:" in b]
    options = yaml.safe_load(full)["adapters"]["salesforce"]
    assert set(options) == OPTIONS  # the example shows every option there is
    settings = load_settings(options, workdir=tmp_path, env=jwt_env)
    assert settings.tasks.enabled and settings.fields.of("leads")["lead_type"] == "Lead_Type__c"
    assert "state" not in settings.fields.of("leads")
