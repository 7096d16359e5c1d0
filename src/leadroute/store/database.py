"""``Store``: the audit trail, rotation ledger, outbox and run log, over SQLAlchemy Core.

SQLite (WAL) is the default: one file, migrated on open. A string with ``://`` is a
PostgreSQL URL (``leadroute.store.location``), for several workers on one database.
Decisions are written by ``commit``: a group of ``CommitUnit`` (each a decision with its
outbox rows, ledger turns, identity rows and SLA timers) in one transaction
(``leadroute.store.commits``); ``UNIQUE(lead_id, epoch)`` makes a second write of the same
decision a no-op, which is what makes reruns and concurrent writers safe.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from leadroute.errors import StoreError, StoreFileError, StoreNotFoundError, UserInputError
from leadroute.logs import get_logger
from leadroute.models import Decision, Effect, EffectResult, Timer
from leadroute.rotation import LedgerEntry, LedgerTurn
from leadroute.store import schema
from leadroute.store.codec import decision_from_json, from_iso, to_iso
from leadroute.store.commits import (
    PRICES_KEY,
    SEQUENCE_KEY,
    CommitUnit,
    IdentityRow,
    next_commit_seq,
    write_identities,
    write_units,
)
from leadroute.store.location import StoreLocation, parse_location

__all__ = [
    "CommitResult",
    "EffectClaim",
    "IdentityRow",
    "LedgerEntry",
    "OutboxRow",
    "Store",
    "bytewise",
    "default_store_path",
]

log = get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# A retryable effect waits RETRY_BASE * 2**(attempts - 1), at most RETRY_CAP, before the
# continuous relay tries it again (a CRM outage is not hammered, and not given up on fast).
RETRY_BASE = timedelta(seconds=2)
RETRY_CAP = timedelta(minutes=10)
IDENTITY_KEY = "identity_key"


def default_store_path(base: Path) -> Path:
    """Where the embedded store lives under a working directory."""
    return base / ".leadroute" / "leadroute.db"


@attrs.frozen(kw_only=True)
class CommitResult:
    """What one ``Store.commit`` wrote.

    Attributes:
        written: Per unit, in order: True when it was written, False when its
            ``(lead_id, epoch)`` was already stored (nothing of it was written).
        commit_seqs: The commit numbers taken (one per transaction).
    """

    written: tuple[bool, ...]
    commit_seqs: tuple[int, ...]


@attrs.frozen(kw_only=True)
class OutboxRow:
    """One outbox row as stored: an effect with its state.

    Attributes:
        row_id: The row's sequence number (the relay's cursor).
        effect: The effect.
        status: ``pending``, ``done``, ``dead``, ``rerouted`` or ``resolved``.
        attempts: Attempts spent (a quota stop spends none).
        last_error: The target's reason at the last attempt.
    """

    row_id: int
    effect: Effect
    status: str
    attempts: int = 0
    last_error: str = ""


# Rows a human must see until someone retries or resolves them: effects given up on, and
# refusals the router could not reroute (their decision is still the lead's latest).
UNRESOLVED = ("dead", "rerouted")
# Owner writes are read back (for workflows that changed them) only this long after.
RECHECK_WINDOW = timedelta(days=7)


def _now() -> str:
    return to_iso(datetime.now(UTC))


def _set_meta(conn: Connection, key: str, value: str) -> None:
    m = schema.meta
    if conn.execute(m.update().where(m.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(m.insert().values(key=key, value=value))


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # Autocommit at the driver level so SQLAlchemy's BEGIN below is the only transaction
    # control, and BEGIN IMMEDIATE takes the write lock up front: two routers cannot both
    # read "no decision yet" and then both write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=5000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def bytewise(column: sa.ColumnElement[str], backend: str) -> sa.ColumnElement[str]:
    """A text column ordered by its bytes, as SQLite orders it, on every backend.

    A PostgreSQL database usually has a linguistic collation (``en_US``: ``a`` before
    ``B``, punctuation weighed last), which would give reports and the order identities
    are loaded in (who is a person's first lead) a different order than SQLite.
    """
    return column.collate("C") if backend == "postgresql" else column


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _create_engine(where: StoreLocation, create: bool) -> Engine:
    """The engine for a location; a SQLite file must exist unless ``create``."""
    path = where.path
    if path is None:
        # pre_ping: a worker outlives database restarts and fail-overs.
        return sa.create_engine(where.url, pool_pre_ping=True)
    if path.is_dir():
        raise StoreFileError(f"cannot open store {path}: it is a folder, not a store file")
    if not path.exists():
        if not create:
            raise StoreNotFoundError(
                f"--store: {path} does not exist (`leadroute route --init` creates a store)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(where.url)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _open_error(where: StoreLocation, exc: BaseException) -> StoreError:
    """One line for a store that cannot be opened.

    A store file the user named that is corrupt or cannot exist is their input (exit 2);
    a database server that fails is not.
    """
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    error = StoreFileError if where.path is not None else StoreError
    return error(f"cannot open store {where.display}: {reason}")


class Store:
    """The store. Open with ``Store.open``; close (or use as a context manager).

    Attributes:
        engine: The SQLAlchemy engine.
        location: Where the store lives (``location.backend``: ``sqlite`` or ``postgresql``).
        where: The location for messages (a path, or the URL without its password).
    """

    def __init__(self, engine: Engine, location: StoreLocation) -> None:
        self.engine = engine
        self.location = location
        self.where = location.display

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.location.backend

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, location: str | Path | StoreLocation, *, create: bool = True) -> Store:
        """Open the store at a path or SQLAlchemy URL, migrating it to the current schema.

        With ``create`` (the library's default) a missing SQLite file, or a PostgreSQL
        database without the leadroute tables, becomes a new empty store. Without it they
        raise ``StoreNotFoundError``: the command line creates a store only under ``--init``,
        so a mistyped path never silently starts an empty one.
        """
        where = location if isinstance(location, StoreLocation) else parse_location(location)
        try:
            engine = _create_engine(where, create)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise _open_error(where, exc) from None
        except ModuleNotFoundError as exc:
            # Like an adapter that is not installed: the user's to fix (exit 2).
            raise UserInputError(
                f"cannot open store {where.display}: it needs the {exc.name} module: "
                "pip install 'leadroute[postgres]'"
            ) from None
        store = cls(engine, where)
        try:
            store._migrate(create)
        except BaseException as exc:
            engine.dispose()
            if isinstance(exc, sa.exc.SQLAlchemyError | OSError):
                raise _open_error(where, exc) from None
            raise
        log.debug("store.opened", where=store.where, backend=where.backend)
        return store

    def _migrate(self, create: bool) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                # Workers starting together must not all create the tables: one migrates,
                # the others wait for it and then find the schema current.
                conn.execute(
                    sa.text(
                        "SELECT pg_advisory_xact_lock("
                        "hashtextextended('leadroute:migrate:' || current_schema(), 0))"
                    )
                )
            if not create and not sa.inspect(conn).has_table("alembic_version"):
                raise StoreNotFoundError(
                    f"--store: {self.where} holds no leadroute store "
                    "(`leadroute route --init` creates one)"
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction (SQLite: ``BEGIN IMMEDIATE``); store errors as ``StoreError``."""
        return self._tx()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise StoreError(f"store {self.where}: {str(exc.orig).splitlines()[0]}") from exc

    # ----------------------------------------------------------------- decisions

    def commit(self, units: Sequence[CommitUnit]) -> CommitResult:
        """Write a group of decisions, each with everything it writes, in one transaction.

        A unit whose ``(lead_id, epoch)`` is already stored writes nothing. When another
        process wins a race inside the group (an integrity error), each unit is committed
        alone instead, so the others still stand and the loser reads as not written.
        """
        if not units:
            return CommitResult(written=(), commit_seqs=())
        try:
            return self._commit_group(units)
        except sa.exc.IntegrityError:
            if len(units) == 1:
                # The decision's id and (lead, epoch) are unique: if that epoch exists now,
                # another process recorded it first, and theirs stands.
                d = units[0].decision
                if self.decision_at(d.lead_id, d.epoch) is not None:
                    return CommitResult(written=(False,), commit_seqs=())
                raise
        results = [self.commit([unit]) for unit in units]
        return CommitResult(
            written=tuple(w for r in results for w in r.written),
            commit_seqs=tuple(s for r in results for s in r.commit_seqs),
        )

    def _commit_group(self, units: Sequence[CommitUnit]) -> CommitResult:
        with self._tx() as conn:
            seq = next_commit_seq(conn)
            written = write_units(conn, units, seq, _now())
        return CommitResult(written=tuple(written), commit_seqs=(seq,))

    def record(
        self,
        decision: Decision,
        effects: Sequence[Effect],
        turns: Sequence[LedgerTurn] = (),
        *,
        identities: Sequence[IdentityRow] = (),
        merges: Mapping[str, str] | None = None,
        followers: Sequence[tuple[Decision, Sequence[Effect]]] = (),
        timers: Sequence[Timer] = (),
    ) -> bool:
        """Write one decision with its outbox rows, turns, identities, followers and SLA
        timers atomically (the lead's pending timers of older epochs are cancelled, a
        follower's too).

        Returns False (writing nothing) when the lead already has a decision for that epoch.
        """
        unit = CommitUnit(
            decision=decision,
            effects=tuple(effects),
            turns=tuple(turns),
            identities=tuple(identities),
            merges=dict(merges or {}),
            timers=tuple(timers),
            followers=tuple(CommitUnit(decision=d, effects=tuple(e)) for d, e in followers),
        )
        return self.commit([unit]).written[0]

    # ----------------------------------------------------------------- identities

    def identity_key(self) -> bytes:
        """The store's key for hashing identity keys, created (random, 32 bytes) on first use."""
        m = schema.meta
        with self._tx() as conn:
            value = conn.execute(sa.select(m.c.value).where(m.c.key == IDENTITY_KEY)).scalar()
            if value is None:
                value = secrets.token_hex(32)
                conn.execute(m.insert().values(key=IDENTITY_KEY, value=value))
        return bytes.fromhex(value)

    def save_identities(self, rows: Sequence[IdentityRow], merges: Mapping[str, str]) -> int:
        """Store identity rows (and person merges) of a lead decided earlier, in one
        transaction; returns its commit number."""
        with self._tx() as conn:
            seq = next_commit_seq(conn)
            write_identities(conn, [(merges, rows)], seq, _now())
        return seq

    def load_identities(self, conn: Connection | None = None) -> list[IdentityRow]:
        """Every stored identity row, oldest first."""
        t = schema.identities
        with self._reading(conn) as reader:
            rows = reader.execute(
                sa.select(t).order_by(
                    bytewise(t.c.seen_at, self.backend), bytewise(t.c.lead_id, self.backend)
                )
            ).all()
        return [
            IdentityRow(key_hash=r.key_hash, person_id=r.person_id, lead_id=r.lead_id, kind=r.kind)
            for r in rows
        ]

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        """The given connection (a caller's read transaction), else a fresh one."""
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as fresh:
            yield fresh

    def current_decision(self, lead_id: str) -> Decision | None:
        """The lead's decision with the highest epoch, or None."""
        t = schema.decisions
        with self.engine.connect() as conn:
            payload = conn.execute(
                sa.select(t.c.payload)
                .where(t.c.lead_id == lead_id)
                .order_by(t.c.epoch.desc())
                .limit(1)
            ).scalar()
        return decision_from_json(payload) if payload is not None else None

    def decision_at(self, lead_id: str, epoch: int) -> Decision | None:
        """A lead's decision for one epoch (None when there is none)."""
        t = schema.decisions
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.payload).where(t.c.lead_id == lead_id, t.c.epoch == epoch)
            ).first()
        return decision_from_json(row.payload) if row is not None else None

    def current_decisions(self, conn: Connection | None = None) -> dict[str, Decision]:
        """Every lead's latest decision, in one query."""
        t = schema.decisions
        latest = (
            sa.select(t.c.lead_id, sa.func.max(t.c.epoch).label("epoch"))
            .group_by(t.c.lead_id)
            .subquery()
        )
        query = sa.select(t.c.lead_id, t.c.payload).join(
            latest, sa.and_(t.c.lead_id == latest.c.lead_id, t.c.epoch == latest.c.epoch)
        )
        with self._reading(conn) as reader:
            return {row.lead_id: decision_from_json(row.payload) for row in reader.execute(query)}

    # ----------------------------------------------------------------- ledger

    def load_ledger(self, conn: Connection | None = None) -> dict[tuple[str, str], LedgerEntry]:
        """The whole rotation ledger."""
        t = schema.ledger
        with self._reading(conn) as reader:
            return {
                (r.pool, r.rep_id): LedgerEntry(
                    pool=r.pool,
                    rep_id=r.rep_id,
                    assigned=r.assigned,
                    last_seq=r.last_seq,
                    level=float(r.level or 0.0),
                    level_at=from_iso(r.level_at) if r.level_at else None,
                )
                for r in reader.execute(sa.select(t))
            }

    def max_sequence(self) -> int:
        """The last turn's sequence number (0 for a new store)."""
        m = schema.meta
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(m.c.value).where(m.c.key == SEQUENCE_KEY)).scalar()
        return int(value) if value is not None else 0

    # ----------------------------------------------------------------- prices

    def save_prices(self, prices: Mapping[str, float], computed_at: datetime) -> int:
        """Replace the published capacity prices (one per rep) in one transaction; returns
        its commit number (engines catching up reload prices published after theirs)."""
        when = to_iso(computed_at)
        with self._tx() as conn:
            seq = next_commit_seq(conn)
            _set_meta(conn, PRICES_KEY, str(seq))
            conn.execute(schema.prices.delete())
            if prices:
                conn.execute(
                    schema.prices.insert(),
                    [
                        {"rep_id": rep_id, "price": float(price), "computed_at": when}
                        for rep_id, price in prices.items()
                    ],
                )
        return seq

    def load_prices(self, conn: Connection | None = None) -> dict[str, float]:
        """The capacity prices of the last batch solve (empty before the first)."""
        t = schema.prices
        with self._reading(conn) as reader:
            return {row.rep_id: float(row.price) for row in reader.execute(sa.select(t))}

    # ----------------------------------------------------------------- outbox

    def pending_effects(self, limit: int = 500, *, due_by: datetime | None = None) -> list[Effect]:
        """The oldest pending effects; with ``due_by``, only those not waiting out a backoff."""
        return [row.effect for row in self.pending_rows(limit, due_by=due_by)]

    def pending_rows(
        self, limit: int = 500, *, after: int = 0, due_by: datetime | None = None
    ) -> list[OutboxRow]:
        """The oldest pending rows whose sequence number is above ``after``.

        A relay pass moves ``after`` past every row it tried, so it tries each row at most
        once: a failed effect waits for the next pass instead of being re-picked at once.
        With ``due_by``, rows still waiting out their backoff (``next_attempt_at``) are left.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(_pending(limit, after, due_by)).all()
        return [_outbox_row(r) for r in rows]

    @contextmanager
    def claim_effects(
        self, limit: int = 500, *, after: int = 0, due_by: datetime | None = None
    ) -> Iterator[EffectClaim]:
        """Claim the oldest pending rows (as ``pending_rows``) for one relay's batch.

        On PostgreSQL the rows are locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a
        transaction held until the block ends: a relay beside this one skips them and
        claims the next ones, so each effect is applied by one relay. ``EffectClaim.mark``
        records the results in that same transaction, and a relay that dies mid-batch
        (even killed) releases its rows with its connection: they stay pending, and the
        next relay re-sends them under the same idempotency keys. On SQLite (one process
        relays) the rows are read without a lock, so deciding never waits on the CRM.
        """
        query = _pending(limit, after, due_by)
        if self.backend != "postgresql":
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            yield EffectClaim(rows=tuple(_outbox_row(r) for r in rows), store=self)
            return
        with self._tx() as conn:
            rows = conn.execute(query.with_for_update(skip_locked=True)).all()
            yield EffectClaim(rows=tuple(_outbox_row(r) for r in rows), store=self, conn=conn)

    def mark_effects(
        self,
        results: Sequence[EffectResult],
        max_attempts: int = 5,
        *,
        at: datetime | None = None,
    ) -> set[str]:
        """Record what the adapter did: done, still pending (retryable), rerouted or dead.

        A retryable failure's next attempt waits a backoff counted from ``at`` (default now).

        A ``reroute`` result is final for its effect (the core decides the lead again
        with a new epoch and a new effect). An ``observed_owner`` is kept on the row. A
        ``quota`` result is not an attempt: the row stays pending with its attempts as
        they were. Returns the keys of the effects that ended dead with this call.
        """
        with self._tx() as conn:
            return _mark(conn, results, max_attempts, at)

    def owner_writes_to_check(self, applied_before: datetime, limit: int = 1000) -> list[OutboxRow]:
        """Owner writes applied before ``applied_before`` and never read back, oldest first.

        Only the lead's latest decision's write is worth reading back: a later decision
        replaced what an older one wrote. Writes older than ``RECHECK_WINDOW`` before
        ``applied_before`` are not read back any more (a workflow acts within minutes).
        """
        t = schema.outbox
        query = (
            sa.select(t)
            .join(schema.decisions, schema.decisions.c.id == t.c.decision_id)
            .where(
                t.c.kind == "owner_write",
                t.c.status == "done",
                t.c.checked_at.is_(None),
                t.c.applied_at <= to_iso(applied_before),
                t.c.applied_at >= to_iso(applied_before - RECHECK_WINDOW),
                _latest_decision(),
            )
            .order_by(t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_outbox_row(r) for r in conn.execute(query)]

    def mark_owner_checks(self, observed: Mapping[str, str | None]) -> None:
        """Record owner writes read back: idem key -> the owner held when it differs from the
        one written, ``""`` when it matches, None when the target no longer has the record."""
        t = schema.outbox
        now = _now()
        with self._tx() as conn:
            for key, owner in observed.items():
                values: dict[str, Any] = {"checked_at": now}
                if owner is not None:
                    values["observed_owner"] = owner
                conn.execute(t.update().where(t.c.idem_key == key).values(**values))

    def unresolved_rows(self, lead_ids: Sequence[str] | None = None) -> list[OutboxRow]:
        """Effects a human must see: dead, or refused and never rerouted, oldest first.

        Only rows of each lead's latest decision count: when a later decision (a reroute,
        a rebalance, a follower) replaced the one an effect belonged to, that effect no
        longer says what the CRM should hold. ``lead_ids`` narrows the list.
        """
        t = schema.outbox
        query = (
            sa.select(t)
            .join(schema.decisions, schema.decisions.c.id == t.c.decision_id)
            .where(t.c.status.in_(UNRESOLVED), _latest_decision())
            .order_by(t.c.id)
        )
        if lead_ids is not None:
            query = query.where(t.c.lead_id.in_(list(lead_ids)))
        with self.engine.connect() as conn:
            return [_outbox_row(r) for r in conn.execute(query)]

    def retry_unresolved(self, lead_ids: Sequence[str] | None = None) -> list[OutboxRow]:
        """Put unresolved effects back in the queue with fresh attempts; returns them."""
        return self._settle_unresolved(lead_ids, status="pending")

    def resolve_unresolved(self, lead_ids: Sequence[str]) -> list[OutboxRow]:
        """Mark unresolved effects resolved by hand (fixed in the CRM); returns them."""
        return self._settle_unresolved(lead_ids, status="resolved")

    def _settle_unresolved(self, lead_ids: Sequence[str] | None, *, status: str) -> list[OutboxRow]:
        rows = self.unresolved_rows(lead_ids)
        t = schema.outbox
        with self._tx() as conn:
            for row in rows:
                conn.execute(
                    t.update()
                    .where(t.c.idem_key == row.effect.idem_key, t.c.status.in_(UNRESOLVED))
                    .values(status=status, attempts=0 if status == "pending" else row.attempts)
                )
        return rows

    def observed_owner(self, decision_id: str) -> str:
        """The owner the target reported after writing this decision's owner (``""``: as written)."""
        t = schema.outbox
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(t.c.observed_owner).where(
                    t.c.decision_id == decision_id, t.c.kind == "owner_write"
                )
            ).scalar()
        return value or ""

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by status."""
        t = schema.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status))
            return {status: int(n) for status, n in rows}

    # ----------------------------------------------------------------- runs

    def begin_run(self, command_name: str, source: str) -> str:
        """Log the start of a run; returns its id."""
        run_id = str(uuid.uuid4())
        with self._tx() as conn:
            conn.execute(
                schema.runs.insert().values(
                    id=run_id, command=command_name, source=source, started_at=_now()
                )
            )
        return run_id

    def finish_run(self, run_id: str, counts: Mapping[str, Any]) -> None:
        """Log the end of a run with its counts (and notes such as ``plugin_failures``)."""
        with self._tx() as conn:
            conn.execute(
                schema.runs.update()
                .where(schema.runs.c.id == run_id)
                .values(finished_at=_now(), counts=json.dumps(dict(counts), sort_keys=True))
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent runs, newest first."""
        t = schema.runs
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).order_by(bytewise(t.c.started_at, self.backend).desc()).limit(limit)
            ).all()
        return [{**row._asdict(), "counts": json.loads(row.counts)} for row in rows]


