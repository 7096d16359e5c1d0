"""``leadroute serve`` for real: uvicorn on loopback, the README's quickstart as printed,
SIGTERM and a restart."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart() -> tuple[dict[str, str], list[str], dict[str, object]]:
    """The README's live-service lines: the serve command's environment and arguments, and
    the lead its curl posts."""
    text = README.read_text(encoding="utf-8").split("## Route leads live", 1)[1]
    blocks = re.findall(r"```shell\n(.*?)```", text.split("\n## ", 1)[0], flags=re.S)
    serve_line, curl_line = (" ".join(b.replace("\\\n", " ").split()) for b in blocks[:2])
    words = shlex.split(serve_line)
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    args = words[words.index("leadroute") + 1 :]
    curl = shlex.split(curl_line)
    return env, args, json.loads(curl[curl.index("-d") + 1])


ENV, SERVE_ARGS, LEAD = quickstart()
KEY = ENV["LEADROUTE_API_KEYS"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLI = [sys.executable, "-c", "from leadroute.cli import main; main()"]


def start(cwd: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    """The README's serve command, run from ``cwd``, on ``port``."""
    command = [*CLI, *SERVE_ARGS, "--port", str(port)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )


def wait_ready(port: int, process: subprocess.Popen[str], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.fixture
def company(tmp_path: Path) -> Path:
    """A fresh folder after the README's first command, ``leadroute demo``."""
    done = subprocess.run([*CLI, "demo"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_quickstart_on_a_real_uvicorn(company):
    """The README's quickstart on loopback: a posted lead gets an owner written to
    assignments.csv, a console notification, and ``explain``; SIGTERM exits 0; a restart
    replays the same answer for the same Idempotency-Key."""
    port = free_port()
    env = {**os.environ, **ENV}
    folder = company / "leadroute-demo"
    process = start(company, port, env)
    try:
        wait_ready(port, process)
        headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "form-1"}
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/leads", json=LEAD, headers=headers, timeout=10
        )
        assert response.status_code == 202
        body = response.json()
        assert body["pool"] == "na-smb" and body["sla_due_at"]
        deadline = time.monotonic() + 30
        assignments = folder / "assignments.csv"
        while not assignments.exists() or body["lead_id"] not in assignments.read_text():
            assert time.monotonic() < deadline, "the relay did not write the owner"
            time.sleep(0.2)
    finally:
        code, out, err = stop(process)
    assert code == 0
    assert "notification to" in out and "Acme Widgets" in out
    assert "Traceback" not in err

    explained = subprocess.run(
        [
            sys.executable,
            "-c",
            "from leadroute.cli import main; main()",
            "explain",
            body["lead_id"],
            "--store",
            str(folder / ".leadroute" / "leadroute.db"),
        ],
        capture_output=True,
        text=True,
        cwd=company,
        check=False,
    )
    assert explained.returncode == 0
    assert body["owner_id"] in explained.stdout

    process = start(company, port, env)  # the restart
    try:
        wait_ready(port, process)
        again = httpx.post(
            f"http://127.0.0.1:{port}/v1/leads", json=LEAD, headers=headers, timeout=10
        )
    finally:
        code, _, err = stop(process)
    assert code == 0
    assert again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"


def test_serve_refuses_to_start_without_api_keys(company):
    """Without LEADROUTE_API_KEYS the command says so in one line and exits 2."""
    env = {k: v for k, v in os.environ.items() if k != "LEADROUTE_API_KEYS"}
    process = start(company, free_port(), env)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.strip() == "error: set LEADROUTE_API_KEYS (comma-separated API keys) before serving"
