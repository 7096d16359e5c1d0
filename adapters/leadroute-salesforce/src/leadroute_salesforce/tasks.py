"""Follow-up tasks for the new owner, created so that a retry or a restart cannot duplicate.

Each task is upserted by an External ID field on Task (``Leadroute_Key__c`` by default,
created once by the admin: Text(36), External ID, Unique). Its value is
``Effect.key_for(decision_id, "task")``: the same decision always yields the same key, so
sending the task again (after a timeout whose outcome we never saw, after a crash before
the outbox was marked) updates the one task instead of adding a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import attrs

from leadroute.logs import get_logger
from leadroute.models import Effect
from leadroute_salesforce.client import ApiError, SalesforceClient, TransientError
from leadroute_salesforce.limits import RECORD, Action, classify
from leadroute_salesforce.settings import TaskSettings
from leadroute_salesforce.writing import COLLECTION_SIZE, WriteFailure, first_error

__all__ = ["TaskOutcome", "TaskWriter", "task_key", "task_record"]

log = get_logger(__name__)


@attrs.frozen(kw_only=True)
class TaskOutcome:
    """What happened to one follow-up task.

    Attributes:
        ok: Created or already there.
        retryable: Worth sending again later (the owner effect is then retried too).
        detail: Salesforce's message when not ok.
    """

    ok: bool
    retryable: bool = False
    detail: str = ""


def task_key(effect: Effect) -> str:
    """The task's external id: deterministic per decision."""
    return Effect.key_for(effect.decision_id, "task")


def task_record(
    effect: Effect, owner_id: str, lead_type: str, settings: TaskSettings
) -> dict[str, object]:
    """The Task fields: WhoId, OwnerId, Subject, ActivityDate (a date), Status, Priority.

    ``ActivityDate`` is the decision's SLA deadline when the policy sets one (the date it
    falls on, in UTC), else the decision's date plus ``due_in_days``.
    """
    due = _due_date(effect.payload, settings.due_in_days)
    reason = str(effect.payload.get("reason") or "")
    return {
        "attributes": {"type": "Task"},
        settings.external_id_field: task_key(effect),
        "WhoId": str(effect.payload.get("lead_id") or effect.lead_id),
        "OwnerId": owner_id,
        "Subject": settings.subject,
        "ActivityDate": due.isoformat(),
        "Status": settings.status,
        "Priority": settings.priority_for(lead_type),
        "Description": f"Routed by leadroute: {reason}"[:32000],
    }


def _when(raw: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw)).astimezone(UTC) if raw else None
    except ValueError:
        return None


def _due_date(payload: Mapping[str, object], due_in_days: int) -> date:
    sla = _when(payload.get("sla_due_at"))
    if sla is not None:
        return sla.date()
    decided = _when(payload.get("decided_at")) or datetime.now(UTC)
    return (decided + timedelta(days=due_in_days)).date()


@attrs.define
class TaskWriter:
    """Upserts follow-up tasks in collections of at most 200.

    Attributes:
        client: The REST client.
        settings: Task settings.
        lock_retries: Extra rounds for tasks that hit a row lock.
        sleep: How to wait between rounds.
        failures: Tasks refused for good during this run.
        done: Idempotency keys whose task exists (kept if a call is cut short by the limit).
        skipped: Idempotency keys whose task was deliberately not created (listed in
            ``failures`` with the reason).
    """

    client: SalesforceClient
    settings: TaskSettings
    lock_retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    failures: list[WriteFailure] = attrs.field(factory=list)
    done: set[str] = attrs.field(factory=set)
    skipped: set[str] = attrs.field(factory=set)

    def skip(self, effect: Effect, why: WriteFailure) -> None:
        """Record that an effect gets no task, and why (for the exception report)."""
        self.skipped.add(effect.idem_key)
        self.failures.append(why)
        log.info("salesforce.task.skipped", lead_id=why.record_id, code=why.code)

    def create(self, items: Sequence[tuple[Effect, str, str]]) -> dict[str, TaskOutcome]:
        """Upsert one task per ``(effect, owner_id, lead_type)``; outcomes by idempotency key."""
        outcomes: dict[str, TaskOutcome] = {}
        pending = list(items)
        for round_number in range(self.lock_retries + 1):
            locked = []
            for start in range(0, len(pending), COLLECTION_SIZE):
                part = pending[start : start + COLLECTION_SIZE]
                locked += self._send(part, outcomes, last=round_number == self.lock_retries)
            if not locked:
                break
            self.sleep(min(2.0**round_number, 8.0))
            pending = locked
        return outcomes

    def _send(
        self,
        part: Sequence[tuple[Effect, str, str]],
        outcomes: dict[str, TaskOutcome],
        *,
        last: bool,
    ) -> list[tuple[Effect, str, str]]:
        records = [task_record(e, owner, kind, self.settings) for e, owner, kind in part]
        try:
            saved = self.client.upsert_collection("Task", self.settings.external_id_field, records)
        except TransientError as exc:
            for effect, _, _ in part:
                outcomes[effect.idem_key] = TaskOutcome(ok=False, retryable=True, detail=str(exc))
            return []
        except ApiError as exc:
            # Most often the external id field is missing or not visible to the integration
            # user: every task fails the same way, so say what to fix once per chunk.
            detail = f"{exc} (is {self.settings.external_id_field} an External ID field on Task?)"
            log.warning("salesforce.task.refused_request", tasks=len(part), error=str(exc))
            for (effect, _, _), record in zip(part, records, strict=True):
                outcomes[effect.idem_key] = TaskOutcome(ok=False, detail=detail)
                self.failures.append(
                    WriteFailure(
                        record_id=str(record["WhoId"]), code=exc.code, message=detail, what="task"
                    )
                )
            return []
        locked = []
        for item, result in zip(part, saved, strict=True):
            effect = item[0]
            if result.get("success") is True:
                outcomes[effect.idem_key] = TaskOutcome(ok=True)
                self.done.add(effect.idem_key)
                continue
            error = first_error(result)
            code, message = error.code, error.message
            action = classify(RECORD, code, message)
            if action is Action.RETRY and not last:
                locked.append(item)
                continue
            retryable = action in (Action.RETRY, Action.STOP)
            outcomes[effect.idem_key] = TaskOutcome(
                ok=False, retryable=retryable, detail=f"{code}: {message}"
            )
            if not retryable:
                self.failures.append(
                    WriteFailure(
                        record_id=str(records[part.index(item)]["WhoId"]),
                        code=code,
                        message=message,
                        what="task",
                    )
                )
            log.info("salesforce.task.refused", lead_id=effect.lead_id, code=code)
        return locked
