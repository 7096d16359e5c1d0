"""Library use is quiet until logging is configured; configure_logging turns it on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

import leadroute
from leadroute.logs import get_logger

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _library_defaults() -> Iterator[None]:
    """Each test starts as an application that has configured nothing."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def test_a_library_user_sees_no_log_lines(capsys):
    """Before anything configures structlog, leadroute's events print nothing anywhere."""
    log = get_logger("leadroute.example")
    log.debug("lead.routed", lead_id="L1")
    log.warning("store.slow", seconds=3)
    log.bind(run_id="r1").info("run.finished")
    assert capsys.readouterr() == ("", "")


def test_routing_as_a_library_prints_nothing(capsys, tmp_path):
    """A whole route through the engine writes nothing to stdout or stderr by default."""
    from leadroute.store import Store
    from leadroute.usecases import route

    policy = leadroute.parse_policy(
        "version: '1'\npools: [{name: p, members: [ana]}]\nrouting: [{name: r, pool: p}]\n"
        "fallback: {owner: ops}\n"
    )
    snapshot = leadroute.Snapshot(
        leads=(leadroute.Lead(id="L1", email="jo@acme.com", country="US"),),
        reps=(leadroute.Rep(id="ana"), leadroute.Rep(id="ops")),
    )
    with Store.open(tmp_path / "s.db") as store:
        result = route(leadroute.Engine.open(policy, store, reps=snapshot.reps), snapshot)
    assert result.counts()["routed"] == 1
    assert capsys.readouterr() == ("", "")


def test_an_application_that_configures_structlog_gets_leadroute_events():
    """Once the application configures structlog, leadroute's events go where its own go."""
    with structlog.testing.capture_logs() as captured:
        get_logger("leadroute.example").info("lead.routed", lead_id="L1")
    assert captured == [{"event": "lead.routed", "lead_id": "L1", "log_level": "info"}]


def test_configure_logging_sends_warnings_to_stderr(capsys):
    """leadroute.configure_logging(): warnings and up on stderr, nothing on stdout."""
    leadroute.configure_logging()
    log = get_logger("leadroute.example")
    log.info("quiet.info")
    log.warning("loud.warning", token="secret-value")
    out, err = capsys.readouterr()
    assert out == "" and "loud.warning" in err and "quiet.info" not in err
    assert "secret-value" not in err  # redacted


def test_configure_logging_takes_a_verbosity(capsys):
    """verbosity=2 shows debug events."""
    leadroute.configure_logging(verbosity=2)
    get_logger("leadroute.example").debug("lead.routed")
    assert "lead.routed" in capsys.readouterr().err


def test_every_module_logs_through_leadroute_logs():
    """No module takes structlog's logger directly (it would print in libraries)."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "adapters", "plugins")
        for path in (ROOT / folder).rglob("*.py")
        if "/tests/" not in str(path)
        and path.name != "logs.py"
        and re.search(r"structlog\.get_logger\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
