"""Store-level run locks: one ``rebalance`` or ``reassign`` at a time per store.

Two nightly runs over the same history would each plan moves from the decisions as they
were, and both apply them: leads moved twice, caps counted once, a report of moves one of
them never made. ``run_lock`` makes the second run stop before it reads anything, with
``StoreBusyError`` (exit 5) naming who holds the lock.

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection held for
  the run, keyed by the lock's name and the store's schema. The server drops it when that
  connection ends, so a run that dies (even killed) never leaves it behind. A row in
  ``run_locks`` only says who holds it, for the message.
* SQLite: the row in ``run_locks`` is the lock, taken in a ``BEGIN IMMEDIATE``
  transaction. A SQLite store lives on one machine (WAL needs shared memory), so a row
  left by a process that is no longer running (its pid gone, or reused by a process that
  started later), or written on another machine, is stale and is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadroute.errors import StoreBusyError
from leadroute.logs import get_logger
from leadroute.store import schema
from leadroute.store.codec import to_iso
from leadroute.store.database import Store

__all__ = ["MOVES", "LockHolder", "lock_holder", "run_lock"]

log = get_logger(__name__)

# The lock rebalance and reassign share: both move leads planned from the same history.
MOVES = "moves"

_ADVISORY_KEY = "hashtextextended('leadroute:run:' || current_schema() || ':' || :name, 0)"


@attrs.frozen(kw_only=True)
class LockHolder:
    """Who holds a run lock.

    Attributes:
        holder: The holding run's random id.
        command: The command that took it (``rebalance``, ``reassign``).
        host: The machine it runs on.
        pid: Its process id.
        process_start: When that process started (Linux clock ticks since boot; ``""``
            where unknown), so a recycled pid is not taken for the holder.
        acquired_at: When the lock was taken (ISO-8601 UTC).
    """

    holder: str
    command: str
    host: str
    pid: int
    process_start: str
    acquired_at: str

    def describe(self) -> str:
        """``rebalance on host db-1 (pid 4242) since 2026-11-02T02:00:00+00:00``."""
        return f"{self.command} on host {self.host} (pid {self.pid}) since {self.acquired_at}"


@contextmanager
def run_lock(store: Store, name: str = MOVES, *, command: str) -> Iterator[LockHolder]:
    """Hold the store's run lock ``name`` for the block; ``StoreBusyError`` when held."""
    me = LockHolder(
        holder=uuid.uuid4().hex,
        command=command,
        host=socket.gethostname(),
        pid=os.getpid(),
        process_start=_process_start(os.getpid()),
        acquired_at=to_iso(datetime.now(UTC)),
    )
    if store.backend == "postgresql":
        with _advisory(store, name, me):
            yield me
        return
    _take_row(store, name, me)
    try:
        yield me
    finally:
        _release_row(store, name, me)


def lock_holder(store: Store, name: str = MOVES) -> LockHolder | None:
    """Who the ``run_locks`` row says holds the lock (None: nobody recorded)."""
    t = schema.run_locks
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.name == name)).first()
    return _holder(row) if row is not None else None


@contextmanager
def _advisory(store: Store, name: str, me: LockHolder) -> Iterator[None]:
    conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        got = conn.execute(
            sa.text(f"SELECT pg_try_advisory_lock({_ADVISORY_KEY})"), {"name": name}
        ).scalar()
        if not got:
            holder = lock_holder(store, name)
            raise StoreBusyError(_busy(store, name, holder))
        _write_row(conn, name, me)
        log.info("store.locked", lock=name, command=me.command)
        try:
            yield
        finally:
            conn.execute(schema.run_locks.delete().where(_mine(name, me)))
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({_ADVISORY_KEY})"), {"name": name})
    except BaseException:
        # Whatever went wrong, the session (and with it the lock) must not outlive the run.
        conn.invalidate()
        raise
    finally:
        conn.close()


def _take_row(store: Store, name: str, me: LockHolder) -> None:
    t = schema.run_locks
    with store.transaction() as conn:  # BEGIN IMMEDIATE: one process at a time decides
        row = conn.execute(sa.select(t).where(t.c.name == name)).first()
        if row is not None:
            held = _holder(row)
            if _running(held):
                raise StoreBusyError(_busy(store, name, held))
            log.warning("store.stale_lock_taken_over", lock=name, holder=held.describe())
            conn.execute(t.delete().where(t.c.name == name))
        _write_row(conn, name, me)
    log.info("store.locked", lock=name, command=me.command)


def _release_row(store: Store, name: str, me: LockHolder) -> None:
    with store.transaction() as conn:
        conn.execute(schema.run_locks.delete().where(_mine(name, me)))


def _write_row(conn: Connection, name: str, me: LockHolder) -> None:
    t = schema.run_locks
    conn.execute(t.delete().where(t.c.name == name))  # PostgreSQL: a dead holder's note
    conn.execute(t.insert().values(name=name, **attrs.asdict(me)))


def _mine(name: str, me: LockHolder) -> sa.ColumnElement[bool]:
    t = schema.run_locks
    return sa.and_(t.c.name == name, t.c.holder == me.holder)


def _holder(row: sa.Row[tuple[object, ...]]) -> LockHolder:
    m = row._mapping
    return LockHolder(
        holder=str(m["holder"]),
        command=str(m["command"]),
        host=str(m["host"]),
        pid=int(str(m["pid"])),
        process_start=str(m["process_start"]),
        acquired_at=str(m["acquired_at"]),
    )


def _busy(store: Store, name: str, holder: LockHolder | None) -> str:
    who = holder.describe() if holder is not None else "another run"
    return (
        f"store {store.where} is busy: {who} holds its {name} lock; run again when it has finished"
    )


def _running(holder: LockHolder) -> bool:
    """Whether the process a SQLite lock row names is still the one running."""
    if holder.host != socket.gethostname():
        return False  # a SQLite file moved from another machine: nobody there uses it now
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, under another user
    started = _process_start(holder.pid)
    return not (holder.process_start and started and started != holder.process_start)


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else ``""``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    # Field 22 of stat(5); the command name (field 2) may hold spaces, so split after it.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""
