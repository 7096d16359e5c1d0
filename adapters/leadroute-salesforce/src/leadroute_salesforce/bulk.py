"""Bulk API 2.0 query jobs: reads too large for REST paging.

REST returns at most 2,000 records a call, so a 500,000-record read is 250 calls; a
Bulk API 2.0 query job (Bulk API 2.0 and Bulk API Developer Guide, "Query Jobs") reads it
in a few: create the job (``POST jobs/query``), poll it until ``JobComplete`` (it runs
asynchronously: ``UploadComplete`` -> ``InProgress`` -> ``JobComplete``), then fetch the
results as CSV in pages of ``max_records``, following the ``Sforce-Locator`` header until
it is ``null``. ``SalesforceClient.query`` switches to a job when the first REST page says
the query matches more than ``bulk_threshold`` records.

CSV cells are text: an empty cell is ``None`` and a relationship column (``Account.Name``)
becomes a nested record, so the rows look like REST records to the mappers. Aggregate
queries (``GROUP BY``, ``COUNT``) cannot run as jobs and never get here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import attrs

from leadroute.logs import get_logger
from leadroute_salesforce.client import ApiError, SalesforceClient, TransientError

__all__ = ["BulkQuery", "csv_records"]

log = get_logger(__name__)

_DONE = "JobComplete"
_FAILED = frozenset({"Failed", "Aborted"})


def csv_records(text: str) -> Iterator[dict[str, Any]]:
    """Rows of a Bulk API CSV result as records (``""`` -> ``None``, ``A.B`` -> nested)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    for row in reader:
        record: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):
            value = cell if cell != "" else None
            if "." in name:
                relation, field = name.split(".", 1)
                parent = record.setdefault(relation, {})
                if isinstance(parent, dict):
                    parent[field] = value
            else:
                record[name] = value
        yield record


@attrs.define
class BulkQuery:
    """Runs one SOQL query as a Bulk API 2.0 query job and yields its records.

    Attributes:
        client: The REST client (the job's calls count against the allocation like any).
        max_records: Records per results page.
        first_wait: Seconds before the first status poll; doubles up to ``max_wait``.
        max_wait: Longest wait between polls.
        timeout: Most seconds to wait for the job; then it is aborted.
        jobs: Job ids created (for logs and tests).
    """

    client: SalesforceClient
    max_records: int = 50_000
    first_wait: float = 1.0
    max_wait: float = 30.0
    timeout: float = 1800.0
    jobs: list[str] = attrs.field(factory=list)

    def __call__(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record of ``soql``, read through a query job."""
        created = self.client.request(
            "POST",
            "jobs/query",
            json={
                "operation": "query",
                "query": soql,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        ).json()
        job_id = str(created.get("id") or "")
        if not job_id:
            raise TransientError("Salesforce created a Bulk API query job without an id")
        self.jobs.append(job_id)
        self._wait(job_id)
        yield from self._results(job_id)

    def _wait(self, job_id: str) -> None:
        waited, wait = 0.0, self.first_wait
        while True:
            job = self.client.request("GET", f"jobs/query/{job_id}").json()
            state = str(job.get("state") or "")
            if state == _DONE:
                log.info(
                    "salesforce.bulk.done", job=job_id, records=job.get("numberRecordsProcessed")
                )
                return
            if state in _FAILED:
                raise ApiError(
                    f"Salesforce Bulk API query job {job_id} {state.lower()}: "
                    f"{self.client.scrub(str(job.get('errorMessage') or 'no reason given'))}",
                    status=200,
                    code=f"BULK_JOB_{state.upper()}",
                )
            if waited >= self.timeout:
                self.client.request("PATCH", f"jobs/query/{job_id}", json={"state": "Aborted"})
                raise TransientError(
                    f"Salesforce Bulk API query job {job_id} still {state} after "
                    f"{waited:.0f} s; aborted it"
                )
            self.client.sleep(wait)
            waited += wait
            wait = min(wait * 2, self.max_wait)

    def _results(self, job_id: str) -> Iterator[dict[str, Any]]:
        locator = ""
        while True:
            params = {"maxRecords": str(self.max_records)}
            if locator:
                params["locator"] = locator
            response = self.client.request(
                "GET", f"jobs/query/{job_id}/results", params=params, headers={"Accept": "text/csv"}
            )
            yield from csv_records(response.text)
            locator = response.headers.get("Sforce-Locator", "null")
            if not locator or locator == "null":
                return
