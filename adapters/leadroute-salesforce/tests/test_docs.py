"""The Salesforce docs page's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "adapters" / "salesforce.md"


def test_fake_org_example_runs():
    """The testing example on docs/adapters/salesforce.md executes and builds a 3,000-lead org."""
    (block,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    org = namespace["org"]
    assert len(org.waiting_leads) == 3000  # type: ignore[attr-defined]
