"""The store: audit trail, rotation ledger, outbox and run log (SQLAlchemy Core + Alembic)."""

from __future__ import annotations

from leadroute.store.commits import CommitUnit, IdentityRow, Row
from leadroute.store.database import (
    CommitResult,
    LedgerEntry,
    OutboxRow,
    Store,
    default_store_path,
)
from leadroute.store.relay import EffectFailure, RelayReport, relay, unresolved_failures

__all__ = [
    "CommitResult",
    "CommitUnit",
    "EffectFailure",
    "IdentityRow",
    "LedgerEntry",
    "OutboxRow",
    "RelayReport",
    "Row",
    "Store",
    "default_store_path",
    "relay",
    "unresolved_failures",
]