def _latest_decision() -> sa.ColumnElement[bool]:
    """The joined decision is its lead's latest (no later epoch): a per-row index lookup on
    ``UNIQUE(lead_id, epoch)`` rather than a GROUP BY over every decision."""
    d = schema.decisions
    later = sa.alias(d, "later")
    return ~sa.exists().where(later.c.lead_id == d.c.lead_id, later.c.epoch > d.c.epoch)


def _mark(
    conn: Connection, results: Sequence[EffectResult], max_attempts: int, at: datetime | None
) -> set[str]:
    """``Store.mark_effects`` inside an open transaction (a claim's, or its own)."""
    t = schema.outbox
    when = at or datetime.now(UTC)
    now = to_iso(when)
    dead_keys: set[str] = set()
    for result in results:
        row = t.update().where(t.c.idem_key == result.idem_key)
        if result.quota and not result.ok:
            conn.execute(row.values(status="pending", last_error=result.detail))
            continue
        if result.ok:
            conn.execute(
                row.values(
                    status="done",
                    applied_at=now,
                    last_error="",
                    observed_owner=result.observed_owner,
                )
            )
            continue
        attempts = (
            conn.execute(sa.select(t.c.attempts).where(t.c.idem_key == result.idem_key)).scalar()
            or 0
        ) + 1
        if result.reroute:
            status = "rerouted"
        elif not result.retryable or attempts >= max_attempts:
            status = "dead"
            dead_keys.add(result.idem_key)
        else:
            status = "pending"
        wait = min(RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP)
        conn.execute(
            row.values(
                status=status,
                attempts=attempts,
                last_error=result.detail,
                next_attempt_at=to_iso(when + wait) if status == "pending" else None,
            )
        )
    return dead_keys


