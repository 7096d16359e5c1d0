"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/`` must produce exactly these."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "decisions",
    "idempotency_keys",
    "identities",
    "input_problems",
    "ledger",
    "meta",
    "metadata",
    "outbox",
    "outcomes",
    "prices",
    "run_locks",
    "runs",
    "timers",
    "turns",
    "webhook_events",
]

metadata = sa.MetaData()

# Timestamps are ISO-8601 UTC text: portable across SQLite and PostgreSQL and sortable.
# Identifiers from outside (lead, rep, person ids; policy names; files) are unbounded TEXT:
# SQLite never enforces a VARCHAR length and PostgreSQL would (migration text_identifiers).
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.Text, nullable=False, index=True),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.Text, nullable=False, index=True),
    sa.Column("queue", sa.Text, nullable=False, server_default=""),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("rule", sa.Text, nullable=False, server_default=""),
    sa.Column("pool", sa.Text, nullable=False, server_default=""),
    sa.Column("policy_version", sa.Text, nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    # The commit that wrote it (NULL for decisions stored before commits were numbered).
    sa.Column("commit_seq", sa.Integer, nullable=True, index=True),
    sa.UniqueConstraint("lead_id", "epoch", name="uq_decisions_lead_epoch"),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("pool", sa.Text, primary_key=True),
    sa.Column("rep_id", sa.Text, primary_key=True),
    sa.Column("assigned", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("level", sa.Float, nullable=False, server_default="0"),
    sa.Column("level_at", sa.String(40), nullable=True),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idem_key", sa.String(64), nullable=False, unique=True),
    sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.id"), nullable=False),
    sa.Column("lead_id", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("applied_at", sa.String(40), nullable=True),
    # The owner the target held after an owner write, when something else changed it.
    sa.Column("observed_owner", sa.Text, nullable=False, server_default=""),
    # A retryable failure waits (exponential backoff) before the relay tries the row again.
    sa.Column("next_attempt_at", sa.String(40), nullable=True),
    # When an owner write was read back after the target's workflows had time to act.
    sa.Column("checked_at", sa.String(40), nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40), nullable=True),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

prices = sa.Table(
    "prices",
    metadata,
    sa.Column("rep_id", sa.Text, primary_key=True),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("computed_at", sa.String(40), nullable=False),
)

# What happened after a decision (first touch, meeting...): id is Outcome.id, so the same
# event read on every run is stored once.
outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.Text, nullable=False, index=True),
    sa.Column("rep_id", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", sa.String(40), nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

# The last route run's exception report (rejected leads and bad rows): reporting counts
# what the decisions table cannot, the leads that never got one. Replaced on every run.
input_problems = sa.Table(
    "input_problems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=True),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

# Keyed hashes (HMAC-SHA256) of normalized identity keys, never the email or phone itself:
# the audit trail holds no personal data. A person is the id of their first lead.
identities = sa.Table(
    "identities",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Text, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("seen_at", sa.String(40), nullable=False),
    # The commit that wrote the row or last moved it to another person (a merge).
    sa.Column("commit_seq", sa.Integer, nullable=True, index=True),
)

# Every rotation turn taken or given back, with the commit that wrote it: the ledger rows
# are their sum, and an engine applies other processes' turns to its own ledger from here.
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("commit_seq", sa.Integer, nullable=False, index=True),
    sa.Column("decision_id", sa.String(64), nullable=False, index=True),
    sa.Column("pool", sa.Text, nullable=False),
    sa.Column("rep_id", sa.Text, nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("prior_seq", sa.Integer, nullable=False),
    sa.Column("gain", sa.Float, nullable=False),
    sa.Column("at", sa.String(40), nullable=True),
    # The pool's half-life in seconds, to decay the level a turn meets.
    sa.Column("half_life", sa.Float, nullable=False),
)

# SLA clocks: one row per timer of a decision (reminder, breach, fallback escalation).
# ``claimed_until`` is a lease: a scheduler that dies holding a claim loses it when it
# expires, so another picks the timer up (PostgreSQL adds FOR UPDATE SKIP LOCKED).
timers = sa.Table(
    "timers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.Text, nullable=False, index=True),
    sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=False, server_default=""),
    sa.Column("claimed_until", sa.String(40), nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("fired_at", sa.String(40), nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_timers_status_due_at", "status", "due_at"),
)

# The service's Idempotency-Key (hashed with the caller's scope): a resubmitted form gets
# the first answer back, and the same key with another body is refused.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("lead_id", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

# Webhook deliveries already handled (HubSpot eventId, Salesforce notification Id):
# both CRMs deliver at least once.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("seen_at", sa.String(40), nullable=False),
)

# Who holds a store-level run lock (``leadroute.store.locks``): on SQLite the row is the
# lock; on PostgreSQL an advisory lock is, and the row only says who holds it.
run_locks = sa.Table(
    "run_locks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    # The process's start time (Linux: clock ticks since boot), so a recycled pid is not
    # mistaken for the holder.
    sa.Column("process_start", sa.String(32), nullable=False, server_default=""),
    sa.Column("acquired_at", sa.String(40), nullable=False),
)
