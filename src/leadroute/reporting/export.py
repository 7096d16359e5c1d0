"""The report as plain data: JSON for APIs and BI tools, CSV rows for spreadsheets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from leadroute.policy import format_duration
from leadroute.reporting.exceptions import ExceptionRow
from leadroute.reporting.facts import LeadFacts
from leadroute.reporting.metrics import MetricRow, Report

__all__ = [
    "LEAD_COLUMNS",
    "METRIC_COLUMNS",
    "lead_rows",
    "metric_rows",
    "report_to_dict",
]

LEAD_COLUMNS = (
    "lead_id",
    "route",
    "pool",
    "owner_id",
    "lead_type",
    "source",
    "created_at",
    "assigned_at",
    "time_to_owner_s",
    "first_touch_at",
    "time_to_touch_s",
    "sla",
    "sla_state",
    "fallback",
    "review",
    "meeting",
    "converted",
    "reassigned",
    "stage",
)
METRIC_COLUMNS = ("group", "key", *(f.name for f in attrs.fields(MetricRow) if f.name != "key"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _serialize(_: Any, __: Any, value: Any) -> Any:
    return _plain(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def lead_row(fact: LeadFacts, as_of: datetime) -> dict[str, Any]:
    """One lead's facts as flat, BI-friendly values."""
    return {
        "lead_id": fact.lead_id,
        "route": fact.route,
        "pool": fact.pool,
        "owner_id": fact.owner_id,
        "lead_type": fact.lead_type,
        "source": fact.source,
        "created_at": _plain(fact.created_at),
        "assigned_at": _plain(fact.assigned_at),
        "time_to_owner_s": _seconds(fact.time_to_owner),
        "first_touch_at": _plain(fact.first_touch_at),
        "time_to_touch_s": _seconds(fact.time_to_touch),
        "sla": format_duration(fact.sla),
        "sla_state": fact.sla_state(as_of),
        "fallback": fact.fallback,
        "review": ";".join(fact.review),
        "meeting": fact.meeting,
        "converted": fact.converted,
        "reassigned": fact.reassigned,
        "stage": fact.stage,
    }


def lead_rows(report: Report) -> list[dict[str, Any]]:
    """Every lead in the window."""
    return [lead_row(f, report.as_of) for f in report.facts]


def metric_rows(report: Report) -> list[dict[str, Any]]:
    """Every metric row in long form: ``group`` is ``all``, ``route``, ``pool``, ``rep``..."""
    groups: Sequence[tuple[str, Sequence[MetricRow]]] = (
        ("all", (report.summary.overall,)),
        ("route", report.by_route),
        ("pool", report.by_pool),
        ("rep", report.by_rep),
        ("lead_type", report.by_type),
        ("source", report.by_source),
    )
    return [{"group": group, **attrs.asdict(row)} for group, rows in groups for row in rows]


def report_to_dict(report: Report, exceptions: Sequence[ExceptionRow]) -> dict[str, Any]:
    """The whole report as JSON-ready data (times ISO-8601, durations in seconds)."""
    data = attrs.asdict(report, filter=lambda a, _: a.name != "facts", value_serializer=_serialize)
    data["leads"] = lead_rows(report)
    data["exceptions"] = [attrs.asdict(e, value_serializer=_serialize) for e in exceptions]
    return data
