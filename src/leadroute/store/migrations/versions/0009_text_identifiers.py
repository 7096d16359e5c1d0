"""Identifiers that come from outside (lead, rep and person ids, policy names, file paths)
become unbounded text, as SQLite always stored them.

SQLite never enforces a ``VARCHAR(n)`` length, PostgreSQL does: a 300-character lead id
from a CSV export was stored on one and failed the whole transaction on the other. The
declared type means nothing to SQLite, so only PostgreSQL changes (no table copy there).

Revision ID: text_identifiers
Revises: commits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "text_identifiers"
down_revision = "commits"
branch_labels = None
depends_on = None

COLUMNS: dict[str, dict[str, int]] = {
    "decisions": {
        "lead_id": 255,
        "owner_id": 255,
        "queue": 255,
        "rule": 255,
        "pool": 255,
        "policy_version": 128,
    },
    "ledger": {"pool": 255, "rep_id": 255},
    "outbox": {"lead_id": 255, "observed_owner": 255},
    "runs": {"source": 64},
    "prices": {"rep_id": 255},
    "outcomes": {"lead_id": 255, "rep_id": 255, "source": 64},
    "input_problems": {"file": 255, "record_id": 255, "field": 255},
    "identities": {"lead_id": 255, "person_id": 255},
    "timers": {"lead_id": 255},
    "idempotency_keys": {"lead_id": 255},
    "turns": {"pool": 255, "rep_id": 255},
}


def upgrade() -> None:
    """Turn each outside identifier into TEXT (PostgreSQL only: SQLite stores text anyway)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    """Back to the bounded types (fails on PostgreSQL if a longer value is stored)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
