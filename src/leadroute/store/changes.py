"""The read path of an engine: its state at start, then what other processes committed since.

``load_state`` reads everything a routing engine holds (every lead's latest decision, the
ledger, the identity rows, the capacity prices, the last commit number) in one read
transaction, so the state and its commit number agree. ``changes_since`` reads the
decisions, turns and identity rows that commits numbered after a given one wrote,
leaving out the commits the caller made itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadroute.models import Decision
from leadroute.rotation import LedgerEntry, LedgerTurn
from leadroute.store import schema
from leadroute.store.codec import decision_from_json, from_iso
from leadroute.store.commits import COMMIT_KEY, PRICES_KEY, SEQUENCE_KEY, IdentityRow
from leadroute.store.database import Store

__all__ = ["Changes", "StoredState", "changes_since", "load_state", "turns_of"]


@attrs.frozen(kw_only=True)
class StoredState:
    """What an engine starts from.

    Attributes:
        decisions: Every lead's latest decision.
        ledger: The rotation ledger.
        sequence: The last rotation turn's sequence number.
        identities: Every identity row, oldest first.
        prices: The capacity prices of the last batch solve.
        commit_seq: The number of the last commit these include.
    """

    decisions: dict[str, Decision]
    ledger: dict[tuple[str, str], LedgerEntry]
    sequence: int
    identities: list[IdentityRow]
    prices: dict[str, float]
    commit_seq: int


@attrs.frozen(kw_only=True)
class Changes:
    """What other processes committed after a commit number.

    Attributes:
        decisions: New decisions, in commit order (a lead's epochs in order).
        turns: Rotation turns taken or given back, in commit order.
        identities: Identity rows written or moved to another person, in commit order.
        prices: The capacity prices, when a batch solve published new ones (else None).
        commit_seq: The number of the last commit read (the caller's next starting point).
    """

    decisions: tuple[Decision, ...] = ()
    turns: tuple[LedgerTurn, ...] = ()
    identities: tuple[IdentityRow, ...] = ()
    prices: dict[str, float] | None = None
    commit_seq: int = 0


@contextmanager
def _reading(store: Store) -> Iterator[Connection]:
    """One connection and one transaction: every read inside sees the same commits.

    SQLite's transactions are snapshots already; PostgreSQL's default (read committed)
    lets each statement see newer commits, so its reads here ask for repeatable read.
    """
    with store.engine.connect() as opened:
        conn = opened
        if opened.dialect.name == "postgresql":
            conn = opened.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def load_state(store: Store) -> StoredState:
    """Everything an engine holds, as of one commit."""
    with _reading(store) as conn:
        return StoredState(
            decisions=store.current_decisions(conn),
            ledger=store.load_ledger(conn),
            sequence=_meta_int(conn, SEQUENCE_KEY),
            identities=store.load_identities(conn),
            prices=store.load_prices(conn),
            commit_seq=_meta_int(conn, COMMIT_KEY),
        )


def changes_since(store: Store, commit_seq: int, own: Collection[int] = ()) -> Changes:
    """What commits numbered after ``commit_seq`` wrote, except the commits in ``own``."""
    with _reading(store) as conn:
        last = _meta_int(conn, COMMIT_KEY)
        if last <= commit_seq:
            return Changes(commit_seq=commit_seq)
        d, t, i = schema.decisions, schema.turns, schema.identities
        mine = [s for s in own if commit_seq < s <= last]

        def between(column: sa.Column[int]) -> sa.ColumnElement[bool]:
            return sa.and_(column > commit_seq, column <= last, column.not_in(mine))

        decisions = conn.execute(
            sa.select(d.c.payload)
            .where(between(d.c.commit_seq))
            .order_by(d.c.commit_seq, d.c.lead_id, d.c.epoch)
        ).scalars()
        turns = conn.execute(sa.select(t).where(between(t.c.commit_seq)).order_by(t.c.id)).all()
        identities = conn.execute(
            sa.select(i)
            .where(between(i.c.commit_seq))
            .order_by(i.c.commit_seq, i.c.seen_at, i.c.lead_id)
        ).all()
        published = _meta_int(conn, PRICES_KEY)
        return Changes(
            prices=store.load_prices(conn) if published > commit_seq else None,
            decisions=tuple(decision_from_json(p) for p in decisions),
            turns=tuple(_turn(r) for r in turns),
            identities=tuple(
                IdentityRow(
                    key_hash=r.key_hash, person_id=r.person_id, lead_id=r.lead_id, kind=r.kind
                )
                for r in identities
            ),
            commit_seq=last,
        )


def turns_of(store: Store, decision_id: str) -> list[LedgerTurn]:
    """The rotation turns a decision took (and gave back), as committed."""
    t = schema.turns
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.decision_id == decision_id).order_by(t.c.id))
        return [_turn(r) for r in rows]


def _turn(row: sa.Row[tuple[object, ...]]) -> LedgerTurn:
    return LedgerTurn(
        pool=row.pool,
        rep_id=row.rep_id,
        delta=row.delta,
        seq=row.seq,
        prior_seq=row.prior_seq,
        gain=row.gain,
        at=from_iso(row.at) if row.at else None,
        half_life=timedelta(seconds=row.half_life),
    )


def _meta_int(conn: Connection, key: str) -> int:
    m = schema.meta
    value = conn.execute(sa.select(m.c.value).where(m.c.key == key)).scalar()
    return int(value) if value is not None else 0
