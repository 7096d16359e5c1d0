"""The library example in docs/engine.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parent.parent.parent / "docs" / "engine.md"


def test_the_library_example_runs(tmp_path: Path):
    """The first Python block decides, replays and rejects as its asserts say."""
    [example, *_] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    exec(compile(example, str(DOC), "exec"), {"store_path": tmp_path / "s.db"})
