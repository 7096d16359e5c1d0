"""Write owners back: sObject Collections, per-record results, lock retries, read-back.

Owner updates go out in collections of at most 200 with ``allOrNone=false``,
``Sforce-Auto-Assign: FALSE`` (without it an active lead assignment rule may override the
owner we set) and ``Sforce-Duplicate-Rule-Header: allowSave=true`` (changing an owner
creates no duplicate, so an alert-only duplicate rule must not stop it). A 200 answer is
never taken as "all succeeded": each SaveResult is read and classified by the one table in
``limits``:

* owner refusals (``INACTIVE_OWNER_OR_USER``, ``TRANSFER_REQUIRES_READ``, no access to
  the owner, no Lead licence) -> ``reroute``: the core decides the lead again without them;
* ``UNABLE_TO_LOCK_ROW`` -> the record is sent again (``lock_retries`` rounds), then
  ``retryable``;
* ``CANNOT_UPDATE_CONVERTED_LEAD`` -> done, nothing written: the lead was converted since
  the read, so it is no longer routed (the owner Salesforce holds is read back and
  reported as the observed owner; no follow-up task);
* ``DUPLICATES_DETECTED`` (a blocking rule) and anything else (validation rules, deleted
  records) -> not retryable, with Salesforce's message (and the matching records), so it
  lands in the exception report.

Then the written leads are read back; an owner other than the one written (a trigger, a
flow, a rule that ignored the header) is returned as ``observed_owner``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult
from leadroute_salesforce.client import ApiError, SalesforceClient, TransientError
from leadroute_salesforce.limits import RECORD, Action, classify
from leadroute_salesforce.soql import Query, Where, chunks

__all__ = [
    "COLLECTION_SIZE",
    "WRITE_HEADERS",
    "OwnerWriter",
    "SaveError",
    "WriteFailure",
    "fact_value",
    "first_error",
    "sobject_of",
]

log = get_logger(__name__)

COLLECTION_SIZE = 200  # Salesforce's maximum per sObject Collections request
AUTO_ASSIGN_OFF = {"Sforce-Auto-Assign": "FALSE"}
# REST API Developer Guide, "Duplicate Rule Header": allowSave bypasses alert-only rules.
WRITE_HEADERS = {**AUTO_ASSIGN_OFF, "Sforce-Duplicate-Rule-Header": "allowSave=true"}
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


@attrs.frozen(kw_only=True)
class SaveError:
    """The first error of a SaveResult.

    Attributes:
        code: ``statusCode``.
        message: Salesforce's message.
        fields: Fields the error names.
        matches: For ``DUPLICATES_DETECTED``, the ids of the records the rule matched.
    """

    code: str
    message: str
    fields: tuple[str, ...] = ()
    matches: tuple[str, ...] = ()

    @property
    def detail(self) -> str:
        """``CODE: message``, with the duplicate rule's matches when there are any."""
        text = f"{self.code}: {self.message}"
        return f"{text} (matches {', '.join(self.matches)})" if self.matches else text


def first_error(result: Mapping[str, Any]) -> SaveError:
    """The first error of a SaveResult, read defensively (every key may be missing)."""
    errors = result.get("errors") or []
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, Mapping):
        first = {}
    fields = first.get("fields") or []
    duplicates = first.get("duplicateResult") or {}
    matches: list[str] = []
    if isinstance(duplicates, Mapping):
        for match in duplicates.get("matchResults") or []:
            for record in (match or {}).get("matchRecords") or []:
                found = ((record or {}).get("record") or {}).get("Id")
                if found:
                    matches.append(str(found))
    return SaveError(
        code=str(first.get("statusCode") or "UNKNOWN"),
        message=str(first.get("message") or ""),
        fields=tuple(str(f) for f in fields) if isinstance(fields, list) else (),
        matches=tuple(dict.fromkeys(matches)),
    )


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
        skipped: Effects that needed no write (the lead was converted), from the last ``write``.
    """

    client: SalesforceClient
    lock_retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    failures: list[WriteFailure] = attrs.field(factory=list)
    written: list[Effect] = attrs.field(factory=list)
    read_back_fields: Mapping[str, Sequence[str]] = attrs.field(factory=dict)
    write_fields: Mapping[str, str] = attrs.field(factory=dict)
    seen: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    skipped: dict[str, WriteFailure] = attrs.field(factory=dict)

    def write(
        self, effects: Sequence[Effect], results: dict[str, EffectResult]
    ) -> dict[str, EffectResult]:
        """Write every effect's owner into ``results`` (by idempotency key) and return it.

        ``results`` is filled as answers arrive, and ``written`` lists the records Salesforce
        accepted, so a caller interrupted by the daily limit still knows what was done.
        """
        self.written = []
        self.skipped = {}
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
        skipped = [e for e in latest.values() if e.idem_key in self.skipped]
        results.update(self._read_back([*written, *skipped]))
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
            saved = self.client.update_collection(records, headers=WRITE_HEADERS)
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
            error = first_error(result)
            code, message, detail = error.code, error.message, error.detail
            action = classify(RECORD, code, message, error.fields)
            if action is Action.RETRY and not last:
                locked.append(effect)
                continue
            if action is Action.SKIP:
                self.skipped[effect.idem_key] = WriteFailure(
                    record_id=_lead(effect), code=code, message=message
                )
                log.info("salesforce.write.skipped", lead_id=_lead(effect), code=code)
                continue
            if action is Action.REROUTE:
                outcome = EffectResult(
                    idem_key=effect.idem_key, ok=False, reroute=True, detail=detail
                )
            elif action is Action.STOP:
                # The allocation ran out between records: not this record's fault, no attempt.
                outcome = EffectResult(
                    idem_key=effect.idem_key, ok=False, quota=True, detail=detail
                )
            elif action is Action.RETRY:
                outcome = EffectResult(
                    idem_key=effect.idem_key, ok=False, retryable=True, detail=detail
                )
            else:
                outcome = EffectResult(idem_key=effect.idem_key, ok=False, detail=detail)
                self.failures.append(
                    WriteFailure(record_id=_lead(effect), code=code, message=detail)
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
                skipped = self.skipped.get(effect.idem_key)
                if skipped is not None:
                    detail = f"not written: the lead was converted first ({skipped.code})"
                elif seen != wanted:
                    log.warning(
                        "salesforce.owner.overridden",
                        lead_id=_lead(effect),
                        rep_id=wanted,
                        observed_owner=seen,
                    )
                    detail = f"owner changed to {seen} after the write"
                else:
                    detail = ""
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key,
                    ok=True,
                    observed_owner=seen if seen != wanted else "",
                    detail=detail,
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
