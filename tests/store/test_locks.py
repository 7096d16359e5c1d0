"""Run locks: one rebalance or reassign at a time per store, on both backends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import fresh_location

from leadroute.errors import StoreBusyError
from leadroute.store import Store, schema
from leadroute.store.locks import MOVES, lock_holder, run_lock


def test_a_second_run_is_refused_while_the_first_holds_the_lock(store: Store):
    """While one run holds the lock, another gets StoreBusyError (exit 5) naming the holder."""
    with run_lock(store, command="rebalance") as me:
        with pytest.raises(StoreBusyError) as caught, run_lock(store, command="reassign"):
            pass
        message = str(caught.value)
        assert caught.value.exit_code == 5 and "\n" not in message
        assert f"rebalance on host {socket.gethostname()} (pid {os.getpid()})" in message
        assert lock_holder(store) == me
    assert lock_holder(store) is None


def test_the_lock_is_free_again_after_a_run_fails(store: Store):
    """A run that raises releases the lock on its way out."""

    def failing_run() -> None:
        with run_lock(store, command="rebalance"):
            raise RuntimeError("the solver ran out of memory")

    with pytest.raises(RuntimeError):
        failing_run()
    with run_lock(store, command="rebalance"):
        pass


def _stale_row(store: Store, pid: int, process_start: str, host: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            schema.run_locks.insert().values(
                name=MOVES,
                holder="dead",
                command="rebalance",
                host=host,
                pid=pid,
                process_start=process_start,
                acquired_at="2026-11-02T02:00:00+00:00",
            )
        )


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


@pytest.mark.parametrize(
    ("pid", "process_start", "host"),
    [
        (None, "", None),  # the holder's process is gone
        (os.getpid(), "1", None),  # its pid now belongs to a process that started later
        (os.getpid(), "", "another-machine"),  # a SQLite file copied from another machine
    ],
)
def test_a_sqlite_lock_left_by_a_dead_run_is_taken_over(tmp_path: Path, pid, process_start, host):
    """On SQLite a lock row whose process no longer runs is stale: the next run takes it."""
    with Store.open(tmp_path / "s.db") as store:
        _stale_row(store, pid or _dead_pid(), process_start, host or socket.gethostname())
        with run_lock(store, command="reassign") as me:
            assert lock_holder(store) == me


HOLD = """
import sys, time
import structlog
structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
from leadroute.store import Store
from leadroute.store.locks import run_lock
with Store.open(sys.argv[1], create=False) as store, run_lock(store, command="rebalance"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_run_killed_while_holding_the_lock_does_not_block_the_next(store_location: str):
    """A rebalance killed with SIGKILL mid-run leaves no lock behind that blocks the next
    (PostgreSQL drops the advisory lock with the connection; SQLite sees the pid gone)."""
    with Store.open(store_location):
        pass  # created
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, store_location], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with Store.open(store_location) as store:
            with pytest.raises(StoreBusyError), run_lock(store, command="rebalance"):
                pass
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(10)
            deadline = time.monotonic() + 10
            while True:
                try:
                    with run_lock(store, command="rebalance"):
                        break
                except StoreBusyError:
                    # PostgreSQL ends the session as soon as the dead socket is noticed.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_stores_in_different_schemas_have_their_own_locks(tmp_path: Path, request):
    """Two stores sharing one PostgreSQL database (two schemas) do not block each other."""
    first = fresh_location("postgresql", tmp_path, request)
    second = fresh_location("postgresql", tmp_path, request)
    with Store.open(first) as a, Store.open(second) as b:
        with run_lock(a, command="rebalance"), run_lock(b, command="rebalance"):
            pass
        with run_lock(a, command="rebalance"):
            with pytest.raises(StoreBusyError), run_lock(a, command="rebalance"):
                pass
            with b.engine.connect() as conn:
                assert (
                    conn.execute(sa.select(sa.func.count()).select_from(schema.run_locks)).scalar()
                    == 0
                )
