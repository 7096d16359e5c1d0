"""Outcomes after decisions, and the last run's exception report, for reporting.

Revision ID: outcomes
Revises: ledger_decay
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outcomes"
down_revision = "ledger_decay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the outcomes and input_problems tables."""
    op.create_table(
        "outcomes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("rep_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("source", sa.String(64), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_outcomes_lead_id", "outcomes", ["lead_id"])
    op.create_index("ix_outcomes_at", "outcomes", ["at"])
    op.create_table(
        "input_problems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("input_problems")
    op.drop_index("ix_outcomes_at", "outcomes")
    op.drop_index("ix_outcomes_lead_id", "outcomes")
    op.drop_table("outcomes")