def _pending(limit: int, after: int, due_by: datetime | None) -> sa.Select[Any]:
    """The oldest pending outbox rows above ``after``, not waiting out a backoff at ``due_by``."""
    t = schema.outbox
    query = sa.select(t).where(t.c.status == "pending", t.c.id > after)
    if due_by is not None:
        query = query.where(
            sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= to_iso(due_by))
        )
    return query.order_by(t.c.id).limit(limit)


@attrs.frozen(kw_only=True)
class EffectClaim:
    """A relay's claimed batch of outbox rows (``Store.claim_effects``).

    Attributes:
        rows: The claimed rows, oldest first.
        store: The store they belong to.
        conn: The transaction holding their locks (PostgreSQL), else None.
    """

    rows: tuple[OutboxRow, ...]
    store: Store
    conn: Connection | None = None

    def mark(
        self, results: Sequence[EffectResult], max_attempts: int = 5, *, at: datetime | None = None
    ) -> set[str]:
        """``Store.mark_effects`` for this batch, in the claim's transaction when it has one."""
        if self.conn is None:
            return self.store.mark_effects(results, max_attempts, at=at)
        return _mark(self.conn, results, max_attempts, at)


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(
        row_id=int(r.id),
        effect=Effect(
            kind=r.kind,
            decision_id=r.decision_id,
            lead_id=r.lead_id,
            idem_key=r.idem_key,
            payload=json.loads(r.payload),
        ),
        status=r.status,
        attempts=int(r.attempts or 0),
        last_error=r.last_error or "",
    )
