"""Initial schema: decisions (audit), ledger, outbox, runs, meta.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(255), nullable=False),
        sa.Column("queue", sa.String(255), nullable=False, server_default=""),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(255), nullable=False, server_default=""),
        sa.Column("pool", sa.String(255), nullable=False, server_default=""),
        sa.Column("policy_version", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.UniqueConstraint("lead_id", "epoch", name="uq_decisions_lead_epoch"),
    )
    op.create_index("ix_decisions_lead_id", "decisions", ["lead_id"])
    op.create_index("ix_decisions_owner_id", "decisions", ["owner_id"])
    op.create_table(
        "ledger",
        sa.Column("pool", sa.String(255), primary_key=True),
        sa.Column("rep_id", sa.String(255), primary_key=True),
        sa.Column("assigned", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idem_key", sa.String(64), nullable=False, unique=True),
        sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=True),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    """Drop everything (the audit trail with it)."""
    for table in ("meta", "runs", "outbox", "ledger", "decisions"):
        op.drop_table(table)
