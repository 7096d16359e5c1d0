"""Prometheus metrics of the service (``GET /metrics``).

Names follow ``leadroute_<thing>_<unit>``; labels take few values (route template, step,
status, source), never a lead or rep id. Counters and histograms are updated as the
service works; the outbox and timer gauges are read from the store at scrape time, so
they are right even when another process (``leadroute relay``) does the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from leadroute.store import Store, schema
from leadroute.store.codec import from_iso

__all__ = ["Metrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StoreCollector(Collector):
    """Outbox depth and age, dead effects and SLA timers, read from the store per scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        outbox = GaugeMetricFamily(
            "leadroute_outbox_effects", "Outbox effects by status.", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "leadroute_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox effect (0 when none is pending).",
        )
        timers = GaugeMetricFamily(
            "leadroute_sla_timers", "SLA timers by status.", labels=["status"]
        )
        o, t = schema.outbox, schema.timers
        with self.store.engine.connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(sa.select(o.c.status, sa.func.count()).group_by(o.c.status)).all()
            )
            first = conn.execute(
                sa.select(sa.func.min(o.c.created_at)).where(o.c.status == "pending")
            ).scalar()
            timer_counts: dict[str, int] = dict(
                conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all()
            )
        for status in ("pending", "done", "dead", "rerouted"):
            outbox.add_metric([status], float(counts.get(status, 0)))
        age = (datetime.now(UTC) - from_iso(first)).total_seconds() if first else 0.0
        oldest.add_metric([], max(0.0, age))
        for status in ("pending", "done", "cancelled"):
            timers.add_metric([status], float(timer_counts.get(status, 0)))
        yield outbox
        yield oldest
        yield timers


class Metrics:
    """The service's metrics, in a registry of its own (one per application)."""

    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "leadroute_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "leadroute_http_request_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.decisions = Counter(
            "leadroute_decisions_total",
            "Decisions made by the service, by route step and status.",
            ["step", "status"],
            registry=r,
        )
        self.decision_seconds = Histogram(
            "leadroute_decision_seconds",
            "Time to decide and commit one lead (pipeline and store, no CRM).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "leadroute_leads_rejected_total",
            "Leads refused by validation, by problem code.",
            ["code"],
            registry=r,
        )
        self.replayed = Counter(
            "leadroute_leads_replayed_total",
            "Submissions answered with the lead's existing decision.",
            registry=r,
        )
        self.webhook_events = Counter(
            "leadroute_webhook_events_total",
            "Webhook events by source and result (routed, duplicate, ignored, refused).",
            ["source", "result"],
            registry=r,
        )
        self.relayed = Counter(
            "leadroute_relay_effects_total",
            "Effects the relay handled, by result (applied, failed, dead).",
            ["result"],
            registry=r,
        )
        self.relay_last_pass = Gauge(
            "leadroute_relay_last_pass_timestamp_seconds",
            "When the relay last finished a pass (Unix time).",
            registry=r,
        )
        self.sla_reminders = Counter(
            "leadroute_sla_reminders_total", "SLA reminders sent.", registry=r
        )
        self.sla_breaches = Counter(
            "leadroute_sla_breaches_total", "SLA breaches acted on.", registry=r
        )
        self.sla_escalations = Counter(
            "leadroute_sla_escalations_total",
            "Fallback-queue escalations sent.",
            registry=r,
        )
        self.outcomes = Counter(
            "leadroute_outcomes_total",
            "Outcomes received on /v1/outcomes, by kind.",
            ["kind"],
            registry=r,
        )
        if store is not None:
            r.register(_StoreCollector(store))
