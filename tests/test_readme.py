"""The README's commands, and those the demo prints, work as printed in a fresh folder."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from leadroute.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def shell_lines(text: str) -> list[str]:
    """Command lines of the ```sh blocks, continuations joined, without trailing comments."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def one_shot(command: str) -> bool:
    """A command that finishes: not the live server, nor the request sent to it (the
    service's own tests run those: tests/service)."""
    return " leadroute serve " not in f" {command} " and not command.startswith("curl ")


def run(command: str, cwd: Path) -> tuple[Path, str]:
    """Run one line as a shell would for leadroute commands; returns the new cwd, stdout."""
    if command.startswith("cd "):
        return (cwd / shlex.split(command)[1]).resolve(), ""
    command = command.removeprefix("pip install uv && ")
    redirect = None
    if " > " in command:
        command, redirect = (part.strip() for part in command.split(" > ", 1))
    words = shlex.split(command)
    assert words[:3] == ["uv", "run", "leadroute"] or words[:1] == ["leadroute"], command
    args = words[3:] if words[0] == "uv" else words[1:]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        if redirect:
            (cwd / redirect).write_text(result.stdout, encoding="utf-8")
    return cwd, result.stdout


def test_every_readme_command_works_as_printed(tmp_path, monkeypatch):
    """From a fresh folder, each leadroute line of the README runs in order and exits 0."""
    monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")  # as under `uv run`, like the README
    commands = [
        c
        for c in shell_lines(README.read_text(encoding="utf-8"))
        if "pytest" not in c and one_shot(c)
    ]
    assert commands[0] == "pip install uv && uv run leadroute demo"
    cwd, printed = run(commands[0], tmp_path)
    # The demo's own suggestions come first: a new user runs what it prints.
    suggested = printed.split("Then try, from the demo's folder:", 1)[1].strip().splitlines()
    assert suggested[0] == "cd leadroute-demo"
    assert all(s.strip().startswith(("cd ", "uv run leadroute ")) for s in suggested)
    here = cwd
    for line in suggested:
        here, _ = run(line.strip(), here)
    for command in commands[1:]:
        cwd, _ = run(command, cwd)
    assert (tmp_path / "results" / "assignments.csv").exists()
    assert (tmp_path / "leadroute.schema.json").stat().st_size > 1000


def test_the_readme_library_example_runs(tmp_path, monkeypatch, capsys):
    """The README's Python block runs as printed after the demo, and prints what it says."""
    text = README.read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["demo", "--json"]).exit_code == 0
    structlog.reset_defaults()  # a library user has configured nothing
    capsys.readouterr()
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 ['MISSING_FIELD']"
    assert lines[1].startswith("round_robin in pool sales")
    assert lines[2] == "300"  # and nothing else: library use prints no log lines
    assert len(lines) == 3
    assert (tmp_path / "out" / "assignments.csv").exists()
