"""Outcomes, decision history and the last exception report: what reporting reads.

Kept apart from ``database.py`` (the routing write path): these functions take an open
``Store`` and touch only the tables reporting owns, plus read-only queries over decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from leadroute.logs import get_logger
from leadroute.models import Decision, InputProblem, Outcome, OutcomeKind
from leadroute.store import schema
from leadroute.store.codec import decision_from_json, from_iso, to_iso
from leadroute.store.database import Store, bytewise

__all__ = [
    "decision_history",
    "known_outcome_ids",
    "last_problems",
    "load_outcomes",
    "problems_recorded_at",
    "record_outcome",
    "save_problems",
]

log = get_logger(__name__)


def _now() -> str:
    return to_iso(datetime.now(UTC))


def record_outcome(store: Store, outcome: Outcome) -> bool:
    """Store one outcome; False (writing nothing) when an outcome with its id is stored."""
    t = schema.outcomes
    with store._tx() as conn:
        if conn.execute(sa.select(t.c.id).where(t.c.id == outcome.id)).first() is not None:
            return False
        conn.execute(
            t.insert().values(
                id=outcome.id,
                lead_id=outcome.lead_id,
                rep_id=outcome.rep_id,
                kind=str(outcome.kind),
                at=to_iso(outcome.at),
                source=outcome.source,
                detail=outcome.detail,
                recorded_at=_now(),
            )
        )
    log.debug("outcome.recorded", lead_id=outcome.lead_id, kind=str(outcome.kind))
    return True


def known_outcome_ids(store: Store, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are already stored (queried in chunks, for large activity files)."""
    wanted = list(dict.fromkeys(ids))
    t = schema.outcomes
    found: set[str] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(conn.execute(sa.select(t.c.id).where(t.c.id.in_(chunk))).scalars())
    return found


def load_outcomes(store: Store) -> list[Outcome]:
    """Every stored outcome, oldest first."""
    t = schema.outcomes
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t).order_by(bytewise(t.c.at, store.backend), bytewise(t.c.id, store.backend))
        ).all()
    return [
        Outcome(
            kind=OutcomeKind(r.kind),
            lead_id=r.lead_id,
            rep_id=r.rep_id,
            at=from_iso(r.at),
            source=r.source,
            detail=r.detail,
        )
        for r in rows
    ]


def decision_history(store: Store) -> list[Decision]:
    """Every decision of every epoch, by lead then epoch (reassignments included)."""
    t = schema.decisions
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.payload).order_by(bytewise(t.c.lead_id, store.backend), t.c.epoch)
        ).scalars()
        return [decision_from_json(payload) for payload in rows]


def save_problems(
    store: Store, run_id: str, problems: Sequence[InputProblem], *, at: datetime | None = None
) -> None:
    """Replace the stored exception report with one run's problems.

    ``at`` is the run's own time (its clock, ``--at``), which places the report's rejected
    leads in reporting windows; default now.
    """
    t = schema.input_problems
    now = to_iso(at) if at is not None else _now()
    with store._tx() as conn:
        conn.execute(t.delete())
        if problems:
            conn.execute(
                t.insert(),
                [
                    {
                        "run_id": run_id,
                        "file": p.file,
                        "line": p.line,
                        "record_id": p.record_id,
                        "kind": p.kind,
                        "field": p.field,
                        "code": p.code,
                        "message": p.message,
                        "recorded_at": now,
                    }
                    for p in problems
                ],
            )


def problems_recorded_at(store: Store) -> datetime | None:
    """The time of the run whose exception report is stored (``None`` before the first)."""
    t = schema.input_problems
    with store.engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(t.c.recorded_at))).scalar()
    return from_iso(value) if value else None


def last_problems(store: Store) -> list[InputProblem]:
    """The exception report of the last route run (empty before the first)."""
    t = schema.input_problems
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.id)).all()
    return [
        InputProblem(
            file=r.file,
            line=r.line,
            record_id=r.record_id,
            kind=r.kind,
            field=r.field,
            code=r.code,
            message=r.message,
        )
        for r in rows
    ]
