"""The write path: what one decision commits, and a group of them written in one transaction.

A ``CommitUnit`` is everything one decision writes: the decision, its outbox effects, the
rotation turns it took or gave back, the lead's hashed identity keys and person merges,
its SLA timers, rows of other tables that belong with it (``Row``), and the decisions of
the person's other records that follow it. ``write_units`` writes a group of units in
one transaction with one statement per table (``executemany``), so a group is atomic with
its outbox, ledger and identity rows. A unit whose ``(lead_id, epoch)`` is already stored
(a rerun, or another process that decided the lead first) writes nothing at all: its
turns are not applied, so the rotation counts only decisions that stand.

Every group takes the next number of the store's commit sequence and stamps the decisions,
identities and turns it writes with it; ``leadroute.store.changes`` reads them back by
number for an engine catching up with other processes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadroute.models import Decision, Effect, Timer
from leadroute.rotation import LedgerEntry, LedgerTurn, apply_turn
from leadroute.store import schema
from leadroute.store.codec import decision_to_json, from_iso, to_iso
from leadroute.store.timers import write_timers

__all__ = [
    "COMMIT_KEY",
    "PRICES_KEY",
    "SEQUENCE_KEY",
    "CommitUnit",
    "IdentityRow",
    "Row",
    "next_commit_seq",
    "write_identities",
    "write_units",
]

COMMIT_KEY = "commit_seq"
PRICES_KEY = "prices_seq"
SEQUENCE_KEY = "turn_sequence"
# SQLite allows 32,766 bound parameters per statement; lookups go in chunks well below it.
CHUNK = 500


@attrs.frozen(kw_only=True)
class IdentityRow:
    """One hashed identity key of one lead (``leadroute.duplicates`` makes them).

    Attributes:
        key_hash: HMAC-SHA256 of the normalized key; never the email or phone itself.
        person_id: The person the lead belongs to (the id of the person's first lead).
        lead_id: The lead.
        kind: ``email``, ``phone`` or ``name_domain``.
    """

    key_hash: str
    person_id: str
    lead_id: str
    kind: str


@attrs.frozen(kw_only=True)
class Row:
    """A row of another table that commits with a decision (an SLA timer, a notification log).

    Attributes:
        table: The table's name in ``leadroute.store.schema.metadata``.
        values: Column -> value.
    """

    table: str
    values: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class CommitUnit:
    """Everything one decision writes, in the transaction of its group.

    Attributes:
        decision: The decision (a new ``(lead_id, epoch)``, or the unit writes nothing).
        effects: Its outbox effects.
        turns: Rotation turns it took or gave back, applied relatively to the ledger rows.
        identities: The lead's hashed identity keys.
        merges: Person merges its lead caused (old person id -> new).
        rows: Rows of other tables that belong with the decision.
        timers: Its SLA clocks; writing a later epoch cancels the lead's older pending
            clocks (a follower's too, with no clock of its own).
        followers: The person's other records that follow it, each a unit of its own
            (decision, effects, rows); one whose epoch is already stored is skipped.
    """

    decision: Decision
    effects: tuple[Effect, ...] = ()
    turns: tuple[LedgerTurn, ...] = ()
    identities: tuple[IdentityRow, ...] = ()
    merges: Mapping[str, str] = attrs.field(factory=dict)
    rows: tuple[Row, ...] = ()
    timers: tuple[Timer, ...] = ()
    followers: tuple[CommitUnit, ...] = ()


def next_commit_seq(conn: Connection) -> int:
    """Take the store's next commit number (the row lock orders commits on PostgreSQL)."""
    m = schema.meta
    current = conn.execute(
        sa.select(m.c.value).where(m.c.key == COMMIT_KEY).with_for_update()
    ).scalar()
    seq = int(current or 0) + 1
    if current is None:
        conn.execute(m.insert().values(key=COMMIT_KEY, value=str(seq)))
    else:
        conn.execute(m.update().where(m.c.key == COMMIT_KEY).values(value=str(seq)))
    return seq


def write_units(conn: Connection, units: Sequence[CommitUnit], seq: int, now: str) -> list[bool]:
    """Write a group of units in the open transaction; True for each unit written.

    A unit is not written when its ``(lead_id, epoch)`` is already stored or repeats one
    of an earlier unit of the group.
    """
    taken = _stored_epochs(conn, [d for u in units for d in _decisions(u)])
    written: list[CommitUnit] = []
    flags = []
    for unit in units:
        key = (unit.decision.lead_id, unit.decision.epoch)
        new = key not in taken
        flags.append(new)
        if new:
            taken.add(key)
            # A follower whose epoch is already recorded is skipped, the unit still stands.
            followers = []
            for follower in unit.followers:
                fkey = (follower.decision.lead_id, follower.decision.epoch)
                if fkey not in taken:
                    taken.add(fkey)
                    followers.append(follower)
            written.append(attrs.evolve(unit, followers=tuple(followers)))
    everything = [w for u in written for w in (u, *u.followers)]
    _insert_decisions(conn, [u.decision for u in everything], seq)
    _insert_effects(conn, [e for u in everything for e in u.effects], now)
    _insert_rows(conn, [r for u in everything for r in u.rows])
    for u in everything:
        if u.timers or u.decision.epoch > 1:  # a first epoch has no older clock to cancel
            write_timers(conn, u.decision, u.timers, now)
    _apply_turns(conn, [(u.decision.id, t) for u in written for t in u.turns], seq, now)
    write_identities(conn, [(u.merges, u.identities) for u in written], seq, now)
    return flags


def _decisions(unit: CommitUnit) -> Iterable[Decision]:
    yield unit.decision
    for follower in unit.followers:
        yield follower.decision


def _stored_epochs(conn: Connection, decisions: Sequence[Decision]) -> set[tuple[str, int]]:
    """Which of these decisions' ``(lead_id, epoch)`` are already stored."""
    t = schema.decisions
    wanted = {(d.lead_id, d.epoch) for d in decisions}
    lead_ids = sorted({lead_id for lead_id, _ in wanted})
    found: set[tuple[str, int]] = set()
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        rows = conn.execute(sa.select(t.c.lead_id, t.c.epoch).where(t.c.lead_id.in_(chunk)))
        found.update((r.lead_id, r.epoch) for r in rows if (r.lead_id, r.epoch) in wanted)
    return found


def _insert_decisions(conn: Connection, decisions: Sequence[Decision], seq: int) -> None:
    if not decisions:
        return
    conn.execute(
        schema.decisions.insert(),
        [
            {
                "id": d.id,
                "lead_id": d.lead_id,
                "epoch": d.epoch,
                "status": str(d.status),
                "owner_id": d.owner_id,
                "queue": d.queue,
                "step": str(d.step),
                "rule": d.rule,
                "pool": d.pool,
                "policy_version": d.policy_version,
                "decided_at": to_iso(d.decided_at),
                "payload": decision_to_json(d),
                "commit_seq": seq,
            }
            for d in decisions
        ],
    )


def _insert_effects(conn: Connection, effects: Sequence[Effect], now: str) -> None:
    if not effects:
        return
    conn.execute(
        schema.outbox.insert(),
        [
            {
                "idem_key": e.idem_key,
                "decision_id": e.decision_id,
                "lead_id": e.lead_id,
                "kind": e.kind,
                "payload": json.dumps(dict(e.payload), sort_keys=True),
                "status": "pending",
                "attempts": 0,
                "last_error": "",
                "created_at": now,
            }
            for e in effects
        ],
    )


def _insert_rows(conn: Connection, rows: Sequence[Row]) -> None:
    by_table: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_table.setdefault(row.table, []).append(dict(row.values))
    for name, values in by_table.items():
        conn.execute(schema.metadata.tables[name].insert(), values)


def _apply_turns(
    conn: Connection, turns: Sequence[tuple[str, LedgerTurn]], seq: int, now: str
) -> None:
    """Journal the turns and apply them, relatively, to the ledger rows they touch."""
    if not turns:
        return
    conn.execute(
        schema.turns.insert(),
        [
            {
                "commit_seq": seq,
                "decision_id": decision_id,
                "pool": t.pool,
                "rep_id": t.rep_id,
                "delta": t.delta,
                "seq": t.seq,
                "prior_seq": t.prior_seq,
                "gain": t.gain,
                "at": to_iso(t.at) if t.at else None,
                "half_life": t.half_life.total_seconds(),
            }
            for decision_id, t in turns
        ],
    )
    before = _ledger_rows(conn, {(t.pool, t.rep_id) for _, t in turns})
    after = dict(before)
    for _, turn in turns:
        key = (turn.pool, turn.rep_id)
        after[key] = apply_turn(after.get(key), turn)
    ledger = schema.ledger
    updates = [_ledger_values(e, now) for k, e in after.items() if k in before]
    inserts = [_ledger_values(e, now) for k, e in after.items() if k not in before]
    if updates:
        conn.execute(
            ledger.update()
            .where(ledger.c.pool == sa.bindparam("b_pool"))
            .where(ledger.c.rep_id == sa.bindparam("b_rep_id")),
            [{**v, "b_pool": v["pool"], "b_rep_id": v["rep_id"]} for v in updates],
        )
    if inserts:
        conn.execute(ledger.insert(), inserts)
    _raise_turn_sequence(conn, max(t.seq for _, t in turns))


def _ledger_rows(
    conn: Connection, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], LedgerEntry]:
    """The ledger rows for these (pool, rep) keys, locked until the transaction ends."""
    t = schema.ledger
    found: dict[tuple[str, str], LedgerEntry] = {}
    reps = sorted({rep_id for _, rep_id in keys})
    for start in range(0, len(reps), CHUNK):
        query = sa.select(t).where(t.c.rep_id.in_(reps[start : start + CHUNK])).with_for_update()
        for r in conn.execute(query):
            if (r.pool, r.rep_id) in keys:
                found[r.pool, r.rep_id] = LedgerEntry(
                    pool=r.pool,
                    rep_id=r.rep_id,
                    assigned=r.assigned,
                    last_seq=r.last_seq,
                    level=float(r.level or 0.0),
                    level_at=from_iso(r.level_at) if r.level_at else None,
                )
    return found


def _ledger_values(entry: LedgerEntry, now: str) -> dict[str, Any]:
    return {
        "pool": entry.pool,
        "rep_id": entry.rep_id,
        "assigned": entry.assigned,
        "last_seq": entry.last_seq,
        "updated_at": now,
        "level": entry.level,
        "level_at": to_iso(entry.level_at) if entry.level_at else None,
    }


def _raise_turn_sequence(conn: Connection, highest: int) -> None:
    m = schema.meta
    current = conn.execute(sa.select(m.c.value).where(m.c.key == SEQUENCE_KEY)).scalar()
    if current is None:
        conn.execute(m.insert().values(key=SEQUENCE_KEY, value=str(highest)))
    elif int(current) < highest:
        conn.execute(m.update().where(m.c.key == SEQUENCE_KEY).values(value=str(highest)))


def write_identities(
    conn: Connection,
    changes: Sequence[tuple[Mapping[str, str], Sequence[IdentityRow]]],
    seq: int,
    now: str,
) -> None:
    """Person merges and new identity rows, in order, as if each ``(merges, rows)`` wrote alone.

    A merge moves the stored rows (stamped, so catching up sees the move) and the rows of
    earlier entries still waiting to be inserted; a row already stored is left as it is.
    """
    t = schema.identities
    pending: dict[tuple[str, str], IdentityRow] = {}
    for merges, identities in changes:
        for old, new in merges.items():
            conn.execute(
                t.update().where(t.c.person_id == old).values(person_id=new, commit_seq=seq)
            )
            for key, row in pending.items():
                if row.person_id == old:
                    pending[key] = attrs.evolve(row, person_id=new)
        pending.update({(r.key_hash, r.lead_id): r for r in identities})
    if not pending:
        return
    lead_ids = sorted({lead_id for _, lead_id in pending})
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        stored = conn.execute(sa.select(t.c.key_hash, t.c.lead_id).where(t.c.lead_id.in_(chunk)))
        for r in stored:
            pending.pop((r.key_hash, r.lead_id), None)
    if pending:
        conn.execute(
            t.insert(),
            [
                {
                    "key_hash": r.key_hash,
                    "lead_id": r.lead_id,
                    "person_id": r.person_id,
                    "kind": r.kind,
                    "seen_at": now,
                    "commit_seq": seq,
                }
                for r in pending.values()
            ],
        )
