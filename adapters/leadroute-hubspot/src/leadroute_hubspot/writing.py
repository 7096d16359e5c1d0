"""Writing owners back: batch update (100 per call), read per record, never trusting a 200 or 207.

A batch answer says per input what happened. A record named in ``errors`` failed: a
refusal of ``hubspot_owner_id`` means the owner cannot take records any more (deactivated
since the decision), so the core re-routes the lead; a rate limit or server error is
retried later; anything else is dead with HubSpot's reason. A whole batch refused with
one 400 (HubSpot's usual answer to one bad input) is split in halves until the bad record
is alone. A record missing from both ``results`` and ``errors`` is sent once more in the
same call, then counted as a retryable attempt (dead after the relay's five, in the
exception report). A record whose returned owner differs from the
one written was changed by something else (a synchronous rule): its owner is reported
back; workflows act later and are caught by reading the owner back (``recheck_owners``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult
from leadroute_hubspot.client import HubSpotClient, Rejected

__all__ = ["BATCH_LIMIT", "OwnerWriter", "is_owner_refusal"]

log = get_logger(__name__)

BATCH_LIMIT = 100  # HubSpot's maximum inputs per batch call
OWNER = "hubspot_owner_id"
RETRYABLE_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "LOCKED"})


def is_owner_refusal(error: Mapping[str, Any]) -> bool:
    """Whether a batch error says the owner value itself is unacceptable (not the record)."""
    context = error.get("context") or {}
    named = [str(p) for p in context.get("propertyName", []) or []]
    named += [str(e.get("in", "")) for e in error.get("errors", []) or []]
    return OWNER in named or (
        OWNER in str(error.get("message", "")) and error.get("category") == "VALIDATION_ERROR"
    )


def _ids(error: Mapping[str, Any]) -> list[str]:
    context = error.get("context") or {}
    return [str(i) for i in context.get("ids", []) or []]


@attrs.define
class OwnerWriter:
    """Applies ``owner_write`` effects to contacts.

    Attributes:
        client: The HubSpot client.
        on_routed: Extra properties written when a rep owns the lead.
        on_fallback: Extra properties written when the lead went to the fallback queue.
        refused_owners: Owners known not to take records (archived, queues) at read time.
    """

    client: HubSpotClient
    on_routed: Mapping[str, str] = attrs.field(factory=dict)
    on_fallback: Mapping[str, str] = attrs.field(factory=dict)
    refused_owners: Mapping[str, str] = attrs.field(factory=dict)

    def properties(self, effect: Effect) -> dict[str, str]:
        """The contact properties one effect writes."""
        extra = self.on_fallback if effect.payload.get("status") == "fallback" else self.on_routed
        return {**extra, OWNER: str(effect.payload["owner_id"])}

    def apply(self, effects: Sequence[Effect]) -> dict[str, EffectResult]:
        """One result per effect, by idempotency key."""
        results: dict[str, EffectResult] = {}
        writable: list[Effect] = []
        for effect in effects:
            owner = str(effect.payload.get("owner_id", ""))
            why = self.refused_owners.get(owner)
            if why:
                results[effect.idem_key] = EffectResult(
                    idem_key=effect.idem_key, ok=False, reroute=True, detail=why
                )
            else:
                writable.append(effect)
        # The latest decision per contact wins inside one call: HubSpot rejects duplicate ids.
        for start in range(0, len(writable), BATCH_LIMIT):
            chunk = writable[start : start + BATCH_LIMIT]
            try:
                results |= self._batch(chunk)
            except AuthError:
                raise  # credentials are gone: the run stops, the outbox keeps every write
            except (QuotaExhaustedError, RateLimitedError) as exc:
                # A spent quota is not the records' fault: no attempt is charged, the run
                # stops writing (exit 4) and every write not yet confirmed stays pending.
                log.warning("hubspot.write_stopped", error=str(exc), left=len(writable) - start)
                for effect in writable[start:]:
                    results[effect.idem_key] = EffectResult(
                        idem_key=effect.idem_key, ok=False, quota=True, detail=str(exc)
                    )
                break
            except AdapterError as exc:
                # Server errors that outlasted the retries: an attempt, tried again next pass.
                log.warning("hubspot.write_failed", error=str(exc), records=len(chunk))
                for effect in chunk:
                    results[effect.idem_key] = EffectResult(
                        idem_key=effect.idem_key, ok=False, retryable=True, detail=str(exc)
                    )
        return results

    def _batch(self, chunk: Sequence[Effect], *, resend: int = 1) -> dict[str, EffectResult]:
        by_contact: dict[str, Effect] = {}
        out: dict[str, EffectResult] = {}
        for effect in chunk:
            contact = str(effect.payload.get("lead_id") or effect.lead_id)
            earlier = by_contact.get(contact)
            if earlier is not None:
                out[earlier.idem_key] = EffectResult(
                    idem_key=earlier.idem_key, ok=True, detail="superseded by a later decision"
                )
            by_contact[contact] = effect
        response = self.client.request(
            "POST",
            self.client.objects("contacts") + "/batch/update",
            json={
                "inputs": [
                    {"id": contact, "properties": self.properties(effect)}
                    for contact, effect in by_contact.items()
                ]
            },
        )
        if isinstance(response, Rejected):
            # The whole call was refused (e.g. one invalid option fails the batch): split
            # it so one bad record does not hold back the others.
            if len(by_contact) > 1:
                items = list(by_contact.values())
                half = len(items) // 2
                return (
                    out
                    | self._batch(items[:half], resend=resend)
                    | self._batch(items[half:], resend=resend)
                )
            [effect] = by_contact.values()
            error = {"category": response.category, "message": response.message, **response.body}
            return out | {effect.idem_key: _failure(effect, error)}
        body = response.json()
        for error in body.get("errors", []) or []:
            for contact in _ids(error):
                failed = by_contact.get(contact)
                if failed is not None:
                    out[failed.idem_key] = _failure(failed, error)
        for record in body.get("results", []) or []:
            done = by_contact.get(str(record.get("id")))
            if done is None or done.idem_key in out:
                continue  # an error for the same record wins over a result
            held = str((record.get("properties") or {}).get(OWNER) or "")
            written = str(done.payload["owner_id"])
            out[done.idem_key] = EffectResult(
                idem_key=done.idem_key,
                ok=True,
                observed_owner=held if held and held != written else "",
            )
        unmentioned = [e for e in by_contact.values() if e.idem_key not in out]
        if unmentioned and resend > 0:
            # Named in neither results nor errors: send those once more in this call; what
            # stays unmentioned is a retryable attempt, dead after the relay's five.
            out |= self._batch(unmentioned, resend=resend - 1)
        for effect in unmentioned:
            out.setdefault(
                effect.idem_key,
                EffectResult(
                    idem_key=effect.idem_key,
                    ok=False,
                    retryable=True,
                    detail="HubSpot's batch answer did not mention this contact (sent twice)",
                ),
            )
        log.info(
            "hubspot.owners_written",
            sent=len(by_contact),
            ok=sum(r.ok for r in out.values()),
            status=response.status_code,
        )
        return out


def _failure(effect: Effect, error: Mapping[str, Any]) -> EffectResult:
    category = str(error.get("category") or "")
    detail = f"{category or 'error'}: {error.get('message', '')}".strip()
    if is_owner_refusal(error):
        return EffectResult(idem_key=effect.idem_key, ok=False, reroute=True, detail=detail)
    return EffectResult(
        idem_key=effect.idem_key,
        ok=False,
        retryable=category in RETRYABLE_CATEGORIES,
        detail=detail,
    )
