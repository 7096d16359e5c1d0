"""Parsing input cells and making output cells safe for spreadsheets."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from leadroute.models import LeaveWindow
from leadroute.profiles import ProfileError, parse_moment, parse_windows
from leadroute.spreadsheet import safe_cell
from leadroute.worktime import WorkingHours, WorktimeError

__all__ = [
    "BadValue",
    "CellReader",
    "parse_bool",
    "parse_cap",
    "parse_datetime",
    "parse_float",
    "parse_hours",
    "parse_int",
    "parse_leave",
    "parse_pauses",
    "parse_skills",
    "parse_start",
    "parse_timezone",
    "parse_type_caps",
    "safe_cell",
    "split_list",
]


T = TypeVar("T")


class BadValue(ValueError):
    """A cell that cannot be read; ``code`` is the exception-report code."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@attrs.define
class CellReader:
    """Reads one row's cells and keeps every bad one, instead of stopping at the first.

    Attributes:
        errors: Bad cells the record cannot do without: the row is not used.
        ignored: Bad optional cells: the record is kept with the stated default.
    """

    errors: list[BadValue] = attrs.field(factory=list)
    ignored: list[BadValue] = attrs.field(factory=list)

    def read(self, parse: Callable[..., T], *args: Any, default: T, instead: str = "") -> T:
        """``parse(*args)``, or ``default`` after noting the bad cell.

        With ``instead`` (what is used in its place, e.g. ``"weight 1"``) the cell is
        optional: a bad value is ignored and flagged, and the record is kept.
        """
        try:
            return parse(*args)
        except BadValue as exc:
            if instead:
                self.ignored.append(
                    BadValue(exc.code, exc.field, f"{exc}; ignored, {instead} used instead")
                )
            else:
                self.errors.append(exc)
            return default


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


def parse_cap(field: str, raw: str) -> float | None:
    """A daily or weekly cap: a count, or a sum when the policy measures load by a field."""
    text = raw.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise BadValue("BAD_NUMBER", field, f"{field} {raw!r} must be a number, 0 or more")
    return value


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


def parse_skills(field: str, raw: str, separator: str) -> dict[str, int]:
    """``fintech:2;payments`` -> ``{"fintech": 2, "payments": 1}`` (a bare skill is level 1)."""
    skills: dict[str, int] = {}
    for item in split_list(raw, separator):
        name, colon, level_text = item.partition(":")
        name = name.strip().lower()
        level_text = level_text.strip()
        if not name:
            raise BadValue("BAD_SKILL", field, f"{field} {item!r} has no skill name")
        if not colon:
            level = 1
        elif level_text.isdigit():
            level = int(level_text)
        else:
            raise BadValue(
                "BAD_SKILL", field, f"{field} {item!r}: level must be a whole number >= 0"
            )
        skills[name] = level
    return skills


def parse_leave(
    field: str, raw: str, separator: str, timezone: str = "UTC"
) -> tuple[LeaveWindow, ...]:
    """``2026-12-01/2026-12-05;...``: inclusive local dates -> windows ending the next midnight.

    The dates are the rep's own (``timezone``): a Berlin rep away on the 1st is away from
    Berlin's midnight, not UTC's.
    """
    zone = ZoneInfo(timezone)
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
                start=datetime.combine(start, datetime.min.time(), tzinfo=zone).astimezone(UTC),
                end=datetime.combine(
                    end + timedelta(days=1), datetime.min.time(), tzinfo=zone
                ).astimezone(UTC),
            )
        )
    return tuple(windows)


def parse_pauses(
    field: str, raw: str, separator: str, timezone: str = "UTC"
) -> tuple[LeaveWindow, ...]:
    """Dated pause windows, in the rep-profile grammar (``leadroute.profiles.parse_windows``):
    ``2026-11-04T12:00/2026-11-05T09:00`` (local times, end exclusive) or inclusive dates."""
    try:
        return parse_windows(field, raw, timezone, code="BAD_PAUSE", separator=separator)
    except ProfileError as exc:
        raise BadValue(exc.code, exc.field, str(exc)) from None


def parse_start(field: str, raw: str, timezone: str = "UTC") -> datetime | None:
    """A new hire's first day (``2026-11-04``: local midnight) or a local time; empty: None."""
    if not raw.strip():
        return None
    try:
        return parse_moment(field, raw, timezone)
    except ProfileError as exc:
        raise BadValue(exc.code, exc.field, str(exc)) from None


def parse_hours(
    field: str, raw: str, separator: str, timezone: str, holidays_in: str
) -> dict[str, str]:
    """``mon-fri=09:00-17:30;sat=10:00-13:00`` -> ``{"mon-fri": "09:00-17:30", ...}``.

    Checked with ``leadroute.worktime`` together with the holiday region, so a typo in
    either is reported on the row (``BAD_HOURS``) instead of failing mid-run.
    """
    days: dict[str, str] = {}
    for item in split_list(raw, separator):
        spec, equals, hours = item.partition("=")
        if not equals:
            raise BadValue(
                "BAD_HOURS", field, f"{field} {item!r} is not like 'mon-fri=09:00-17:30'"
            )
        days[spec.strip()] = hours.strip()
    try:
        WorkingHours.from_spec(days or None, timezone=timezone, holidays_in=holidays_in)
    except WorktimeError as exc:
        blame = "holidays" if "holiday" in str(exc) or "subdivision" in str(exc) else field
        raise BadValue("BAD_HOURS", blame, f"{blame}: {exc}") from None
    return days


def parse_type_caps(field: str, raw: str, separator: str) -> dict[str, int]:
    """``demo=5;quote=3`` -> ``{"demo": 5, "quote": 3}`` (types lower-cased)."""
    caps: dict[str, int] = {}
    for item in split_list(raw, separator):
        kind, equals, number = item.partition("=")
        cap = parse_int(field, number) if equals and kind.strip() else None
        if cap is None:
            raise BadValue("BAD_NUMBER", field, f"{field} {item!r} is not like 'demo=5'")
        caps[kind.strip().lower()] = cap
    return caps
