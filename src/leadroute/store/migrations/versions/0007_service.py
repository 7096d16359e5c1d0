"""The live service: SLA timers, idempotency keys, webhook event ids, outbox backoff.

Revision ID: service
Revises: identities
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service"
down_revision = "identities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add timers, idempotency_keys and webhook_events; outbox.next_attempt_at."""
    op.create_table(
        "timers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("claimed_until", sa.String(40), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("fired_at", sa.String(40), nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_timers_lead_id", "timers", ["lead_id"])
    op.create_index("ix_timers_status_due_at", "timers", ["status", "due_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "webhook_events",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.String(40), nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.String(40), nullable=True))


def downgrade() -> None:
    """Drop what ``upgrade`` added."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("next_attempt_at")
    op.drop_table("webhook_events")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_timers_status_due_at", table_name="timers")
    op.drop_index("ix_timers_lead_id", table_name="timers")
    op.drop_table("timers")
