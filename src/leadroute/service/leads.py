"""A lead from a request body: JSON or a web form, each field checked and named.

Known fields become the lead's fields; every other field is kept as a lead attribute
(routing rules can use ``utm_campaign``), as text. A value of the wrong type, a nested
value, or too much of anything is a ``FieldProblem`` naming the field. ``id`` is the
caller's lead id; without one the id is derived from the submission (its
``Idempotency-Key`` or ``submission_id``), so a resubmitted form is the same lead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import attrs

from leadroute.models import LEADROUTE_NAMESPACE, Lead
from leadroute.service.problems import FieldProblem, ProblemError

__all__ = ["Submission", "lead_from_fields", "parse_submission"]

TEXT_FIELDS = (
    "email",
    "name",
    "company",
    "website",
    "country",
    "state",
    "language",
    "product",
    "lead_type",
    "source",
    "phone",
)
ALIASES = {"type": "lead_type", "first_name": "", "last_name": ""}
MAX_FIELDS = 200
MAX_NAME = 64
MAX_VALUE = 4000
MAX_ID = 255


@attrs.frozen(kw_only=True)
class Submission:
    """One posted lead.

    Attributes:
        fields: Field name to text value, as posted (after type checks).
        key: The submission's idempotency key (header or ``submission_id``), ``""`` if none.
    """

    fields: Mapping[str, str]
    key: str = ""

    def fingerprint(self) -> str:
        """A stable hash of what was posted (to refuse a reused key with another body)."""
        text = json.dumps(dict(self.fields), sort_keys=True)
        return uuid.uuid5(LEADROUTE_NAMESPACE, text).hex


def _text(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        if len(value) > MAX_VALUE:
            raise FieldProblem(field, f"longer than {MAX_VALUE} characters", "TOO_LONG")
        if "\x00" in value:
            raise FieldProblem(field, "contains a NUL character", "INVALID_TEXT")
        return value
    if value is None:
        return ""
    raise FieldProblem(field, f"expected text or a number, got {type(value).__name__}", "NOT_TEXT")


def _fields(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    if len(pairs) > MAX_FIELDS:
        raise ProblemError(422, "too-many-fields", "Too many fields", f"at most {MAX_FIELDS}")
    out: dict[str, str] = {}
    for name, value in pairs:
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise FieldProblem(
                name[:MAX_NAME], f"field names are 1 to {MAX_NAME} characters", "BAD_NAME"
            )
        out[name] = _text(name, value)
    return out


def parse_submission(body: bytes, content_type: str, header_key: str) -> Submission:
    """The fields of a JSON object or a form post; a problem naming what is wrong."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ProblemError(400, "malformed", "Body is not JSON") from None
        except RecursionError:
            raise ProblemError(400, "malformed", "Body is nested too deeply") from None
        if not isinstance(data, dict):
            raise ProblemError(400, "malformed", "Body must be a JSON object of lead fields")
        fields = _fields(list(data.items()))
    elif media == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise ProblemError(400, "malformed", "Form body is not UTF-8 form encoding") from None
        fields = _fields(list(pairs))
    else:
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "send application/json or application/x-www-form-urlencoded",
        )
    key = header_key.strip() or fields.pop("submission_id", "").strip()
    if len(key) > MAX_ID:
        raise FieldProblem("Idempotency-Key", f"longer than {MAX_ID} characters", "TOO_LONG")
    return Submission(fields=fields, key=key)


def _employees(value: str) -> int | None:
    text = value.strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise FieldProblem("employees", f"expected a whole number, got {value[:40]!r}") from None
    if number < 0 or number != int(number) or number > 10_000_000:
        raise FieldProblem("employees", "expected a whole number from 0 to 10,000,000")
    return int(number)


def _created(value: str, now: datetime) -> datetime:
    if not value.strip():
        return now
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FieldProblem("created_at", "expected an ISO-8601 date-time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def lead_from_fields(submission: Submission, scope: str, now: datetime) -> Lead:
    """The lead a submission describes; unknown fields become attributes."""
    fields = dict(submission.fields)
    lead_id = fields.pop("id", "").strip()
    if len(lead_id) > MAX_ID or not lead_id.isprintable():
        raise FieldProblem("id", f"expected up to {MAX_ID} printable characters")
    if not lead_id:
        seed = f"{scope}:{submission.key}" if submission.key else uuid.uuid4().hex
        lead_id = "web-" + uuid.uuid5(LEADROUTE_NAMESPACE, f"submission:{seed}").hex[:20]
    if "type" in fields and "lead_type" not in fields:
        fields["lead_type"] = fields.pop("type")
    if not fields.get("name") and (fields.get("first_name") or fields.get("last_name")):
        fields["name"] = f"{fields.get('first_name', '')} {fields.get('last_name', '')}".strip()
    known = {name: fields.pop(name, "").strip() for name in TEXT_FIELDS}
    employees = _employees(fields.pop("employees", ""))
    created = _created(fields.pop("created_at", ""), now)
    fields.pop("owner_id", None)  # a form never chooses its owner
    for alias in ALIASES:
        fields.pop(alias, None)
    return Lead(
        id=lead_id,
        email=known["email"],
        name=known["name"],
        company=known["company"],
        website=known["website"],
        country=known["country"],
        state=known["state"],
        language=known["language"],
        product=known["product"],
        lead_type=known["lead_type"],
        source=known["source"],
        phone=known["phone"],
        employees=employees,
        created_at=created,
        attributes=fields,
        origin="POST /v1/leads",
    )
