"""Whether a rep is at work: inactive users, leave, pauses, start dates, working hours and
public holidays.

Inactive, on leave, paused (now, or inside a dated pause window) and not yet started reps
are excluded at every step (current owner, account
owner, pool, backup). Working hours and holidays are enforced where the step puts
``hours`` in ``ctx.constraints``: pool routing with ``out_of_hours: exclude`` or
``follow_the_sun``; with ``defer``, or for an account's owner, an off-shift rep keeps the
lead and the SLA clock starts at their next working hour (``Decision.sla_starts_at``).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from leadroute.context import RoutingContext
from leadroute.host import hookimpl
from leadroute.models import Exclusion, ExclusionCode, Lead, Rep

__all__ = ["CHECKS", "leadroute_exclude_rep"]

Check = Callable[[Lead, Rep, RoutingContext], Exclusion | None]


def _inactive(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    if rep.active:
        return None
    return Exclusion(rep_id=rep.id, code=ExclusionCode.REP_INACTIVE, detail="user is inactive")


def _on_leave(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    window = rep.availability.leave_at(ctx.at)
    if window is None:
        return None
    # The last day away, in the rep's own calendar: a leave ending at local midnight
    # on the 3rd is "until 2026-12-02".
    zone = ZoneInfo(rep.availability.timezone)
    back = (window.end.astimezone(zone) - window.end.resolution).date().isoformat()
    return Exclusion(rep_id=rep.id, code=ExclusionCode.ON_LEAVE, detail=f"until {back}")


def _paused(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    availability = rep.availability
    until = availability.paused_until
    window = availability.pause_at(ctx.at)
    if until is not None and until > ctx.at:
        detail = f"until {until.isoformat(timespec='minutes')}"
    elif window is not None:
        zone = ZoneInfo(availability.timezone)
        detail = f"until {window.end.astimezone(zone):%Y-%m-%d %H:%M} {availability.timezone}"
    elif availability.paused and until is None:
        detail = "until resumed"
    else:
        return None
    return Exclusion(rep_id=rep.id, code=ExclusionCode.PAUSED, detail=detail)


def _not_started(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    starts = rep.availability.starts_at
    if starts is None or ctx.at >= starts:
        return None
    zone = ZoneInfo(rep.availability.timezone)
    return Exclusion(
        rep_id=rep.id,
        code=ExclusionCode.NOT_STARTED,
        detail=f"starts {starts.astimezone(zone).date().isoformat()}",
    )


def _holiday(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    if not rep.availability.holidays:
        return None
    calendar = rep.availability.working_hours()
    day = ctx.at.astimezone(calendar.zone).date()
    name = calendar.holiday_name(day)
    if not name:
        return None
    return Exclusion(
        rep_id=rep.id, code=ExclusionCode.HOLIDAY, detail=f"{calendar.holidays} {name}"
    )


def _out_of_hours(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    if not rep.availability.hours:
        return None
    calendar = rep.availability.working_hours()
    if calendar.is_open(ctx.at):
        return None
    if rep.availability.holidays and calendar.holiday_name(ctx.at.astimezone(calendar.zone).date()):
        return None  # the holiday says it better
    return Exclusion(
        rep_id=rep.id, code=ExclusionCode.OUT_OF_HOURS, detail=calendar.local_label(ctx.at)
    )


CHECKS: tuple[tuple[str | None, Check], ...] = (
    (None, _inactive),
    (None, _on_leave),
    (None, _paused),
    (None, _not_started),
    ("hours", _holiday),
    ("hours", _out_of_hours),
)


@hookimpl
def leadroute_exclude_rep(lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Exclusion]:
    """Every availability exclusion that applies."""
    found = []
    for constraint, check in CHECKS:
        if constraint is None or constraint in ctx.constraints:
            exclusion = check(lead, rep, ctx)
            if exclusion is not None:
                found.append(exclusion)
    return found
