"""Run locks: one rebalance or reassign at a time per store.

Revision ID: run_locks
Revises: owner_checks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "run_locks"
down_revision = "owner_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the run_locks table (the lock itself on SQLite; who holds it on both)."""
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("process_start", sa.String(32), nullable=False, server_default=""),
        sa.Column("acquired_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop the run_locks table."""
    op.drop_table("run_locks")
