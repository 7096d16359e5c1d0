"""What the target said about an applied effect: the owner it holds after an owner write.

Revision ID: effect_notes
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "effect_notes"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``outbox.observed_owner`` (empty when the target kept the owner we wrote)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("observed_owner", sa.String(255), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Drop ``outbox.observed_owner``."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("observed_owner")
