"""The store: audit trail, rotation ledger, outbox and run log (SQLAlchemy Core + Alembic)."""

from __future__ import annotations

from leadroute.store.database import IdentityRow, LedgerEntry, Store, default_store_path
from leadroute.store.relay import EffectFailure, RelayReport, relay

__all__ = [
    "EffectFailure",
    "IdentityRow",
    "LedgerEntry",
    "RelayReport",
    "Store",
    "default_store_path",
    "relay",
]
