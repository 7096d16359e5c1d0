"""``SalesforceAdapter``: the leadroute ``Adapter`` over the Salesforce REST API."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import attrs
import httpx

from leadroute.adapters import AdapterConfig
from leadroute.errors import QuotaExhaustedError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult, InputProblem, Snapshot
from leadroute.spreadsheet import write_csv_atomic
from leadroute_salesforce.auth import Authenticator
from leadroute_salesforce.client import SalesforceClient
from leadroute_salesforce.limits import UsageGuard
from leadroute_salesforce.reading import SalesforceReader, is_user
from leadroute_salesforce.settings import Settings, load_settings
from leadroute_salesforce.tasks import TaskWriter
from leadroute_salesforce.writing import OwnerWriter, WriteFailure

__all__ = ["EXCEPTIONS_FILE", "SalesforceAdapter"]

log = get_logger(__name__)

EXCEPTIONS_FILE = "salesforce-exceptions.csv"
# After the daily allocation ran out, how long a long-lived relay waits before trying again.
QUOTA_PAUSE = timedelta(hours=1)
EXCEPTION_COLUMNS = ("source", "record_id", "kind", "field", "code", "message")


@attrs.define
class SalesforceAdapter:
    """Reads leads, users, queues and accounts; writes owners and follow-up tasks.

    Attributes:
        settings: Validated options and credentials.
        client: The REST client.
        purpose: ``route`` or ``rebalance`` (what ``read`` selects).
        reader: The snapshot reader.
        owners: The owner writer.
        tasks: The task writer.
        stopped: Set when the daily allocation ran out during ``apply``; until
            ``stopped_until`` no call is made (the allocation is a rolling 24 hours, so a
            long-lived relay probes again after ``QUOTA_PAUSE``).
        stopped_until: When the stop ends.
    """

    settings: Settings
    client: SalesforceClient
    purpose: Literal["route", "rebalance"] = "route"
    reader: SalesforceReader = attrs.field(init=False)
    owners: OwnerWriter = attrs.field(init=False)
    tasks: TaskWriter = attrs.field(init=False)
    stopped: str = ""
    stopped_until: datetime | None = None
    name: str = "salesforce"

    def __attrs_post_init__(self) -> None:
        self.reader = SalesforceReader(self.client, self.settings)
        sleep = self.client.sleep
        # Tasks need the lead type; a write relayed from an earlier run was not read this time,
        # so the read-back brings the mapped lead-type field along.
        lead_type = {
            sobject: [field]
            for sobject, kind in (("Lead", "leads"), ("Contact", "contacts"))
            if (field := self.settings.fields.of(kind).get("lead_type"))
        }
        self.owners = OwnerWriter(
            self.client,
            lock_retries=self.settings.lock_retries,
            sleep=sleep,
            read_back_fields=lead_type if self.settings.tasks.enabled else {},
            write_fields=self.settings.write_fields,
        )
        self.tasks = TaskWriter(
            self.client, self.settings.tasks, lock_retries=self.settings.lock_retries, sleep=sleep
        )

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        purpose: Literal["route", "rebalance"] = "route",
        sleep: Callable[[float], None] | None = None,
    ) -> SalesforceAdapter:
        """Wire the client (an injected ``httpx.Client``, or one with the settings' timeout)."""
        http = http or httpx.Client(timeout=settings.timeout, follow_redirects=False)
        wait = sleep or time.sleep
        auth = Authenticator(http, settings.grant, domains=settings.allowed_domains, sleep=wait)
        guard = UsageGuard(slow_down_at=settings.slow_down_at, reserve=settings.reserve, sleep=wait)
        client = SalesforceClient(
            http, auth, api_version=settings.api_version, guard=guard, sleep=wait
        )
        return cls(settings=settings, client=client, purpose=purpose)

    @classmethod
    def from_config(cls, config: AdapterConfig) -> SalesforceAdapter:
        """Build from the policy's ``adapters.salesforce`` table and the environment."""
        settings = attrs.evolve(
            load_settings(config.options, workdir=config.workdir, env=os.environ),
            number_ranges=config.policy.validation.number_ranges,
        )
        return cls.build(settings, purpose=config.purpose)

    @property
    def exceptions_path(self) -> Path:
        """Where the exception report is written."""
        return self.settings.output_dir / EXCEPTIONS_FILE

    # ----------------------------------------------------------------- Adapter

    def read(self) -> Snapshot:
        """Users, queues, accounts and the leads this run's purpose needs."""
        return self.reader.read(self.purpose)

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Write owners (and follow-up tasks); one result per effect, in order."""
        if self.stopped and self.stopped_until and self.reader.clock() < self.stopped_until:
            # Asked again before the pause is over: stop without another call.
            raise QuotaExhaustedError(self.stopped)
        if self.stopped:
            # The pause is over: forget the last reading, so the next call finds out.
            self.stopped, self.stopped_until = "", None
            self.client.guard.latest = None
        results: dict[str, EffectResult] = {}
        owner_writes = [e for e in effects if e.kind == "owner_write"]
        for effect in effects:
            if effect.kind != "owner_write":
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key,
                    ok=False,
                    detail=f"salesforce adapter does not handle {effect.kind!r} effects",
                )
        try:
            self.owners.write(owner_writes, results)
            if self.settings.tasks.enabled:
                self._create_tasks(owner_writes, results)
        except QuotaExhaustedError as exc:
            self.stopped = str(exc)
            self.stopped_until = self.reader.clock() + QUOTA_PAUSE
            log.warning("salesforce.limit.stopped", detail=str(exc))
            self._checkpoint(owner_writes, results, str(exc))
        return [results[e.idem_key] for e in effects]

    def _checkpoint(
        self, effects: Sequence[Effect], results: dict[str, EffectResult], why: str
    ) -> None:
        """After the limit cut a batch short: what is complete is done, the rest waits.

        What waits gets the core's quota verdict: it stays pending without spending an
        attempt, and the run exits 4. An owner write counts as done only if its follow-up
        task exists too (when tasks are on): otherwise it stays pending, and sending it
        again later is harmless (the same owner, the same task key).
        """
        accepted = {e.idem_key for e in self.owners.written} | set(self.owners.skipped)
        tasked = self.tasks.done | set(self.owners.skipped) | self.tasks.skipped
        for effect in effects:
            key = effect.idem_key
            previous = results.get(key)
            if previous is not None and not previous.ok:
                continue
            if previous is not None and previous.detail.startswith("superseded"):
                continue
            complete = key in accepted and (not self.settings.tasks.enabled or key in tasked)
            results[key] = (
                attrs.evolve(previous, ok=True)
                if complete and previous is not None
                else EffectResult(
                    idem_key=key, ok=complete, quota=not complete, detail="" if complete else why
                )
            )

    def _create_tasks(self, effects: Sequence[Effect], results: dict[str, EffectResult]) -> None:
        items = []
        for effect in effects:
            result = results.get(effect.idem_key)
            if result is None or not result.ok or result.detail.startswith("superseded"):
                continue
            if effect.idem_key in self.owners.skipped:
                continue  # converted before the write: its owner is no longer ours to follow up
            owner = result.observed_owner or str(effect.payload["owner_id"])
            lead_id = str(effect.payload.get("lead_id") or effect.lead_id)
            if not is_user(owner):
                # Something moved the lead to a queue after our write. A Task must be owned by
                # a user (queues own only leads, cases and custom objects), and the user we
                # chose no longer owns the lead: no task, and say why.
                self.tasks.skip(
                    effect,
                    WriteFailure(
                        record_id=lead_id,
                        code="TASK_OWNER_NOT_A_USER",
                        message=f"no follow-up task: after the owner write the lead is owned "
                        f"by {owner}, not a user (an assignment rule or automation moved it)",
                        what="task",
                    ),
                )
                continue
            lead_type = str(effect.payload.get("lead_type") or "") or self._lead_type(lead_id)
            items.append((effect, owner, lead_type))
        for key, outcome in self.tasks.create(items).items():
            if outcome.ok:
                continue
            previous = results[key]
            if outcome.retryable:
                # Sending the owner again is harmless and brings the task with it.
                results[key] = attrs.evolve(
                    previous, ok=False, retryable=True, detail=f"follow-up task: {outcome.detail}"
                )
            else:
                results[key] = attrs.evolve(
                    previous, detail=f"owner written; follow-up task refused: {outcome.detail}"
                )

    def _lead_type(self, lead_id: str) -> str:
        if lead_id in self.reader.lead_types:
            return self.reader.lead_types[lead_id]
        record = self.owners.seen.get(lead_id, {})
        fields = self.owners.read_back_fields.get(str(record.get("attributes", {}).get("type")), [])
        return str(record.get(fields[0]) or "") if fields else ""

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        """Write the exception report: the core's rows plus follow-up tasks Salesforce refused.

        Refused owner writes reach the core as failed effects and come back in
        ``problems``; a refused task does not fail its owner write, so only the adapter
        knows about it.
        """
        rows: list[Sequence[object]] = [
            (p.file, p.record_id, p.kind, p.field, p.code, p.message) for p in problems
        ]
        rows += [
            ("salesforce:write:task", f.record_id, "lead", "Task", f.code, f.message)
            for f in self.tasks.failures
        ]
        rows += [
            (
                "salesforce:write:owner",
                f.record_id,
                "lead",
                "OwnerId",
                f.code,
                "not written: the lead was converted before the owner write, so it is no "
                "longer routed",
            )
            for f in self.owners.skipped.values()
        ]
        write_csv_atomic(self.exceptions_path, EXCEPTION_COLUMNS, rows)
        log.info("salesforce.exceptions_written", rows=len(rows))
