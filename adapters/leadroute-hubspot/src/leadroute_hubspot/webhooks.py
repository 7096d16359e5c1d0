"""HubSpot webhooks: verify ``X-HubSpot-Signature-v3`` and parse contact event batches.

The signature is ``base64(HMAC-SHA256(client_secret, method + uri + body + timestamp))``
over the raw body bytes and the full URI HubSpot called, with the timestamp in
milliseconds; requests older than five minutes (or from the future beyond the same
tolerance) are refused, and signatures are compared in constant time. The HTTP endpoint
that receives the requests belongs to the service; this module is what it calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from leadroute.errors import AuthError, UserInputError
from leadroute_hubspot.auth import ENV_CLIENT_SECRET

__all__ = [
    "MAX_AGE_MS",
    "ContactEvent",
    "EventDeduplicator",
    "parse_events",
    "secret_from_env",
    "signature_v3",
    "verify_signature_v3",
]

MAX_AGE_MS = 300_000  # five minutes, in milliseconds (HubSpot's timestamps are ms)
# Milliseconds since the epoch in ASCII digits: 13 digits until the year 2286. ``str.isdigit``
# also accepts "²" and other Unicode digits, and ``int`` refuses strings past 4,300 digits,
# so the header is matched against this before it is read as a number.
_MILLIS = re.compile(r"[0-9]{1,15}")
# ``occurredAt`` within years 1970..9999, the range ``datetime`` can hold.
_MAX_OCCURRED_MS = 253_402_300_799_999
CONTACT_EVENTS = frozenset({"contact.creation", "contact.propertyChange"})
# Generic subscriptions (``object.*``) carry the object type; ``0-1`` is contacts.
OBJECT_EVENTS = frozenset({"object.creation", "object.propertyChange"})
CONTACT_TYPE_ID = "0-1"

# HubSpot signs the URI with these percent-escapes decoded (its request-validation guide).
_URI_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def secret_from_env(env: Mapping[str, str] | None = None) -> str:
    """The app's client secret (the signing key) from ``HUBSPOT_CLIENT_SECRET``."""
    secret = (os.environ if env is None else env).get(ENV_CLIENT_SECRET, "")
    if not secret:
        raise AuthError(f"webhook: set {ENV_CLIENT_SECRET} (the app's client secret) to verify")
    return secret


