"""docs/plugins.md: its testing recipe uses only public names, and it runs."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

DOC = Path(__file__).parent.parent / "docs" / "plugins.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_testing_recipe_imports_only_public_names():
    """Every name the recipe imports from leadroute is in its module's __all__."""
    (recipe,) = [b for b in python_blocks() if "route_one" in b]
    for node in ast.walk(ast.parse(recipe)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("leadroute"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert alias.name in module.__all__, f"{node.module}.{alias.name} is not public"
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "leadroute"
        ):
            assert node.attr in importlib.import_module("leadroute").__all__, node.attr


def test_the_testing_recipe_passes():
    """The recipe's test function, run as written, passes."""
    (recipe,) = [b for b in python_blocks() if "route_one" in b]
    namespace: dict[str, object] = {}
    exec(compile(recipe, str(DOC), "exec"), namespace)
    namespace["test_training_guard_keeps_enterprise_leads_away"]()  # type: ignore[operator]
