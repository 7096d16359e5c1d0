"""SLA timers in the store: written with their decision, claimed when due, settled once.

A timer row is written in the same transaction as its decision (``write_timers``, called
by ``Store.record``); a newer epoch of the lead cancels the older epochs' pending timers
in that same transaction. A scheduler claims due timers with a lease (``claim_due``):
``claimed_until`` keeps two schedulers from firing one timer, and a scheduler that dies
holding a claim only delays the timer until the lease runs out. ``settle`` marks a timer
fired together with the effects it caused (a reminder's notifications), in one
transaction, so a crash between the two cannot send a reminder twice or lose it.

The claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` followed by a read of the
rows this claim took; on PostgreSQL the inner select is ``FOR UPDATE SKIP LOCKED``, so
schedulers claiming at the same moment take different timers instead of waiting on each
other and then claiming the same ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadroute.models import Decision, Effect, Timer, TimerKind
from leadroute.store import schema
from leadroute.store.codec import from_iso, to_iso

if TYPE_CHECKING:
    from leadroute.store.database import Store

__all__ = [
    "FIRST_TOUCH_KINDS",
    "cancel_lead_timers",
    "claim_due",
    "finish",
    "insert_effects",
    "lead_timers",
    "pending_timers",
    "settle",
    "timer_counts",
    "touched_since",
    "write_timers",
]

# Outcomes that stop a lead's SLA clock: somebody worked it.
FIRST_TOUCH_KINDS = frozenset({"first_touch", "meeting_booked", "accepted", "converted"})


def _timer(row: sa.Row[tuple[object, ...]]) -> Timer:
    m = row._mapping
    return Timer(
        id=str(m["id"]),
        lead_id=str(m["lead_id"]),
        decision_id=str(m["decision_id"]),
        kind=TimerKind(str(m["kind"])),
        due_at=from_iso(str(m["due_at"])),
        status=str(m["status"]),
        detail=str(m["detail"]),
    )


def write_timers(conn: Connection, decision: Decision, timers: Sequence[Timer], now: str) -> None:
    """Inside a decision's transaction: cancel the lead's older clocks, add this one's."""
    t = schema.timers
    conn.execute(
        t.update()
        .where(
            t.c.lead_id == decision.lead_id,
            t.c.status == "pending",
            t.c.decision_id != decision.id,
        )
        .values(status="cancelled", detail=f"superseded by epoch {decision.epoch}", fired_at=now)
    )
    if not timers:
        return
    existing = set(
        conn.execute(sa.select(t.c.id).where(t.c.id.in_([x.id for x in timers]))).scalars()
    )
    rows = [
        {
            "id": x.id,
            "lead_id": x.lead_id,
            "decision_id": x.decision_id,
            "kind": str(x.kind),
            "due_at": to_iso(x.due_at),
            "status": "pending",
            "created_at": now,
        }
        for x in timers
        if x.id not in existing
    ]
    if rows:
        conn.execute(t.insert(), rows)


def insert_effects(conn: Connection, effects: Sequence[Effect], now: str) -> int:
    """Add outbox rows inside a transaction, skipping keys already there; returns how many."""
    if not effects:
        return 0
    t = schema.outbox
    known = set(
        conn.execute(
            sa.select(t.c.idem_key).where(t.c.idem_key.in_([e.idem_key for e in effects]))
        ).scalars()
    )
    rows = [
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
        if e.idem_key not in known
    ]
    if rows:
        conn.execute(t.insert(), rows)
    return len(rows)


