"""What the service remembers about requests: idempotency keys and webhook event ids.

Both live in the store, so a restarted (or a second) service gives a resubmitted form its
first answer and handles a redelivered webhook event once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs
import sqlalchemy as sa

from leadroute.store import schema
from leadroute.store.codec import to_iso
from leadroute.store.database import Store

__all__ = ["StoredResponse", "idempotent_response", "mark_events", "save_response", "unseen_events"]


@attrs.frozen(kw_only=True)
class StoredResponse:
    """The first answer given to an idempotency key.

    Attributes:
        request_hash: Fingerprint of the request that made it.
        status_code: Its HTTP status.
        body: Its JSON body.
        lead_id: The lead it was about.
    """

    request_hash: str
    status_code: int
    body: str
    lead_id: str


def _key(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


def idempotent_response(store: Store, scope: str, key: str) -> StoredResponse | None:
    """The stored answer to ``key`` from this caller, if any."""
    t = schema.idempotency_keys
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.key == _key(scope, key))).first()
    if row is None:
        return None
    return StoredResponse(
        request_hash=row.request_hash,
        status_code=row.status_code,
        body=row.response,
        lead_id=row.lead_id,
    )


def save_response(
    store: Store,
    scope: str,
    key: str,
    *,
    request_hash: str,
    status_code: int,
    body: str,
    lead_id: str,
) -> StoredResponse:
    """Keep the first answer to ``key``; returns whichever answer is stored (first wins)."""
    t = schema.idempotency_keys
    hashed = _key(scope, key)
    with store.transaction() as conn:
        row = conn.execute(sa.select(t).where(t.c.key == hashed)).first()
        if row is None:
            conn.execute(
                t.insert().values(
                    key=hashed,
                    request_hash=request_hash,
                    lead_id=lead_id,
                    status_code=status_code,
                    response=body,
                    created_at=to_iso(datetime.now(UTC)),
                )
            )
            return StoredResponse(
                request_hash=request_hash, status_code=status_code, body=body, lead_id=lead_id
            )
    return StoredResponse(
        request_hash=row.request_hash,
        status_code=row.status_code,
        body=row.response,
        lead_id=row.lead_id,
    )


def unseen_events(store: Store, source: str, event_ids: Sequence[str]) -> list[str]:
    """The ids from ``source`` not handled yet, in order, without duplicates."""
    if not event_ids:
        return []
    t = schema.webhook_events
    with store.engine.connect() as conn:
        seen = set(
            conn.execute(
                sa.select(t.c.event_id).where(t.c.source == source, t.c.event_id.in_(event_ids))
            ).scalars()
        )
    fresh: list[str] = []
    for event_id in event_ids:
        if event_id not in seen:
            seen.add(event_id)
            fresh.append(event_id)
    return fresh


def mark_events(store: Store, source: str, event_ids: Sequence[str]) -> None:
    """Remember events as handled (after their work is committed: a crash before this
    leaves them unhandled, and the sender's redelivery does the work again, idempotently)."""
    t = schema.webhook_events
    now = to_iso(datetime.now(UTC))
    with store.transaction() as conn:
        seen = set(
            conn.execute(
                sa.select(t.c.event_id).where(t.c.source == source, t.c.event_id.in_(event_ids))
            ).scalars()
        )
        rows = [
            {"source": source, "event_id": e, "seen_at": now}
            for e in dict.fromkeys(event_ids)
            if e not in seen
        ]
        if rows:
            conn.execute(t.insert(), rows)
