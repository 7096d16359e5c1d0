"""Redacting secrets and personal data from free text: log lines, error lines, stored errors.

One set of patterns serves every place text leaves leadroute or is kept by it: the log
processor (``leadroute.cli.logs``), every one-line CLI error, adapters' error messages
(which may quote a CRM's answer, and a CRM or a proxy in front of it may echo the request),
and error text kept in the store (``outbox.last_error``, problem messages).

What is masked:

* credentials: ``Bearer ...``, HubSpot private-app tokens (``pat-...``), Salesforce session
  ids (``00D...!...``), JSON Web Tokens, and any exact secret value passed in;
* personal data: email addresses and phone numbers (``+49 30 1234567``, ``(415) 555-0134``,
  ``415-555-0134``, ``+14155550134``).

Phone numbers are recognised by shape, so a bare run of digits (a CRM record id such as
``65059681032``) is left alone, as are dates, times, versions and decimal numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from leadroute.models import Lead

__all__ = ["REDACTED", "mask_lead_text", "redact_text", "redact_values"]

REDACTED = "[redacted]"

_SECRET = re.compile(
    r"Bearer\s+\S+"
    r"|pat-[a-z0-9-]{8,}"
    r"|00D\w{12,15}![\w.]+"
    r"|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A phone number: an international number (+ and 7 to 15 digits, separators allowed), or
# a national one written in groups: an area code in parentheses, or three or more groups
# (415-555-0134, 030 1234 5678, 0151 2345 6789). Never inside a longer word or number.
_PHONE = re.compile(
    r"(?<![\w+])\+\d(?:[\s.()-]{0,2}\d){6,14}(?!\w)"
    r"|(?<![\w+.:/-])"
    r"(?:\(\d{2,5}\)[\s.-]?\d{2,5}(?:[\s.-]?\d{2,5}){0,3}|\d{1,5}(?:[\s.-]\d{2,5}){2,4})"
    r"(?![\w.:/-]?\d)(?!\w)"
)
# Shapes that look like grouped digits but are not phone numbers.
_NOT_A_PHONE = re.compile(
    r"\d{4}([-.])\d{2}\1\d{2}"  # a date
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # an IPv4 address
)


# Cheap test first: text with none of these cannot hold anything the patterns above mask
# (an email needs "@", a phone seven digits, a token one of its prefixes).
_SUSPECT = re.compile(r"@|\d(?:[\s().-]{0,2}\d){6}|bearer|pat-|eyj|00d", re.I)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or _NOT_A_PHONE.fullmatch(text.strip()):
        return text
    return REDACTED


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets, tokens, email addresses and phone numbers masked.

    ``secrets`` are exact values (a client secret, the current access token) masked
    wherever they appear, whatever their shape.
    """
    if secrets:
        for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
            text = text.replace(secret, REDACTED)
    if not _SUSPECT.search(text):
        return text
    text = _SECRET.sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(_phone, text)


def redact_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every text value redacted (other values kept as they are).

    For the facts a decision keeps about a lead (features, a notification's summary):
    called for every decision, so the common case (nothing to mask) is one cheap test.
    """
    texts = [v for v in values.values() if isinstance(v, str)]
    if not _SUSPECT.search("\x1f".join(texts)):
        return dict(values)
    return {k: redact_text(v) if isinstance(v, str) else v for k, v in values.items()}


# A lead's free-text fields: routing reads them, decisions keep them (features, exclusion
# and fit details, notifications). The contact fields (email, phone, name, website) are
# left as they are: validation and duplicate matching need them, and they are never stored.
_FREE_TEXT = ("company", "state", "language", "product", "lead_type", "source")
_CONTACT_ATTRIBUTES = frozenset({"email", "phone", "name", "website"})


def mask_lead_text(lead: Lead) -> Lead:
    """``lead`` with emails, phone numbers and tokens masked in its free-text fields.

    A form or a CRM may put anything in any field (an email in ``source``, a phone number
    in ``product``); whatever routing derives from those fields is kept in the store and
    shown in reports. Called once per lead, so the common case is one cheap test.
    """
    texts = [getattr(lead, f) for f in _FREE_TEXT]
    attributes = {k: v for k, v in lead.attributes.items() if k not in _CONTACT_ATTRIBUTES}
    if not _SUSPECT.search("\x1f".join([*texts, *attributes.values()])):
        return lead
    changes: dict[str, Any] = {f: redact_text(getattr(lead, f)) for f in _FREE_TEXT}
    changes["attributes"] = {
        k: v if k in _CONTACT_ATTRIBUTES else redact_text(v) for k, v in lead.attributes.items()
    }
    return attrs.evolve(lead, **changes)
