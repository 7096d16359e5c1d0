"""Build SOQL queries with every literal escaped.

Values never reach a query by string formatting: they go through ``literal``, which quotes
strings with SOQL's escapes (a company called ``O'Brien\\Sons`` stays one literal) and
renders dates, datetimes, numbers, booleans and ``null`` in SOQL's own syntax. Field and
object names come from the policy, so ``identifier`` checks them against SOQL's name
grammar instead of escaping them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import attrs

from leadroute.errors import PolicyError

__all__ = ["Query", "Where", "chunks", "identifier", "literal"]

# Standard and custom names (``Territory__c``) and one-level relationships (``Owner.Type``).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE"})

Value = str | int | float | bool | date | datetime | None


def identifier(name: str, *, path: str = "") -> str:
    """A field or object name, checked (names are not escapable in SOQL, so bad ones fail)."""
    if not _NAME.match(name):
        raise PolicyError(f"{name!r} is not a Salesforce field or object name", path=path)
    return name


def literal(value: Value) -> str:
    """``value`` as a SOQL literal: quoted and escaped strings, ISO dates, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("SOQL datetimes must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


@attrs.frozen
class Where:
    """One condition: ``field op value`` (``IN`` takes a sequence)."""

    field: str
    op: str
    value: Value | Sequence[Value]

    def render(self) -> str:
        """The condition as SOQL text."""
        if self.op not in _OPERATORS:
            raise ValueError(f"unsupported SOQL operator {self.op!r}")
        name = identifier(self.field)
        if self.op in {"IN", "NOT IN"}:
            if isinstance(self.value, str | bytes) or not isinstance(self.value, Sequence):
                raise ValueError(f"{self.op} needs a sequence of values")
            return f"{name} {self.op} ({', '.join(literal(v) for v in self.value)})"
        if isinstance(self.value, Sequence) and not isinstance(self.value, str):
            raise ValueError(f"{self.op} needs a single value")
        return f"{name} {self.op} {literal(self.value)}"


@attrs.frozen(kw_only=True)
class Query:
    """``SELECT fields FROM sobject WHERE a AND b ORDER BY ...``, rendered with escaped literals.

    Attributes:
        sobject: The object (``Lead``).
        fields: Fields to select (deduplicated, order kept).
        where: Conditions, all of which must hold.
        order_by: Fields to sort by, ascending (a stable order for cursors).
        group_by: Fields to group by (aggregate queries).
        limit: Most rows, or ``None``.
    """

    sobject: str
    fields: Sequence[str]
    where: Sequence[Where] = ()
    order_by: Sequence[str] = ()
    group_by: Sequence[str] = ()
    limit: int | None = None

    def render(self) -> str:
        """The SOQL text."""
        fields = list(dict.fromkeys(self.fields))
        for field in fields:
            _check_selectable(field)
        # Not injectable: names are checked by ``identifier`` and values go through ``literal``.
        parts = [f"SELECT {', '.join(fields)} FROM {identifier(self.sobject)}"]  # noqa: S608
        if self.where:
            parts.append("WHERE " + " AND ".join(w.render() for w in self.where))
        if self.group_by:
            parts.append("GROUP BY " + ", ".join(identifier(f) for f in self.group_by))
        if self.order_by:
            parts.append("ORDER BY " + ", ".join(identifier(f) for f in self.order_by))
        if self.limit is not None:
            parts.append(f"LIMIT {int(self.limit)}")
        return " ".join(parts)


_AGGREGATE = re.compile(r"^COUNT\(([A-Za-z][A-Za-z0-9_]*)\) [A-Za-z][A-Za-z0-9_]*$")


def _check_selectable(field: str) -> None:
    if _AGGREGATE.match(field):
        return
    identifier(field)


def chunks(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    """``values`` in slices of at most ``size`` (for ``IN`` lists and collections)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
