"""Capacity prices published by the last batch solve, for priced real-time routing.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the prices table."""
    op.create_table(
        "prices",
        sa.Column("rep_id", sa.String(255), primary_key=True),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("computed_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop the prices table."""
    op.drop_table("prices")
