"""The store: audit trail, rotation ledger, outbox and run log (SQLAlchemy Core + Alembic)."""

from __future__ import annotations

from leadroute.store.database import IdentityRow, LedgerEntry, OutboxRow, Store, default_store_path
from leadroute.store.relay import EffectFailure, RelayReport, relay, unresolved_failures

__all__ = [
    "EffectFailure",
    "IdentityRow",
    "LedgerEntry",
    "OutboxRow",
    "RelayReport",
    "Store",
    "default_store_path",
    "relay",
    "unresolved_failures",
]
