"""Write owners back: sObject Collections, per-record results, lock retries, read-back.

Owner updates go out in collections of at most 200 with ``allOrNone=false`` and
``Sforce-Auto-Assign: FALSE`` (without it an active lead assignment rule may override the
owner we set). A 200 answer is never taken as "all succeeded": each SaveResult is read
and classified by the one table in ``limits``:

* ``INACTIVE_OWNER_OR_USER`` -> ``reroute``: the core decides the lead again without them;
* ``UNABLE_TO_LOCK_ROW`` -> the record is sent again (``lock_retries`` rounds), then
  ``retryable``;
* anything else (validation rules, deleted records) -> not retryable, with Salesforce's
  message, so it lands in the exception report.

Then the written leads are read back; an owner other than the one written (a trigger, a
flow, a rule that ignored the header) is returned as ``observed_owner``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import structlog

from leadroute.models import Effect, EffectResult
from leadroute_salesforce.client import ApiError, SalesforceClient, TransientError
from leadroute_salesforce.limits import RECORD, Action, classify
from leadroute_salesforce.soql import Query, Where, chunks

__all__ = ["COLLECTION_SIZE", "OwnerWriter", "WriteFailure", "fact_value", "sobject_of"]

log = structlog.get_logger(__name__)

COLLECTION_SIZE = 200  # Salesforce's maximum per sObject Collections request
AUTO_ASSIGN_OFF = {"Sforce-Auto-Assign": "FALSE"}
SOBJECTS = {"00Q": "Lead", "003": "Contact"}


def sobject_of(record_id: str) -> str:
    """``Lead`` or ``Contact`` by key prefix, ``""`` for anything else."""
    return SOBJECTS.get(record_id[:3], "")


@attrs.frozen(kw_only=True)
class WriteFailure:
    """A record Salesforce refused for good, for the exception report.

    Attributes:
        record_id: The lead or contact.
        code: Salesforce's ``statusCode``.
        message: Salesforce's message.
        what: ``owner`` or ``task``.
    """

    record_id: str
    code: str
    message: str
    what: str = "owner"


def _first_error(result: Mapping[str, Any]) -> tuple[str, str]:
    errors = result.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], Mapping) else {}
    return str(first.get("statusCode") or "UNKNOWN"), str(first.get("message") or "")


@attrs.define
class OwnerWriter:
    """Writes owner effects and reports one ``EffectResult`` per effect.

    Attributes:
        client: The REST client.
        lock_retries: Extra rounds for records that hit a row lock.
        sleep: How to wait between lock rounds.
        failures: Records refused for good during this run.
        written: Effects Salesforce accepted in the last ``write``.
        read_back_fields: Extra fields to read back per sObject (the lead type for tasks).
        write_fields: Decision facts written with the owner (payload key -> field).
        seen: Read-back records by id, from the last ``write``.
    """

    client: SalesforceClient
    lock_retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    failures: list[WriteFailure] = attrs.field(factory=list)
    written: list[Effect] = attrs.field(factory=list)
    read_back_fields: Mapping[str, Sequence[str]] = attrs.field(factory=dict)
    write_fields: Mapping[str, str] = attrs.field(factory=dict)
    seen: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    def write(
        self, effects: Sequence[Effect], results: dict[str, EffectResult]
    ) -> dict[str, EffectResult]:
        """Write every effect's owner into ``results`` (by idempotency key) and return it.

        ``results`` is filled as answers arrive, and ``written`` lists the records Salesforce
        accepted, so a caller interrupted by the daily limit still knows what was done.
        """
        self.written = []
        latest: dict[str, Effect] = {}
        for effect in effects:
            lead_id = str(effect.payload.get("lead_id") or effect.lead_id)
            if not sobject_of(lead_id):
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key,
                    ok=False,
                    detail=f"{lead_id!r} is not a Salesforce lead or contact id",
                )
                continue
            previous = latest.get(lead_id)
            if previous is not None:
                # An older epoch's write still pending: the newer decision supersedes it.
                results[previous.idem_key] = EffectResult(
                    idem_key=previous.idem_key, ok=True, detail="superseded by a newer decision"
                )
            latest[lead_id] = effect
        pending = list(latest.values())
        written = self.written
        for round_number in range(self.lock_retries + 1):
            locked: list[Effect] = []
            for chunk in _by_sobject_chunks(pending):
                self._send(chunk, results, written, locked, last=round_number == self.lock_retries)
            if not locked:
                break
            log.info("salesforce.write.lock_retry", records=len(locked), round=round_number + 1)
            self.sleep(min(2.0**round_number, 8.0))
            pending = locked
        results.update(self._read_back(written))
        return results

    def _send(
        self,
        chunk: Sequence[Effect],
        results: dict[str, EffectResult],
        written: list[Effect],
        locked: list[Effect],
        *,
        last: bool,
    ) -> None:
        records = [
            {
                "attributes": {"type": sobject_of(_lead(e))},
                "id": _lead(e),
                "OwnerId": str(e.payload["owner_id"]),
                **{
                    sf_field: fact_value(key, e.payload.get(key))
                    for key, sf_field in self.write_fields.items()
                },
            }
            for e in chunk
        ]
        try:
            saved = self.client.update_collection(records, headers=AUTO_ASSIGN_OFF)
        except TransientError as exc:
            for effect in chunk:
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key, ok=False, retryable=True, detail=str(exc)
                )
            return
        except ApiError as exc:
            # The request itself was refused (a field or permission problem): no record of
            # this chunk was written, and sending it again will not help.
            log.warning("salesforce.write.refused_request", records=len(chunk), error=str(exc))
            for effect in chunk:
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key, ok=False, detail=str(exc)
                )
                self.failures.append(
                    WriteFailure(record_id=_lead(effect), code=exc.code, message=str(exc))
                )
            return
        for effect, result in zip(chunk, saved, strict=True):
            if result.get("success") is True:
                written.append(effect)
                continue
            code, message = _first_error(result)
            action = classify(RECORD, code, message)
            detail = f"{code}: {message}"
            if action is Action.RETRY and not last:
                locked.append(effect)
                continue
            if action is Action.REROUTE:
                outcome = EffectResult(
                    idem_key=effect.idem_key, ok=False, reroute=True, detail=detail
                )
            elif action in (Action.RETRY, Action.STOP):
                outcome = EffectResult(
                    idem_key=effect.idem_key, ok=False, retryable=True, detail=detail
                )
            else:
                outcome = EffectResult(idem_key=effect.idem_key, ok=False, detail=detail)
                self.failures.append(
                    WriteFailure(record_id=_lead(effect), code=code, message=message)
                )
            log.info(
                "salesforce.write.refused",
                lead_id=_lead(effect),
                code=code,
                action=str(action),
            )
            results[effect.idem_key] = outcome

    def _read_back(self, written: Sequence[Effect]) -> dict[str, EffectResult]:
        """Success results, with ``observed_owner`` where the owner is not the one written."""
        results: dict[str, EffectResult] = {}
        by_type: dict[str, list[Effect]] = {}
        for effect in written:
            by_type.setdefault(sobject_of(_lead(effect)), []).append(effect)
        for sobject, effects in by_type.items():
            owners: dict[str, str] = {}
            ids = [_lead(e) for e in effects]
            try:
                for part in chunks(ids, COLLECTION_SIZE):
                    query = Query(
                        sobject=sobject,
                        fields=["Id", "OwnerId", *self.read_back_fields.get(sobject, ())],
                        where=[Where("Id", "IN", list(part))],
                    )
                    for record in self.client.query(query.render()):
                        owners[str(record["Id"])] = str(record.get("OwnerId") or "")
                        self.seen[str(record["Id"])] = record
            except TransientError as exc:
                # The writes happened; only the check is missing. Say so, do not fail them.
                log.warning("salesforce.read_back.failed", records=len(ids), error=str(exc))
            for effect in effects:
                wanted = str(effect.payload["owner_id"])
                seen = owners.get(_lead(effect), wanted)
                if seen != wanted:
                    log.warning(
                        "salesforce.owner.overridden",
                        lead_id=_lead(effect),
                        rep_id=wanted,
                        observed_owner=seen,
                    )
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key,
                    ok=True,
                    observed_owner=seen if seen != wanted else "",
                    detail=f"owner changed to {seen} after the write" if seen != wanted else "",
                )
        return results


def fact_value(key: str, value: Any) -> Any:
    """A decision fact as Salesforce takes it: ``null`` for empty, numbers as numbers."""
    if value is None or value == "":
        return None
    if key in {"score", "priority"}:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return int(number) if number.is_integer() and key == "priority" else number
    return str(value)


def _lead(effect: Effect) -> str:
    return str(effect.payload.get("lead_id") or effect.lead_id)


def _by_sobject_chunks(effects: Sequence[Effect]) -> list[list[Effect]]:
    """Chunks of at most 200, one sObject type each (mixed types cost extra chunks)."""
    groups: dict[str, list[Effect]] = {}
    for effect in effects:
        groups.setdefault(sobject_of(_lead(effect)), []).append(effect)
    return [
        list(part)
        for group in groups.values()
        for part in (group[i : i + COLLECTION_SIZE] for i in range(0, len(group), COLLECTION_SIZE))
    ]
