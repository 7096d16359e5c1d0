"""Rep profiles for CRM users: what a CRM's owner record lacks, merged onto the CRM's reps by id.

A CRM knows who its users are and whether they are active; routing also needs each rep's
time zone, working hours, holidays, leave, skills, named accounts, territories, caps and
phone. A CRM adapter gathers them from up to three places, later ones winning field by
field, and applies them to the reps it read:

1. the CRM's own user data (HubSpot's users object: time zone, working hours,
   out-of-office; Salesforce's User time zone), built directly as a ``RepProfile``;
2. custom fields on the CRM user, or the policy's inline ``reps`` table, as text in the
   grammar of ``reps.csv`` (``profile_from_text``);
3. a ``reps.csv`` overlay file (``read_overlay``), one row per rep, matched by rep id or
   email: columns as in the CSV adapter's ``reps.csv``, every column optional but ``id``.

A value that cannot be read is an exception-report row naming the file, line and field,
and that rep takes no leads until it is fixed (``active=False``): routing to a rep whose
leave could not be read would be worse than not routing to them. An overlay row matching
no CRM rep is a row too (``UNKNOWN_REP``).

Text grammar (the separator is ``;``): lists ``DE;AT``; skills ``fintech:2;payments``;
hours ``mon-fri=09:00-17:30;sat=10:00-13:00`` in the rep's time zone; leave and pause
windows ``2026-12-01/2026-12-05;2027-01-02`` (inclusive local dates) or with local times
``2026-11-04T12:00/2026-11-05T09:00`` (the end exclusive); a start date ``2026-11-04``
(local midnight) or a local time; type caps ``demo=5;quote=3``; booleans
``true``/``false``/``yes``/``no``/``1``/``0``; times ISO-8601.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from leadroute.errors import InputFileError
from leadroute.models import Availability, Capacity, InputProblem, LeaveWindow, Rep
from leadroute.worktime import WorkingHours, WorktimeError

__all__ = [
    "PROFILE_FIELDS",
    "Overlay",
    "ProfileError",
    "RepProfile",
    "merge_profiles",
    "parse_moment",
    "parse_windows",
    "profile_from_text",
    "read_overlay",
]

# Rep fields a profile may set (the reps.csv columns, ``capacity`` being ``max_open``).
PROFILE_FIELDS = (
    "name",
    "email",
    "phone",
    "active",
    "timezone",
    "hours",
    "holidays",
    "leave",
    "paused",
    "paused_until",
    "pauses",
    "start_date",
    "territories",
    "languages",
    "segments",
    "products",
    "pools",
    "capacity",
    "max_per_day",
    "max_per_week",
    "type_caps",
    "weight",
    "backup",
    "skills",
    "accounts",
    "slack_id",
    "booking_url",
    "manager_id",
)
ALIASES = {"max_open": "capacity", "backup_id": "backup"}
SEPARATOR = ";"
MAX_OVERLAY_BYTES = 10 * 1024 * 1024


class ProfileError(ValueError):
    """A profile value that cannot be read; ``code`` is the exception-report code."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@attrs.frozen(kw_only=True)
