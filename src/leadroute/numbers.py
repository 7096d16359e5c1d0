"""Numbers as CRMs and exports write them: ``1,200``, ``25-50``, ``10,001+``, ``1k-5k``.

A CRM's company-size dropdown (HubSpot's ``numemployees``, LinkedIn-style exports, a
Salesforce picklist) holds ranges, not counts. A range is a fact about the company, not
a data error, so it must never reject the lead: it is read as one number, the way the
policy says (``validation.number_ranges``):

* ``low`` (the default): the range's lower end (``25-50`` -> 25). A segment whose
  ``min_employees`` is 25 then holds the lead, one starting at 26 does not.
* ``midpoint``: the middle of a closed range (``25-50`` -> 37.5; 38 as a count, halves up).
  An open range (``10,001+``, ``over 500``) has no middle: its one end is used.

Accepted, case- and space-insensitive: plain numbers with thousands separators (``,``
``_`` and spaces between digit groups; ``.`` is always the decimal point), a ``k``/``m``/
``b`` multiplier, a leading currency sign (``$``, ``€``, ``£``), closed ranges (``a-b``,
an en dash, ``a to b``), open ranges upward (``a+``, ``a or more``, ``more than a``,
``over a``, ``>a``, ``>=a``) and downward (``<b``, ``under b``, ``less than b``,
``up to b``: lower end 0). Anything else raises ``ValueError``: a lead whose size is
``many`` is still a bad value.
"""

from __future__ import annotations

import re
from typing import Literal

import attrs

__all__ = [
    "RANGE_POLICIES",
    "NumberRange",
    "RangePolicy",
    "parse_count",
    "parse_number",
    "parse_range",
]

RangePolicy = Literal["low", "midpoint"]
RANGE_POLICIES: tuple[RangePolicy, ...] = ("low", "midpoint")

_MULTIPLIERS = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
# One number: digits with optional thousands groups, an optional decimal part, a multiplier.
_NUMBER = r"(\d{1,3}(?:[,_ ]\d{3})+|\d+)(\.\d+)?\s*([kmb]?)"
_NUM = re.compile(rf"^{_NUMBER}$")
_CLOSED = re.compile(rf"^{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}$")
_UP = (
    re.compile(rf"^{_NUMBER}\s*(?:\+|or more|and (?:above|over|up))$"),
    re.compile(rf"^(?:more than|over|above|>=?)\s*{_NUMBER}$"),
)
_DOWN = re.compile(rf"^(?:less than|fewer than|under|up to|below|<=?)\s*{_NUMBER}$")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")


@attrs.frozen
class NumberRange:
    """A number as written: one value (``low == high``) or a range, open upward when ``high`` is None.

    Attributes:
        low: The lower end (the value itself for a plain number).
        high: The upper end; None for an open range (``10,001+``).
    """

    low: float
    high: float | None

    def value(self, how: RangePolicy = "low") -> float:
        """The one number the policy reads this as (see the module docstring)."""
        if how == "midpoint" and self.high is not None:
            return (self.low + self.high) / 2
        return self.low


def _number(whole: str, fraction: str | None, unit: str) -> float:
    return float(re.sub(r"[,_ ]", "", whole) + (fraction or "")) * _MULTIPLIERS[unit]


def parse_range(text: str) -> NumberRange | None:
    """The number or range a cell holds; None when it is empty; ``ValueError`` when unreadable."""
    cleaned = _SPACES.sub(" ", re.sub(r"[$€£]", "", text).strip().lower())
    if not cleaned:
        return None
    if m := _NUM.match(cleaned):
        value = _number(*m.groups())
        return NumberRange(low=value, high=value)
    if m := _CLOSED.match(cleaned):
        a, b = _number(*m.groups()[:3]), _number(*m.groups()[3:])
        if b < a:
            raise ValueError(f"{text.strip()!r}: the range ends below where it starts")
        return NumberRange(low=a, high=b)
    for pattern in _UP:
        if m := pattern.match(cleaned):
            return NumberRange(low=_number(*m.groups()), high=None)
    if m := _DOWN.match(cleaned):
        return NumberRange(low=0.0, high=_number(*m.groups()))
    raise ValueError(f"{text.strip()!r} is not a number or a range of numbers")


def parse_number(text: str, *, ranges: RangePolicy = "low") -> float | None:
    """A number from a cell (a range read as ``ranges`` says); None when empty.

    Raises ``ValueError`` (naming the text) when the cell is neither a number nor a range.
    """
    parsed = parse_range(text)
    return None if parsed is None else parsed.value(ranges)


def parse_count(text: str, *, ranges: RangePolicy = "low") -> int | None:
    """A whole count (employees, seats) from a cell; a midpoint is rounded, halves up."""
    value = parse_number(text, ranges=ranges)
    return None if value is None else int(value + 0.5)
