"""Identities: keyed hashes of each routed lead's email, phone and name+domain.

Revision ID: identities
Revises: outcomes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identities"
down_revision = "outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the identities table."""
    op.create_table(
        "identities",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(255), primary_key=True),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_identities_person_id", "identities", ["person_id"])


def downgrade() -> None:
    """Drop the identities table."""
    op.drop_index("ix_identities_person_id", table_name="identities")
    op.drop_table("identities")
