"""Working time: weekly hours in a time zone, minus public holidays.

One calendar type serves every clock that counts only working time: a rep's working
hours (is the rep on shift now? when does their next shift start?) and SLA deadlines
("first touch within 4 working hours"). Hours are written per weekday in local time
(``{"mon-fri": "09:00-17:30", "sat": "10:00-14:00"}``); public holidays come from the
``holidays`` library for a country (and optionally a subdivision, ``DE-BY``).

A calendar may also carry periods away (``away``: leave, dated pauses, the time before a
new hire starts), given as UTC instants: they are closed like holidays, so an SLA clock
stops during a rep's leave and a rep's next working instant is after it.

Everything returned is timezone-aware UTC. Local times that do not exist (the hour
skipped when clocks go forward) are resolved by ``zoneinfo``'s rules, so a shift that
starts inside the gap starts at the first instant after it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import holidays

__all__ = [
    "WorkingHours",
    "WorktimeError",
    "calendar_for",
    "describe_week",
    "hours_for",
    "parse_days",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead to look for the next working instant before declaring the calendar empty:
# a year covers any real holiday season with room to spare.
HORIZON_DAYS = 400

Window = tuple[time, time]
Span = tuple[datetime, datetime]
# Every day open from midnight to midnight: a calendar with no hours.
AROUND_THE_CLOCK: tuple[tuple[Window, ...], ...] = (((time.min, time.max),),) * 7

_WINDOW_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class WorktimeError(ValueError):
    """A working-hours specification is malformed; the message is shown as is."""


def _parse_time(hours: str, minutes: str, text: str) -> time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time.max  # "…-24:00": until the end of the day
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise WorktimeError(f"{text!r} is not a time range like '09:00-17:30'")
    return time(h, m)


def _parse_windows(text: str) -> tuple[Window, ...]:
    """``"09:00-12:00, 13:00-17:30"`` -> ordered, non-overlapping windows."""
    if text.strip().lower() in ("", "off", "closed"):
        return ()
    windows: list[Window] = []
    for part in text.split(","):
        match = _WINDOW_RE.match(part.strip())
        if not match:
            raise WorktimeError(f"{part.strip()!r} is not a time range like '09:00-17:30'")
        start = _parse_time(match[1], match[2], part)
        end = _parse_time(match[3], match[4], part)
        if end <= start:
            raise WorktimeError(
                f"{part.strip()!r} ends before it starts (split a night shift over two days)"
            )
        windows.append((start, end))
    windows.sort()
    for (_, end), (start, _) in pairwise(windows):
        if start < end:
            raise WorktimeError(f"{text!r} has overlapping time ranges")
    return tuple(windows)


def _parse_day_names(spec: str) -> list[int]:
    """``mon-fri``, ``sat,sun``, ``wed`` -> weekday numbers (Monday is 0)."""
    found: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise WorktimeError(f"{spec!r}: days are mon, tue, wed, thu, fri, sat, sun or ranges")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise WorktimeError(f"{spec!r}: a day range runs forwards (mon-fri, not fri-mon)")
        found.extend(range(a, b + 1))
    return found


def parse_days(days: Mapping[str, str]) -> tuple[tuple[Window, ...], ...]:
    """Weekday specs to seven tuples of windows (Monday first); unnamed days are closed.

    A day named twice is an error, so ``mon-fri`` and ``fri`` cannot silently disagree.
    """
    week: list[tuple[Window, ...] | None] = [None] * 7
    for spec, hours in days.items():
        windows = _parse_windows(str(hours))
        for day in _parse_day_names(str(spec)):
            if week[day] is not None:
                raise WorktimeError(f"{DAYS[day]} is given twice")
            week[day] = windows
    return tuple(w or () for w in week)


@functools.lru_cache(maxsize=256)
def _holiday_dates(country: str, subdivision: str, year: int) -> frozenset[date]:
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(calendar.keys())


@functools.lru_cache(maxsize=256)
def _holiday_names(country: str, subdivision: str, year: int) -> Mapping[date, str]:
    # Building a calendar costs milliseconds; a rep's holiday is asked for on every lead.
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return {day: str(name) for day, name in calendar.items()}


def _split_region(region: str) -> tuple[str, str]:
    country, _, subdivision = region.strip().upper().partition("-")
    return country, subdivision


@attrs.frozen(kw_only=True)
class WorkingHours:
    """Weekly working hours in one time zone, closed on that place's public holidays.

    Build with ``WorkingHours.from_spec``; the default is open around the clock in UTC.

    Attributes:
        timezone: IANA zone the hours are written in (``Europe/Berlin``).
        week: Seven tuples of ``(start, end)`` local windows, Monday first.
        holidays: ``""`` for none, a country (``DE``) or country and subdivision (``DE-BY``)
            whose public holidays are closed.
        closed: Extra closed dates (company shutdowns), local.
        away: Closed periods as UTC ``(start, end)`` instants, start inclusive, sorted and
            not overlapping (``with_away``): leave and dated pauses.
        starts: The first working instant ever (a new hire's start), ``None`` for none.
    """

    timezone: str = "UTC"
    week: tuple[tuple[Window, ...], ...] = AROUND_THE_CLOCK
    holidays: str = ""
    closed: tuple[date, ...] = ()
    away: tuple[Span, ...] = ()
    starts: datetime | None = None

    @classmethod
    def from_spec(
        cls,
        days: Mapping[str, str] | None = None,
        *,
        timezone: str = "UTC",
        holidays_in: str = "",
        closed: Sequence[date] = (),
    ) -> WorkingHours:
        """Parse and check hours; ``WorktimeError`` names what is wrong.

        :param days: Weekday spec to hours (``{"mon-fri": "09:00-17:30"}``); ``None`` means
            open around the clock every day.
        :param timezone: IANA zone name.
        :param holidays_in: Country (``GB``) or country-subdivision (``DE-BY``) for public
            holidays, ``""`` for none.
        :param closed: Extra closed local dates.
        """
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise WorktimeError(f"unknown time zone {timezone!r}") from None
        country, subdivision = _split_region(holidays_in)
        if country:
            supported = holidays.list_supported_countries()
            if country not in supported:
                raise WorktimeError(f"no public-holiday calendar for country {country!r}")
            if subdivision and subdivision not in supported[country]:
                raise WorktimeError(f"{country} has no subdivision {subdivision!r}")
        week = parse_days(days) if days is not None else cls().week
        return cls(
            timezone=timezone,
            week=week,
            holidays=holidays_in.strip().upper(),
            closed=tuple(closed),
        )

    def with_away(self, spans: Sequence[Span], starts: datetime | None = None) -> WorkingHours:
        """This calendar, also closed during ``spans`` (merged with any it had) and before
        ``starts``."""
        merged: list[Span] = []
        for start, end in sorted((*self.away, *spans)):
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        first = max(filter(None, (self.starts, starts)), default=None)
        return attrs.evolve(self, away=tuple(merged), starts=first)

    @property
    def is_wall_clock(self) -> bool:
        """Whether every instant is working time (no hours, holidays or periods away)."""
        return (
            self.week == AROUND_THE_CLOCK
            and not self.holidays
            and not self.closed
            and not self.away
            and self.starts is None
        )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone."""
        return ZoneInfo(self.timezone)

    def is_closed_day(self, day: date) -> bool:
        """Whether a local date is a public holiday or an extra closed day."""
        if day in self.closed:
            return True
        if not self.holidays:
            return False
        country, subdivision = _split_region(self.holidays)
        return day in _holiday_dates(country, subdivision, day.year)

    def holiday_name(self, day: date) -> str:
        """The public holiday's name on a local date, ``""`` when it is none."""
        if not self.holidays:
            return ""
        country, subdivision = _split_region(self.holidays)
        return _holiday_names(country, subdivision, day.year).get(day, "")

    def windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of a local date, as UTC instants (none on a closed day)."""
        if self.is_closed_day(day):
            return []
        zone = self.zone
        spans = []
        for start, end in self.week[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=zone)
            finish = (
                datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
                if end == time.max
                else datetime.combine(day, end, tzinfo=zone)
            )
            spans.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return spans

    def _windows_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows that end after ``at``, in order, for up to ``HORIZON_DAYS``
        (with the periods away cut out)."""
        first = at.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(HORIZON_DAYS + 1):
            for start, end in self.windows_on(first + timedelta(days=offset)):
                if end > at:
                    yield from self._cut_away(start, end)

    def _cut_away(self, start: datetime, end: datetime) -> Iterator[Span]:
        """The parts of one window outside every period away (and after ``starts``)."""
        if self.starts is not None:
            if end <= self.starts:
                return
            start = max(start, self.starts)
        for gone, back in self.away:
            if back <= start or gone >= end:
                continue
            if gone > start:
                yield start, gone
            start = max(start, back)
            if start >= end:
                return
        yield start, end

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside working hours (and outside every period away)."""
        if any(gone <= at < back for gone, back in self.away):
            return False
        if self.starts is not None and at < self.starts:
            return False
        day = at.astimezone(self.zone).date()
        return any(
            start <= at < end
            for d in (day - timedelta(days=1), day)
            for start, end in self.windows_on(d)
        )

    def next_open(self, at: datetime) -> datetime:
        """The first working instant at or after ``at`` (``at`` itself when open)."""
        for start, _ in self._windows_from(at):
            return max(start, at)
        raise WorktimeError(f"no working hours within {HORIZON_DAYS} days of {at.isoformat()}")

    def add(self, at: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of working time after ``at`` (an SLA deadline).

        Time outside working hours does not count: 4 working hours from Friday 16:00 on a
        09:00-17:00 week end on Monday at 12:00.
        """
        left = duration
        for start, end in self._windows_from(at):
            begin = max(start, at)
            if begin + left <= end:
                return begin + left
            left -= end - begin
        raise WorktimeError(f"no working hours within {HORIZON_DAYS} days of {at.isoformat()}")

    def local_label(self, at: datetime) -> str:
        """``Europe/Berlin 19:40``: the local clock, as exclusion details show it."""
        return f"{self.timezone} {at.astimezone(self.zone):%H:%M}"

    def describe(self) -> str:
        """The week, holidays and periods away in words, as ``explain`` shows a calendar:
        ``Asia/Tokyo, mon-fri 09:00-18:00, JP holidays, away 2026-11-04..2026-11-06``."""
        around = self.week == AROUND_THE_CLOCK
        parts = [self.timezone, "around the clock" if around else describe_week(self.week)]
        if self.holidays:
            parts.append(f"{self.holidays} holidays")
        zone = self.zone
        if self.starts is not None:
            parts.append(f"starts {_local(self.starts, zone)}")
        for gone, back in self.away:
            first, until = gone.astimezone(zone), back.astimezone(zone)
            if first.time() == time.min and until.time() == time.min:
                last = (until - timedelta(days=1)).date()
                parts.append(f"away {first.date()}..{last}")
            else:
                parts.append(f"away {_local(gone, zone)}..{_local(back, zone)}")
        return ", ".join(parts)


def _local(at: datetime, zone: ZoneInfo) -> str:
    """A local date, with its time unless it is midnight."""
    local = at.astimezone(zone)
    return f"{local.date()}" if local.time() == time.min else f"{local:%Y-%m-%d %H:%M}"


def _window_text(windows: tuple[Window, ...]) -> str:
    if not windows:
        return "off"
    return ",".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in windows)