class RepProfile:
    """Rep fields from outside the CRM's owner record; ``None`` means "not given here".

    Attributes mirror ``Rep`` (and its ``Availability`` and ``Capacity``); ``active``
    can only take a rep out of routing, never bring back a user the CRM deactivated.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None
    timezone: str | None = None
    hours: Mapping[str, str] | None = None
    holidays: str | None = None
    leave: tuple[LeaveWindow, ...] | None = None
    paused: bool | None = None
    paused_until: datetime | None = None
    pauses: tuple[LeaveWindow, ...] | None = None
    starts_at: datetime | None = None
    territories: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    products: tuple[str, ...] | None = None
    pools: tuple[str, ...] | None = None
    max_open: int | None = None
    per_day: float | None = None
    per_week: float | None = None
    per_type: Mapping[str, int] | None = None
    weight: float | None = None
    backup_id: str | None = None
    skills: Mapping[str, int] | None = None
    accounts: tuple[str, ...] | None = None
    slack_id: str | None = None
    booking_url: str | None = None
    manager_id: str | None = None

    def apply(self, rep: Rep) -> Rep:
        """``rep`` with every field this profile gives; the rest as the CRM said."""

        def pick(mine: Any, theirs: Any) -> Any:
            return theirs if mine is None else mine

        a, c = rep.availability, rep.capacity
        availability = Availability(
            timezone=pick(self.timezone, a.timezone),
            leave=pick(self.leave, a.leave),
            paused_until=pick(self.paused_until, a.paused_until),
            hours=pick(self.hours, a.hours),
            holidays=pick(self.holidays, a.holidays),
            paused=pick(self.paused, a.paused),
            pauses=pick(self.pauses, a.pauses),
            starts_at=pick(self.starts_at, a.starts_at),
        )
        capacity = Capacity(
            max_open=pick(self.max_open, c.max_open),
            per_day=pick(self.per_day, c.per_day),
            per_week=pick(self.per_week, c.per_week),
            per_type=pick(self.per_type, c.per_type),
        )
        return attrs.evolve(
            rep,
            name=pick(self.name, rep.name),
            email=pick(self.email, rep.email),
            phone=pick(self.phone, rep.phone),
            active=rep.active and pick(self.active, True),
            territories=pick(self.territories, rep.territories),
            languages=pick(self.languages, rep.languages),
            segments=pick(self.segments, rep.segments),
            products=pick(self.products, rep.products),
            pools=pick(self.pools, rep.pools),
            capacity=capacity,
            weight=pick(self.weight, rep.weight),
            backup_id=pick(self.backup_id, rep.backup_id),
            availability=availability,
            skills=pick(self.skills, rep.skills),
            accounts=pick(self.accounts, rep.accounts),
            slack_id=pick(self.slack_id, rep.slack_id),
            booking_url=pick(self.booking_url, rep.booking_url),
            manager_id=pick(self.manager_id, rep.manager_id),
        )


def merge_profiles(*profiles: RepProfile) -> RepProfile:
    """One profile from several, a later profile's given fields winning."""
    merged: dict[str, Any] = {}
    for profile in profiles:
        merged |= {k: v for k, v in attrs.asdict(profile, recurse=False).items() if v is not None}
    return RepProfile(**merged)


# --------------------------------------------------------------------------- text values


