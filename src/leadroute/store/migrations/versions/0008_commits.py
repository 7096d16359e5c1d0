"""Commit sequence numbers on decisions and identities, and the journal of ledger turns.

Every commit (one decision, or a group of them) takes the next number of the store's
commit sequence; the rows it writes carry it, so an engine catches up with what other
processes committed by reading the rows numbered after the last one it saw.

Revision ID: commits
Revises: service
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commits"
down_revision = "service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``commit_seq`` to decisions and identities; add the ``turns`` journal."""
    for table in ("decisions", "identities"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("commit_seq", sa.Integer, nullable=True))
            batch.create_index(f"ix_{table}_commit_seq", ["commit_seq"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("commit_seq", sa.Integer, nullable=False),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("pool", sa.String(255), nullable=False),
        sa.Column("rep_id", sa.String(255), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("prior_seq", sa.Integer, nullable=False),
        sa.Column("gain", sa.Float, nullable=False),
        sa.Column("at", sa.String(40), nullable=True),
        sa.Column("half_life", sa.Float, nullable=False),
    )
    op.create_index("ix_turns_commit_seq", "turns", ["commit_seq"])
    op.create_index("ix_turns_decision_id", "turns", ["decision_id"])


def downgrade() -> None:
    """Drop the journal and the commit sequence columns."""
    op.drop_index("ix_turns_decision_id", table_name="turns")
    op.drop_index("ix_turns_commit_seq", table_name="turns")
    op.drop_table("turns")
    for table in ("identities", "decisions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_commit_seq")
            batch.drop_column("commit_seq")