def describe_week(week: tuple[tuple[Window, ...], ...]) -> str:
    """``mon-fri 09:00-17:00``: runs of equal days, closed days left out."""
    runs: list[tuple[int, int, str]] = []
    for day, windows in enumerate(week):
        text = _window_text(windows)
        if runs and runs[-1][2] == text and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, text)
        else:
            runs.append((day, day, text))
    shown = [
        (DAYS[a] if a == b else f"{DAYS[a]}-{DAYS[b]}") + f" {text}"
        for a, b, text in runs
        if text != "off"
    ]
    return "; ".join(shown) or "no working hours"


@functools.lru_cache(maxsize=4096)
def hours_for(
    timezone: str, days: tuple[tuple[str, str], ...] | None, holidays_in: str
) -> WorkingHours:
    """``WorkingHours.from_spec``, cached: a rep's calendar is asked for on every lead.

    :param timezone: IANA zone name.
    :param days: ``(weekday spec, hours)`` pairs, or ``None`` for around the clock.
    :param holidays_in: Country or country-subdivision, ``""`` for none.
    """
    return WorkingHours.from_spec(
        dict(days) if days is not None else None, timezone=timezone, holidays_in=holidays_in
    )


@functools.lru_cache(maxsize=4096)
def calendar_for(
    timezone: str,
    days: tuple[tuple[str, str], ...] | None,
    holidays_in: str,
    away: tuple[Span, ...] = (),
    starts: datetime | None = None,
) -> WorkingHours:
    """``hours_for`` closed during ``away`` and before ``starts``, cached: an owner's SLA
    calendar is asked for on every decision.

    :param away: ``(start, end)`` UTC instants the calendar is closed (leave, pauses).
    :param starts: The first instant it is open, ``None`` for no start.
    """
    hours = hours_for(timezone, days, holidays_in)
    return hours.with_away(away, starts) if away or starts is not None else hours
