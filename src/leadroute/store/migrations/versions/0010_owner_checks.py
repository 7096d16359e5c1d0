"""When an owner write was read back from the target after its workflows had time to run.

Revision ID: owner_checks
Revises: text_identifiers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "owner_checks"
down_revision = "text_identifiers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``outbox.checked_at`` (None until the owner is re-read after the write).

    Writes done before this migration count as read back: a store upgraded after months
    of routing must not re-read every owner it ever wrote.
    """
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("checked_at", sa.String(40), nullable=True))
    op.execute("UPDATE outbox SET checked_at = applied_at WHERE status = 'done'")


def downgrade() -> None:
    """Drop ``outbox.checked_at``."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("checked_at")