def claim_due(
    store: Store, now: datetime, *, worker: str, lease: timedelta, limit: int = 100
) -> list[Timer]:
    """Claim up to ``limit`` pending timers due by ``now``, oldest first, for ``worker``.

    A timer claimed by another worker whose lease has not run out is skipped.
    """
    t = schema.timers
    at, until = to_iso(now), to_iso(now + lease)
    due = (
        sa.select(t.c.id)
        .where(
            t.c.status == "pending",
            t.c.due_at <= at,
            sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < at),
        )
        .order_by(t.c.due_at, t.c.id)
        .limit(limit)
    )
    if store.backend == "postgresql":
        # Without it, a scheduler blocked behind another's claim re-checks only ``id IN``
        # and takes the same timers again once that claim commits.
        due = due.with_for_update(skip_locked=True)
    with store.transaction() as conn:
        # The conditions are repeated on the update itself: a concurrent claimer's row
        # locks make PostgreSQL re-check them, so a row claimed meanwhile is skipped.
        conn.execute(
            t.update()
            .where(
                t.c.id.in_(due.scalar_subquery()),
                t.c.status == "pending",
                sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < at),
            )
            .values(claimed_by=worker, claimed_until=until)
        )
        rows = conn.execute(
            sa.select(t)
            .where(t.c.status == "pending", t.c.claimed_by == worker, t.c.claimed_until == until)
            .order_by(t.c.due_at, t.c.id)
        ).all()
    return [_timer(r) for r in rows]


def settle(
    store: Store,
    timer: Timer,
    *,
    status: str,
    detail: str,
    at: datetime,
    effects: Sequence[Effect] = (),
) -> bool:
    """Mark a claimed timer ``done`` or ``cancelled`` with the effects it caused, at once.

    Returns False (writing nothing) when the timer is no longer pending: a first touch or
    a new epoch stopped it after the claim.
    """
    t = schema.timers
    now = to_iso(at)
    with store.transaction() as conn:
        changed = conn.execute(
            t.update()
            .where(t.c.id == timer.id, t.c.status == "pending")
            .values(status=status, detail=detail, fired_at=now, claimed_until=None)
        ).rowcount
        if not changed:
            return False
        insert_effects(conn, effects, now)
    return True


def cancel_lead_timers(store: Store, lead_id: str, *, reason: str, at: datetime) -> int:
    """Stop every pending clock of a lead (a first touch); returns how many were stopped."""
    t = schema.timers
    with store.transaction() as conn:
        return int(
            conn.execute(
                t.update()
                .where(t.c.lead_id == lead_id, t.c.status == "pending")
                .values(status="cancelled", detail=reason, fired_at=to_iso(at))
            ).rowcount
        )


def pending_timers(store: Store, lead_id: str | None = None) -> list[Timer]:
    """Pending timers (of one lead, or all), soonest first."""
    t = schema.timers
    query = sa.select(t).where(t.c.status == "pending")
    if lead_id is not None:
        query = query.where(t.c.lead_id == lead_id)
    with store.engine.connect() as conn:
        return [_timer(r) for r in conn.execute(query.order_by(t.c.due_at, t.c.id))]


def lead_timers(store: Store, lead_id: str) -> list[Timer]:
    """Every timer of a lead, whatever its status, by due time."""
    t = schema.timers
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.lead_id == lead_id).order_by(t.c.due_at))
        return [_timer(r) for r in rows]


def timer_counts(store: Store) -> dict[str, int]:
    """Timers by status."""
    t = schema.timers
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status))
        return {str(status): int(n) for status, n in rows}


def touched_since(store: Store, lead_id: str, since: datetime) -> bool:
    """Whether the store holds a first touch (or later progress) of the lead since ``since``."""
    o = schema.outcomes
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(o.c.id)
            .where(
                o.c.lead_id == lead_id,
                o.c.kind.in_(sorted(FIRST_TOUCH_KINDS)),
                o.c.at >= to_iso(since),
            )
            .limit(1)
        ).first()
    return found is not None


def finish(store: Store, timer: Timer, *, detail: str, at: datetime) -> None:
    """Mark a timer fired after its action committed elsewhere (a breach move, whose new
    epoch has already cancelled the lead's pending timers, this one included)."""
    t = schema.timers
    with store.transaction() as conn:
        conn.execute(
            t.update()
            .where(t.c.id == timer.id)
            .values(status="done", detail=detail, fired_at=to_iso(at), claimed_until=None)
        )
