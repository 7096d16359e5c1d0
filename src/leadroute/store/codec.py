"""Decisions to JSON and back, losslessly (the audit payload)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cattrs

from leadroute.models import Decision

__all__ = ["decision_from_json", "decision_to_json", "from_iso", "to_iso"]


def to_iso(value: datetime) -> str:
    """ISO-8601 in UTC with an explicit offset; naive datetimes are refused."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: leadroute stores only timezone-aware UTC")
    return value.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    """Parse what ``to_iso`` wrote, back to an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, to_iso)
_converter.register_structure_hook(datetime, lambda v, _: from_iso(v))


def decision_to_json(decision: Decision) -> str:
    """The whole decision as compact, key-sorted JSON."""
    return json.dumps(_converter.unstructure(decision), sort_keys=True, separators=(",", ":"))


def decision_from_json(text: str) -> Decision:
    """A decision back from ``decision_to_json`` output."""
    return _converter.structure(json.loads(text), Decision)
