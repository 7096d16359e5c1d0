"""Parsing input cells and making output cells safe for spreadsheets."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadroute.models import LeaveWindow
from leadroute.spreadsheet import safe_cell

__all__ = [
    "BadValue",
    "parse_bool",
    "parse_datetime",
    "parse_float",
    "parse_int",
    "parse_leave",
    "parse_timezone",
    "safe_cell",
    "split_list",
]


class BadValue(ValueError):
    """A cell that cannot be read; ``code`` is the exception-report code."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def parse_int(field: str, raw: str, *, minimum: int = 0) -> int | None:
    """``1,200`` / ``1200`` / ``1200.0`` -> 1200; empty -> None."""
    text = raw.strip().replace(",", "").replace("_", "").replace(" ", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} is not a number") from None
    if not number.is_integer() or number < minimum:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} is not a whole number >= {minimum}")
    return int(number)


def parse_float(field: str, raw: str, *, default: float) -> float:
    """A positive number; empty -> default."""
    text = raw.strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} must be a positive number")
    return number


_BOOLS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
    "": True,
}


def parse_bool(field: str, raw: str) -> bool:
    """true/false, yes/no, y/n, 1/0 in any case; empty means true."""
    try:
        return _BOOLS[raw.strip().lower()]
    except KeyError:
        raise BadValue("BAD_BOOLEAN", field, f"{field} {raw!r} is not true or false") from None


def parse_datetime(field: str, raw: str) -> datetime | None:
    """ISO-8601 date-time or date; naive values are UTC; empty -> None."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadValue(
            "BAD_DATE", field, f"{field} {raw!r} is not an ISO-8601 date or time"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_timezone(field: str, raw: str) -> str:
    """A valid IANA zone name; empty -> UTC."""
    name = raw.strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue("BAD_TIMEZONE", field, f"{field} {raw!r} is not an IANA time zone") from None
    return name


def split_list(raw: str, separator: str) -> list[str]:
    """Split a list cell, dropping blanks."""
    return [item.strip() for item in raw.split(separator) if item.strip()]


def parse_leave(field: str, raw: str, separator: str) -> tuple[LeaveWindow, ...]:
    """``2026-12-01/2026-12-05;...``: inclusive dates -> UTC windows ending the next midnight."""
    windows = []
    for item in split_list(raw, separator):
        start_text, slash, end_text = item.partition("/")
        try:
            start = date.fromisoformat(start_text.strip())
            end = date.fromisoformat(end_text.strip()) if slash else start
        except ValueError:
            raise BadValue(
                "BAD_LEAVE", field, f"{field} {item!r} is not YYYY-MM-DD/YYYY-MM-DD"
            ) from None
        if end < start:
            raise BadValue("BAD_LEAVE", field, f"{field} {item!r} ends before it starts")
        windows.append(
            LeaveWindow(
                start=datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                end=datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            )
        )
    return tuple(windows)