def _decode_uri(uri: str) -> str:
    for escaped, char in _URI_DECODE.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature HubSpot sends for a request."""
    source = method.upper().encode() + _decode_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_signature_v3(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Check a webhook request; raise ``AuthError`` naming what is wrong (never the secret).

    ``headers`` must give ``X-HubSpot-Signature-v3`` and ``X-HubSpot-Request-Timestamp``
    (looked up case-insensitively); ``body`` must be the raw bytes as received.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    signature = lower.get("x-hubspot-signature-v3", "")
    timestamp = lower.get("x-hubspot-request-timestamp", "").strip()
    if not signature or not timestamp:
        raise AuthError("webhook: missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    if not _MILLIS.fullmatch(timestamp):
        raise AuthError("webhook: X-HubSpot-Request-Timestamp is not milliseconds since the epoch")
    now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
    age = now_ms - int(timestamp)
    if age > MAX_AGE_MS:
        raise AuthError(f"webhook: timestamp is {age // 1000}s old (more than 5 minutes)")
    if age < -MAX_AGE_MS:
        raise AuthError(f"webhook: timestamp is {-age // 1000}s in the future")
    expected = signature_v3(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise AuthError("webhook: X-HubSpot-Signature-v3 does not match the request")


@attrs.frozen(kw_only=True)
class ContactEvent:
    """One contact event from a webhook batch.

    Attributes:
        event_id: HubSpot's event id (not unique by itself: see ``key``).
        subscription_type: ``contact.creation`` or ``contact.propertyChange`` (the generic
            ``object.*`` forms for contacts are read as these).
        contact_id: The contact's id.
        occurred_at: When it happened (UTC).
        property_name: For property changes, the property (``hubspot_owner_id``...).
        property_value: For property changes, the new value.
        portal_id: The portal.
        attempt: HubSpot's delivery attempt number.
        subscription_id: The app subscription that delivered it.
    """

    event_id: str
    subscription_type: str
    contact_id: str
    occurred_at: datetime
    property_name: str = ""
    property_value: str = ""
    portal_id: str = ""
    attempt: int = 0
    subscription_id: str = ""

    @property
    def key(self) -> str:
        """The de-duplication key: a digest of event id, subscription, object, time and property.

        HubSpot documents ``eventId`` as not guaranteed unique (its webhooks guide: the
        id identifies an event, and the same id can come with different subscriptions or
        objects), so a redelivery is the same event id *with* the same subscription id,
        object id, occurred-at and property name; a different one of those is another event.
        """
        parts = (
            self.event_id,
            self.subscription_id,
            self.contact_id,
            str(int(self.occurred_at.timestamp() * 1000)),
            self.property_name,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _whole(raw: Mapping[str, Any], key: str, index: int, high: int) -> int:
    """A whole number from 0 to ``high`` (a JSON integer or a string of ASCII digits)."""
    value = raw.get(key)
    if isinstance(value, str) and _MILLIS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        # Name the field, never the value: a hostile sender chooses what it says.
        raise UserInputError(f"webhook: event [{index}] is malformed ({key} is not a valid number)")
    return value


def _scalar(raw: Mapping[str, Any], key: str, index: int) -> str:
    """An id: a JSON integer or a short string, never a nested value."""
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > 64:
        raise UserInputError(f"webhook: event [{index}] is malformed ({key} is not an id)")
    return str(value)


def _text(value: Any) -> str:
    """A property name or value as text; nested JSON (never sent by HubSpot) is dropped."""
    if value is None or isinstance(value, list | dict):
        return ""
    return str(value)


def _event(raw: Mapping[str, Any], index: int) -> ContactEvent | None:
    kind = raw.get("subscriptionType")
    if isinstance(kind, str) and kind in OBJECT_EVENTS:
        if str(raw.get("objectTypeId", "")) != CONTACT_TYPE_ID:
            return None  # a company, deal or task event: not a lead
        kind = kind.replace("object.", "contact.", 1)
    if not isinstance(kind, str) or kind not in CONTACT_EVENTS:
        return None
    missing = [key for key in ("eventId", "objectId", "occurredAt") if raw.get(key) is None]
    if missing:
        raise UserInputError(f"webhook: event [{index}] is malformed (no {', '.join(missing)})")
    occurred = _whole(raw, "occurredAt", index, _MAX_OCCURRED_MS)
    return ContactEvent(
        event_id=_scalar(raw, "eventId", index),
        subscription_type=kind,
        contact_id=_scalar(raw, "objectId", index),
        occurred_at=datetime.fromtimestamp(occurred / 1000, tz=UTC),
        property_name=_text(raw.get("propertyName")),
        property_value=_text(raw.get("propertyValue")),
        portal_id=_text(raw.get("portalId")),
        attempt=_whole(raw, "attemptNumber", index, 1_000) if raw.get("attemptNumber") else 0,
        subscription_id=_scalar(raw, "subscriptionId", index)
        if raw.get("subscriptionId") is not None
        else "",
    )


def parse_events(body: bytes) -> list[ContactEvent]:
    """The contact events of a webhook body (a JSON array), other subscriptions skipped."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UserInputError("webhook: body is not JSON") from None
    except RecursionError:
        # json raises this (safely, from its recursion guard) on very deep nesting.
        raise UserInputError("webhook: body is nested too deeply") from None
    if not isinstance(data, list):
        raise UserInputError("webhook: body is not a JSON array of events")
    events = []
    for index, raw in enumerate(data):
        if not isinstance(raw, Mapping):
            raise UserInputError(f"webhook: event [{index}] is not an object")
        event = _event(raw, index)
        if event is not None:
            events.append(event)
    return events


@attrs.define
class EventDeduplicator:
    """Remembers recent events (by ``ContactEvent.key``) so a redelivered event is handled once.

    Attributes:
        capacity: How many ids to remember (oldest forgotten first).
    """

    capacity: int = 100_000
    _seen: OrderedDict[str, None] = attrs.field(factory=OrderedDict)

    def fresh(self, events: list[ContactEvent]) -> list[ContactEvent]:
        """The events not seen before, in order; marks them seen."""
        out = []
        for event in events:
            if event.key in self._seen:
                continue
            self._seen[event.key] = None
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            out.append(event)
        return out
