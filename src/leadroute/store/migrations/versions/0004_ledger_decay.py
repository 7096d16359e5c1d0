"""The fairness ledger's decayed, share-normalised level per pool and rep.

Revision ID: ledger_decay
Revises: effect_notes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_decay"
down_revision = "effect_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``level`` and ``level_at`` to the ledger; existing reps start at level 0."""
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("level", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("level_at", sa.String(40), nullable=True))


def downgrade() -> None:
    """Drop the level columns."""
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("level_at")
        batch.drop_column("level")
