"""contrib/plugin-template: rendered with copier, the plugin's own tests pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from copier import run_copy

TEMPLATE = Path(__file__).resolve().parents[2] / "contrib" / "plugin-template"


def test_a_rendered_plugin_passes_its_own_tests(tmp_path):
    """Rendering with defaults gives a distribution with an entry point, a hook, tests and CI,
    and its tests pass against this leadroute (the module on the path, as installed would be)."""
    out = tmp_path / "leadroute-ci-guard"
    run_copy(
        str(TEMPLATE),
        out,
        data={"plugin_name": "ci_guard"},
        defaults=True,
        quiet=True,
        unsafe=False,
    )
    pyproject = (out / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.leadroute]\nci_guard = "leadroute_ci_guard"' in pyproject
    assert (out / ".github" / "workflows" / "ci.yml").exists()
    source = (out / "src" / "leadroute_ci_guard" / "__init__.py").read_text(encoding="utf-8")
    assert "@leadroute.hookimpl" in source and 'register("ci_guard", Settings)' in source
    env = {**os.environ, "PYTHONPATH": str(out / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out / "tests")],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
