"""The fake org's Bulk API 2.0 query jobs (used by ``leadroute_salesforce.testing``).

It follows the Bulk API 2.0 and Bulk API Developer Guide, "Query Jobs":

* ``POST jobs/query`` creates a job for a SOQL ``query`` with ``operation`` ``query`` or
  ``queryAll``; the results are CSV. A query Bulk API 2.0 cannot run (aggregate functions,
  ``GROUP BY``) or cannot parse is refused with ``400 INVALIDJOB``.
* The job runs asynchronously, in the org's time: ``UploadComplete`` when created,
  ``InProgress`` after a second, ``JobComplete`` once ``startup`` plus
  ``seconds_per_10k`` per 10,000 records have passed. ``PATCH`` with
  ``{"state": "Aborted"}`` aborts it.
* ``GET jobs/query/{id}/results?maxRecords=&locator=`` returns a page of CSV (a header
  row, then one row per record; an empty cell is null, booleans ``true``/``false``,
  datetimes ``2026-11-02T09:00:00.000Z``, a relationship field as ``Account.Name``) with
  ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` on the last page). Asking for
  results before ``JobComplete`` is refused (``400 INVALIDJOBSTATE``, the fake's choice:
  leadroute never does it).
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import httpx

__all__ = ["FakeQueryJobs"]

Record = dict[str, Any]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if len(text) == 28 and text.endswith("+0000") and text[10] == "T":
        return text[:-5] + "Z"  # REST's 2026-11-02T09:00:00.000+0000 is ...000Z in Bulk CSV
    return text


def _flat(record: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    row = []
    for column in columns:
        value: Any = record
        for part in column.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        row.append(_cell(value))
    return row


@attrs.define
class FakeQueryJobs:
    """Query jobs of one fake org.

    Attributes:
        run: Runs a SOQL query against the org (shaped records, no paging).
        columns: The select list of a query; raises ``ValueError`` for one Bulk API 2.0
            refuses.
        clock: The org's clock.
        respond: Builds a JSON response with the org's ``Sforce-Limit-Info``.
        limit_headers: The org's ``Sforce-Limit-Info`` header, for CSV responses.
        new_id: A new job id (``750...``).
        startup: Seconds before any job completes.
        seconds_per_10k: Further seconds per 10,000 records.
        created: Every job created, by id.
    """

    run: Callable[[str], list[Record]]
    columns: Callable[[str], list[str]]
    clock: Callable[[], datetime]
    respond: Callable[[int, Any], httpx.Response]
    limit_headers: Callable[[], dict[str, str]]
    new_id: Callable[[], str]
    startup: float = 5.0
    seconds_per_10k: float = 2.0
    created: dict[str, Record] = attrs.field(factory=dict)

    def _error(self, status: int, code: str, message: str) -> httpx.Response:
        return self.respond(status, [{"errorCode": code, "message": message}])

    def create(self, body: Any) -> httpx.Response:
        """``POST jobs/query``."""
        body = body if isinstance(body, Mapping) else {}
        if body.get("operation") not in ("query", "queryAll"):
            return self._error(400, "INVALIDJOB", "operation must be query or queryAll")
        if body.get("contentType", "CSV") != "CSV":
            return self._error(400, "INVALIDJOB", "contentType must be CSV")
        soql = str(body.get("query") or "")
        try:
            columns = self.columns(soql)
            rows = self.run(soql)
        except ValueError as exc:
            return self._error(400, "INVALIDJOB", str(exc))
        job_id = self.new_id()
        now = self.clock()
        ready = now + timedelta(seconds=self.startup + self.seconds_per_10k * len(rows) / 10_000)
        self.created[job_id] = {
            "id": job_id,
            "operation": body["operation"],
            "object": soql.split(" FROM ", 1)[-1].split(" ", 1)[0],
            "createdDate": now,
            "ready": ready,
            "aborted": False,
            "columns": columns,
            "rows": rows,
        }
        return self.respond(200, self._view(job_id))

    def _state(self, job: Record) -> str:
        now = self.clock()
        if job["aborted"]:
            return "Aborted"
        if now >= job["ready"]:
            return "JobComplete"
        if now - job["createdDate"] >= timedelta(seconds=1):
            return "InProgress"
        return "UploadComplete"

    def _view(self, job_id: str) -> Record:
        job = self.created[job_id]
        state = self._state(job)
        return {
            "id": job_id,
            "operation": job["operation"],
            "object": job["object"],
            "state": state,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
            "numberRecordsProcessed": len(job["rows"]) if state == "JobComplete" else 0,
        }

    def job(self, job_id: str, method: str, body: Any) -> httpx.Response:
        """``GET`` (status) or ``PATCH`` (abort) ``jobs/query/{id}``."""
        if job_id not in self.created:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        if method == "PATCH":
            if not isinstance(body, Mapping) or body.get("state") != "Aborted":
                return self._error(400, "INVALIDJOBSTATE", "a query job can only be aborted")
            self.created[job_id]["aborted"] = True
        return self.respond(200, self._view(job_id))

    def results(self, job_id: str, params: Mapping[str, str]) -> httpx.Response:
        """``GET jobs/query/{id}/results``: one page of CSV and the next locator."""
        job = self.created.get(job_id)
        if job is None:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        if self._state(job) != "JobComplete":
            return self._error(400, "INVALIDJOBSTATE", "the job is not complete")
        size = int(params.get("maxRecords") or 50_000)
        locator = params.get("locator") or ""
        start = int(base64.b64decode(locator).decode()) if locator else 0
        page = job["rows"][start : start + size]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(job["columns"])
        writer.writerows(_flat(r, job["columns"]) for r in page)
        following = start + size
        return httpx.Response(
            200,
            content=text.getvalue().encode(),
            headers={
                **self.limit_headers(),
                "Content-Type": "text/csv",
                "Sforce-NumberOfRecords": str(len(page)),
                "Sforce-Locator": (
                    base64.b64encode(str(following).encode()).decode()
                    if following < len(job["rows"])
                    else "null"
                ),
            },
        )