def _text(value: Any) -> str:
    """A value from YAML or a CRM field as reps.csv text (lists joined with ``;``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return SEPARATOR.join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return SEPARATOR.join(str(v) for v in value)
    return str(value).strip()


def _split(raw: str) -> list[str]:
    return [item.strip() for item in raw.replace("\n", SEPARATOR).split(SEPARATOR) if item.strip()]


_BOOLS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}


def _bool(field: str, raw: str) -> bool:
    try:
        return _BOOLS[raw.lower()]
    except KeyError:
        raise ProfileError("BAD_BOOLEAN", field, f"{field} {raw!r} is not true or false") from None


def _number(field: str, raw: str, *, whole: bool = False) -> float:
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        raise ProfileError("BAD_NUMBER", field, f"{field} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (whole and not value.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise ProfileError("BAD_NUMBER", field, f"{field} {raw!r} must be {kind}, 0 or more")
    return value


def _timezone(field: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(
            "BAD_TIMEZONE", field, f"{field} {raw!r} is not an IANA time zone"
        ) from None
    return raw


def _datetime(field: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ProfileError(
            "BAD_DATE", field, f"{field} {raw!r} is not an ISO-8601 date or time"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _skills(field: str, raw: str) -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in _split(raw):
        name, colon, level = (part.strip() for part in item.partition(":"))
        if not name or (colon and not level.isdigit()):
            raise ProfileError(
                "BAD_SKILL", field, f"{field} {item!r} is not like 'fintech' or 'fintech:2'"
            )
        skills[name.lower()] = int(level) if colon else 1
    return skills


def parse_moment(field: str, raw: str, timezone: str, *, end: bool = False) -> datetime:
    """A local date (its midnight; with ``end``, the next midnight: the day is included)
    or a local date-time (an offset in the text wins), as UTC. ``ProfileError``
    (``BAD_DATE``) names the field."""
    zone = ZoneInfo(timezone)
    text = raw.strip()
    try:
        if "T" not in text.upper() and " " not in text:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProfileError(
            "BAD_DATE", field, f"{field} {text!r} is not a date (YYYY-MM-DD) or local time"
        ) from None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)


def parse_windows(
    field: str, raw: str, timezone: str, *, code: str = "BAD_LEAVE", separator: str = SEPARATOR
) -> tuple[LeaveWindow, ...]:
    """Windows away in the rep's zone: ``2026-12-01/2026-12-05`` (inclusive dates), one
    date, or local times ``2026-11-04T12:00/2026-11-05T09:00`` (end exclusive), separated
    by ``separator``. ``ProfileError`` with ``code`` names the bad item."""
    windows = []
    for item in (part.strip() for part in raw.replace("\n", separator).split(separator)):
        if not item:
            continue
        first, slash, last = item.partition("/")
        try:
            start = parse_moment(field, first, timezone)
            finish = parse_moment(field, last if slash else first, timezone, end=True)
        except ProfileError:
            raise ProfileError(
                code,
                field,
                f"{field} {item!r} is not YYYY-MM-DD/YYYY-MM-DD "
                "(or local times YYYY-MM-DDTHH:MM/YYYY-MM-DDTHH:MM)",
            ) from None
        if not slash and "T" in first.upper():
            raise ProfileError(code, field, f"{field} {item!r} needs an end (START/END)")
        if finish <= start:
            raise ProfileError(code, field, f"{field} {item!r} ends before it starts")
        windows.append(LeaveWindow(start=start, end=finish))
    return tuple(windows)


def _leave(field: str, raw: str, timezone: str) -> tuple[LeaveWindow, ...]:
    return parse_windows(field, raw, timezone)


def _pairs(field: str, raw: str, example: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in _split(raw):
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not key:
            raise ProfileError(
                "BAD_HOURS" if field == "hours" else "BAD_NUMBER",
                field,
                f"{field} {item!r} is not like '{example}'",
            )
        pairs[key] = value
    return pairs


def check_hours(hours: Mapping[str, str], timezone: str, holidays: str) -> None:
    """Raise ``ProfileError`` (``BAD_HOURS``) unless the hours and holiday region are valid."""
    try:
        WorkingHours.from_spec(dict(hours) or None, timezone=timezone, holidays_in=holidays)
    except WorktimeError as exc:
        blame = "holidays" if "holiday" in str(exc) or "subdivision" in str(exc) else "hours"
        raise ProfileError("BAD_HOURS", blame, f"{blame}: {exc}") from None


def profile_from_text(
    values: Mapping[str, Any], *, timezone: str = "UTC"
) -> tuple[RepProfile, list[ProfileError]]:
    """A profile from text values (reps.csv cells, CRM custom fields, the policy's ``reps``).

    Empty values give nothing. ``timezone`` is the rep's zone when ``values`` has none
    (leave dates and working hours are the rep's local ones). Returns the profile of the
    readable values and every unreadable one.
    """
    text = {ALIASES.get(k, k): _text(v) for k, v in values.items()}
    text = {k: v for k, v in text.items() if v}
    errors: list[ProfileError] = []
    out: dict[str, Any] = {}

    def read(field: str, parse: Any) -> None:
        if field not in text:
            return
        try:
            out[field] = parse(text[field])
        except ProfileError as exc:
            errors.append(exc)

    read("timezone", lambda v: _timezone("timezone", v))
    zone = out.get("timezone", timezone)
    for field in ("name", "email", "phone", "slack_id", "booking_url", "manager_id"):
        read(field, str)
    read("holidays", str.upper)
    read("active", lambda v: _bool("active", v))
    read("paused", lambda v: _bool("paused", v))
    read("paused_until", lambda v: _datetime("paused_until", v))
    read("territories", lambda v: tuple(t.upper() for t in _split(v)))
    read("languages", lambda v: tuple(x.lower() for x in _split(v)))
    for field in ("segments", "products", "pools"):
        read(field, lambda v: tuple(_split(v)))
    read("accounts", lambda v: tuple(x.lower() for x in _split(v)))
    read("skills", lambda v: _skills("skills", v))
    read("leave", lambda v: _leave("leave", v, zone))
    read("pauses", lambda v: parse_windows("pauses", v, zone, code="BAD_PAUSE"))
    read("start_date", lambda v: parse_moment("start_date", v, zone))
    read("hours", lambda v: _pairs("hours", v, "mon-fri=09:00-17:30"))
    read("capacity", lambda v: int(_number("capacity", v, whole=True)))
    read("max_per_day", lambda v: _number("max_per_day", v))
    read("max_per_week", lambda v: _number("max_per_week", v))
    read(
        "type_caps",
        lambda v: {
            k.lower(): int(_number("type_caps", n, whole=True))
            for k, n in _pairs("type_caps", v, "demo=5").items()
        },
    )
    read("weight", lambda v: _number("weight", v))
    read("backup", str)
    if "weight" in out and out["weight"] == 0:
        errors.append(ProfileError("BAD_NUMBER", "weight", "weight must be above 0"))
        del out["weight"]
    if "hours" in out or "holidays" in out:
        try:
            check_hours(out.get("hours", {}), zone, out.get("holidays", ""))
        except ProfileError as exc:
            errors.append(exc)
            out.pop("hours", None)
            out.pop("holidays", None)
    unknown = sorted(set(text) - set(PROFILE_FIELDS))
    errors.extend(
        ProfileError("UNKNOWN_FIELD", k, f"{k!r} is not a rep field ({', '.join(PROFILE_FIELDS)})")
        for k in unknown
    )
    renamed = {
        "capacity": "max_open",
        "max_per_day": "per_day",
        "max_per_week": "per_week",
        "type_caps": "per_type",
        "backup": "backup_id",
        "start_date": "starts_at",
    }
    return RepProfile(**{renamed.get(k, k): v for k, v in out.items()}), errors


# --------------------------------------------------------------------------- overlay file


@attrs.frozen(kw_only=True)
class OverlayRow:
    """One row of a reps overlay.

    Attributes:
        line: 1-based line where the row starts (the header is line 1).
        key: The rep id (or email) the row is for.
        values: Column -> cell text.
    """

    line: int
    key: str
    values: Mapping[str, str]


@attrs.frozen(kw_only=True)
class Overlay:
    """A reps overlay file, read: rows by rep id and by lower-case email.

    Attributes:
        file: The file's name, for exception-report rows.
        rows: Every row, in file order.
    """

    file: str
    rows: tuple[OverlayRow, ...] = ()

    def apply(
        self, reps: Sequence[Rep], base: Mapping[str, RepProfile] | None = None
    ) -> tuple[list[Rep], list[InputProblem]]:
        """Apply ``base`` profiles (by rep id) then this file's rows to the CRM's reps.

        A rep with an unreadable value is kept out of routing (``active=False``) and
        reported; a row matching no rep is reported as ``UNKNOWN_REP``.
        """
        base = base or {}
        by_key: dict[str, OverlayRow] = {}
        for each in self.rows:
            by_key.setdefault(each.key, each)
            by_key.setdefault(each.key.lower(), each)
        used: set[int] = set()
        out: list[Rep] = []
        problems: list[InputProblem] = []
        for rep in reps:
            profile = base.get(rep.id, RepProfile())
            row = by_key.get(rep.id) or (by_key.get(rep.email.lower()) if rep.email else None)
            errors: list[ProfileError] = []
            if row is not None:
                used.add(row.line)
                zone = profile.timezone or rep.availability.timezone
                from_file, errors = profile_from_text(row.values, timezone=zone)
                profile = merge_profiles(profile, from_file)
            merged = profile.apply(rep)
            if errors:
                merged = attrs.evolve(merged, active=False)
                problems.extend(self._problem(row.line if row else None, rep.id, e) for e in errors)
            out.append(merged)
        for unused in self.rows:
            if unused.line not in used:
                problems.append(
                    self._problem(
                        unused.line,
                        unused.key,
                        ProfileError(
                            "UNKNOWN_REP",
                            "id",
                            f"no rep in the CRM has the id or email {unused.key!r}",
                        ),
                    )
                )
        return out, problems

    def _problem(self, line: int | None, rep_id: str, error: ProfileError) -> InputProblem:
        suffix = "" if error.code == "UNKNOWN_REP" else "; the rep takes no leads until it is fixed"
        return InputProblem(
            file=self.file,
            line=line,
            record_id=rep_id,
            kind="rep",
            field=error.field,
            code=error.code,
            message=f"{error}{suffix}",
        )


def read_overlay(path: Path) -> Overlay:
    """Read a reps overlay CSV (``id`` column required, others as in ``reps.csv``).

    Raises ``InputFileError`` naming the file (and line) when it cannot be used at all:
    missing, too large, not UTF-8, no ``id`` column, or a column that is not a rep field.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"cannot read the reps overlay ({exc.strerror})", file=str(path)
        ) from None
    if len(data) > MAX_OVERLAY_BYTES:
        raise InputFileError(
            f"the reps overlay is over {MAX_OVERLAY_BYTES // 1024 // 1024} MB", file=str(path)
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"not UTF-8 (byte {exc.start})", file=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if "id" not in header:
        raise InputFileError("the reps overlay needs an 'id' column", file=str(path), line=1)
    allowed = {"id", *PROFILE_FIELDS, *ALIASES}
    for column in header:
        if column and column not in allowed:
            raise InputFileError(
                f"column {column!r} is not a rep field (expected: id, {', '.join(PROFILE_FIELDS)})",
                file=str(path),
                line=1,
            )
    rows: list[OverlayRow] = []
    for cells in _rows(reader):
        line, values = cells
        if len(values) > len(header):
            raise InputFileError(
                f"{len(values)} cells for {len(header)} columns", file=str(path), line=line
            )
        record = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
        key = record.pop("id", "")
        if not key:
            raise InputFileError("a row without an id", file=str(path), line=line)
        rows.append(OverlayRow(line=line, key=key, values=record))
    return Overlay(file=name, rows=tuple(rows))


def _rows(reader: Any) -> Iterable[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on (a quoted cell may span lines)."""
    start = reader.line_num + 1
    for values in reader:
        if any(v.strip() for v in values):
            yield start, values
        start = reader.line_num + 1
