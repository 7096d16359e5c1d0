"""The store: audit trail, rotation ledger, outbox and run log (SQLAlchemy Core + Alembic)."""

from __future__ import annotations

from leadroute.store.database import LedgerEntry, Store, default_store_path
from leadroute.store.relay import EffectFailure, RelayReport, relay

__all__ = ["EffectFailure", "LedgerEntry", "RelayReport", "Store", "default_store_path", "relay"]
