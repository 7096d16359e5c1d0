"""What happened after routing, read back from the org as ``Outcome`` records.

Four reads per run, each bounded by ``outcomes.since`` (30 days by default) and each
``Outcome`` keyed by what happened, to which lead, by whom and when, so reading the same
window again on the next run adds nothing twice:

* **Tasks** on a lead (``WhoId``) that are closed: a call, an email or any other task the
  owner completed is a ``first_touch`` at ``CompletedDateTime`` (the creation time for
  activities logged already complete), by the task's owner. ``task_subtypes`` narrows
  which ``TaskSubtype`` values count.
* **Events** on a lead: a ``meeting_booked`` at the event's creation, by its owner.
* **Lead Status changes** from ``LeadHistory`` (field history tracking on Lead Status):
  each new value named in ``statuses`` (``Working - Contacted: first_touch`` by default)
  at the time of the change, by whoever changed it.
* **Conversions**: a converted lead (``IsConverted``) is ``converted`` when it was
  converted, by its owner; the detail says whether an opportunity was created
  (``ConvertedOpportunityId``).

Details carry the kind of activity or the status value, never subjects or descriptions
(they may hold personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import attrs

from leadroute.logs import get_logger
from leadroute.models import Outcome, OutcomeKind
from leadroute_salesforce.mapping import BadValue, parse_sf_datetime
from leadroute_salesforce.soql import Query, Where

__all__ = ["OutcomeSettings", "conversion_time", "outcome_queries", "read_outcomes", "who_types"]

log = get_logger(__name__)

SOURCE = "salesforce"


@attrs.frozen(kw_only=True)
class OutcomeSettings:
    """Which activity becomes which outcome.

    Attributes:
        enabled: Whether to read outcomes at all.
        since: How far back each run reads (a window, so every run costs the same).
        task_subtypes: ``TaskSubtype`` values whose closed tasks are touches; empty = all.
        statuses: Lead Status value -> outcome kind, read from the Status field history.
        meetings: Whether Events on a lead are meetings booked.
    """

    enabled: bool = True
    since: timedelta = timedelta(days=30)
    task_subtypes: tuple[str, ...] = ()
    statuses: Mapping[str, OutcomeKind] = attrs.field(
        factory=lambda: {"Working - Contacted": OutcomeKind.FIRST_TOUCH}
    )
    meetings: bool = True


def who_types(contacts: bool) -> list[str]:
    """The ``Who.Type`` values whose activity is read: leads, and contacts when routed."""
    return ["Lead", "Contact"] if contacts else ["Lead"]


def _at(record: Mapping[str, Any], *fields: str) -> datetime | None:
    for field in fields:
        try:
            value = parse_sf_datetime(field, record.get(field))
        except BadValue:
            continue
        if value is not None:
            return value
    return None


def _tasks(records: Iterable[Mapping[str, Any]], subtypes: tuple[str, ...]) -> Iterator[Outcome]:
    wanted = {s.lower() for s in subtypes}
    for task in records:
        subtype = str(task.get("TaskSubtype") or "Task")
        if wanted and subtype.lower() not in wanted:
            continue
        at = _at(task, "CompletedDateTime", "CreatedDate")
        if at is None or not task.get("WhoId"):
            continue
        yield Outcome(
            kind=OutcomeKind.FIRST_TOUCH,
            lead_id=str(task["WhoId"]),
            rep_id=str(task.get("OwnerId") or ""),
            at=at,
            source=SOURCE,
            detail=subtype.lower(),
            origin=f"salesforce:Task/{task.get('Id', '')}",
        )


def _events(records: Iterable[Mapping[str, Any]]) -> Iterator[Outcome]:
    for event in records:
        at = _at(event, "CreatedDate")
        if at is None or not event.get("WhoId"):
            continue
        yield Outcome(
            kind=OutcomeKind.MEETING_BOOKED,
            lead_id=str(event["WhoId"]),
            rep_id=str(event.get("OwnerId") or ""),
            at=at,
            source=SOURCE,
            detail=str(event.get("EventSubtype") or "Event").lower(),
            origin=f"salesforce:Event/{event.get('Id', '')}",
        )


def _status_changes(
    records: Iterable[Mapping[str, Any]], statuses: Mapping[str, OutcomeKind]
) -> Iterator[Outcome]:
    for change in records:
        kind = statuses.get(str(change.get("NewValue") or ""))
        at = _at(change, "CreatedDate")
        if kind is None or at is None:
            continue
        yield Outcome(
            kind=kind,
            lead_id=str(change.get("LeadId") or ""),
            rep_id=str(change.get("CreatedById") or ""),
            at=at,
            source=SOURCE,
            detail=f"status {change.get('NewValue')}",
            origin=f"salesforce:LeadHistory/{change.get('Id', '')}",
        )


def conversion_time(lead: Mapping[str, Any]) -> datetime | None:
    """When a lead was converted: ``ConvertedDate`` is a date, so take the time of the last
    change when it falls on that date (a converted lead is read-only: conversion is its last
    change), else the start of that date."""
    raw = lead.get("ConvertedDate")
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(str(raw)[:10]).date()
    except ValueError:
        return None
    modified = _at(lead, "LastModifiedDate")
    if modified is not None and modified.date() == day:
        return modified
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conversions(records: Iterable[Mapping[str, Any]]) -> Iterator[Outcome]:
    for lead in records:
        at = conversion_time(lead)
        if at is None:
            continue
        yield Outcome(
            kind=OutcomeKind.CONVERTED,
            lead_id=str(lead.get("Id") or ""),
            rep_id=str(lead.get("OwnerId") or ""),
            at=at,
            source=SOURCE,
            detail="opportunity" if lead.get("ConvertedOpportunityId") else "contact",
            origin=f"salesforce:Lead/{lead.get('Id', '')}",
        )


def outcome_queries(
    settings: OutcomeSettings, since: datetime, *, contacts: bool
) -> dict[str, Query]:
    """The queries of one read, by name (tests and the docs' permission list use them)."""
    types = who_types(contacts)
    queries = {
        "tasks": Query(
            sobject="Task",
            fields=["Id", "WhoId", "OwnerId", "TaskSubtype", "CompletedDateTime", "CreatedDate"],
            where=[
                Where("Who.Type", "IN", types),
                Where("IsClosed", "=", True),
                Where("LastModifiedDate", ">=", since),
            ],
            order_by=["Id"],
        ),
        "status_changes": Query(
            sobject="LeadHistory",
            fields=["Id", "LeadId", "NewValue", "CreatedById", "CreatedDate"],
            where=[Where("Field", "=", "Status"), Where("CreatedDate", ">=", since)],
            order_by=["Id"],
        ),
        "conversions": Query(
            sobject="Lead",
            fields=[
                "Id",
                "OwnerId",
                "ConvertedDate",
                "ConvertedOpportunityId",
                "LastModifiedDate",
            ],
            where=[Where("IsConverted", "=", True), Where("ConvertedDate", ">=", since.date())],
            order_by=["Id"],
        ),
    }
    if settings.meetings:
        queries["events"] = Query(
            sobject="Event",
            fields=["Id", "WhoId", "OwnerId", "EventSubtype", "CreatedDate"],
            where=[Where("Who.Type", "IN", types), Where("CreatedDate", ">=", since)],
            order_by=["Id"],
        )
    if not settings.statuses:
        del queries["status_changes"]
    return queries


Fetch = Callable[[Query], Iterable[Mapping[str, Any]]]


def read_outcomes(
    fetch: Fetch, settings: OutcomeSettings, now: datetime, *, contacts: bool = False
) -> list[Outcome]:
    """Every outcome in the window; ``fetch(query)`` yields the records of one query."""
    if not settings.enabled:
        return []
    since = now - settings.since
    queries = outcome_queries(settings, since, contacts=contacts)
    outcomes = list(_tasks(fetch(queries["tasks"]), settings.task_subtypes))
    if "events" in queries:
        outcomes += _events(fetch(queries["events"]))
    if "status_changes" in queries:
        outcomes += _status_changes(fetch(queries["status_changes"]), settings.statuses)
    outcomes += _conversions(fetch(queries["conversions"]))
    log.info("salesforce.outcomes.read", outcomes=len(outcomes), since=since.isoformat())
    return outcomes
