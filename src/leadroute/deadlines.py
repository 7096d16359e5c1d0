"""SLA deadlines in the owner's own calendar.

A lead's first-touch deadline (``Decision.sla_due_at``), the fallback queue's escalation
(``Decision.escalate_at``) and the SLA timers of the live service all count working time
in the calendar of whoever owns the lead: the rep a lead is routed to, the queue's owner
for a lead in the fallback or nurture queue, the new owner for a lead that moves
(reassignment, a duplicate that follows its person, rebalance, an SLA breach move).

An owner's calendar (``owner_calendar``) is, in order:

1. the owner's own working hours, in the owner's time zone, closed on the owner's public
   holidays;
2. for an owner without hours of their own, the policy's SLA calendar
   (``lead_types.calendar``: its time zone and days), closed on the owner's holidays when
   they have some, else on the calendar's;
3. for an owner without hours when the policy has no SLA calendar: around the clock in
   the owner's zone, closed on the owner's holidays (the wall clock when they have none).

Every one of them is also closed while the owner is away: leave, dated pauses, a pause
with an end, and before a new hire's start date. So a 4-hour SLA on a lead assigned at
14:30 in Tokyo is due at 10:00 the next working morning there, one assigned at 15:30 in
Berlin before a German holiday at 11:00 on the next German working day, and one assigned
to a rep whose leave starts tomorrow when they are back.

The decision records whose calendar it was (``Decision.sla_calendar``), which ``explain``
shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from leadroute.models import Decision, DecisionStatus, Rep
from leadroute.policy import LeadTypePolicy, Policy
from leadroute.worktime import WorkingHours, WorktimeError, calendar_for

__all__ = ["Clock", "OwnerCalendar", "Reclock", "calendar_zone", "owner_calendar", "reclock"]


@attrs.frozen(kw_only=True)
class OwnerCalendar:
    """The working time one owner's SLA clocks count in.

    Attributes:
        hours: The calendar (its ``is_wall_clock`` means plain clock time).
        label: Whose calendar it is and what it says, for the decision and ``explain``.
        plain: The same calendar without the periods away, used when those leave no
            working time within a year (a pause with no real end must not stop a clock).
    """

    hours: WorkingHours
    label: str
    plain: WorkingHours | None = None

    def add(self, at: datetime, duration: timedelta) -> datetime:
        """``duration`` of the owner's working time after ``at``."""
        for hours in self._calendars():
            try:
                return hours.add(at, duration)
            except WorktimeError:
                continue
        return at + duration

    def start(self, at: datetime) -> datetime | None:
        """The owner's next working instant when ``at`` is outside their working time."""
        for hours in self._calendars():
            try:
                start = hours.next_open(at)
            except WorktimeError:
                continue
            return start if start > at else None
        return None

    def _calendars(self) -> tuple[WorkingHours, ...]:
        # A calendar with no working time within a year (a week of closed days, a pause
        # with no real end) must not stop a clock: then without the time away, then the
        # wall clock.
        if self.hours.is_wall_clock:
            return ()
        return (self.hours, self.plain) if self.plain is not None else (self.hours,)


_WALL = WorkingHours()


def calendar_zone(label: str) -> ZoneInfo | None:
    """The time zone a calendar label (``OwnerCalendar.label``) names, None for the wall
    clock or a label this version did not write."""
    _, colon, rest = label.rpartition(": ")
    if not colon:
        return None
    try:
        return ZoneInfo(rest.split(",", 1)[0].strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def owner_calendar(policy: Policy, rep: Rep | None, owner_id: str = "") -> OwnerCalendar:
    """The calendar an owner's SLA clocks count in (see the module docstring).

    :param rep: The owner, ``None`` when the team does not know them (the policy's
        calendar, or the wall clock, then applies).
    :param owner_id: The owner's id, for the label when ``rep`` is None.
    """
    who = rep.id if rep is not None else owner_id or "the owner"
    spec = policy.lead_types.calendar
    if rep is None:
        if spec is None:
            return OwnerCalendar(hours=_WALL, label="wall clock")
        hours = calendar_for(spec.timezone, tuple(sorted(spec.days.items())), spec.holidays)
        return OwnerCalendar(hours=hours, label=f"the policy's SLA calendar: {hours.describe()}")
    a = rep.availability
    if a.hours:
        hours = a.calendar()
        return OwnerCalendar(
            hours=hours, label=f"{who}'s hours: {hours.describe()}", plain=a.working_hours()
        )
    if spec is not None:
        away = tuple((w.start, w.end) for w in (*a.leave, *a.pauses))
        starts = max(filter(None, (a.starts_at, a.paused_until)), default=None)
        days = tuple(sorted(spec.days.items()))
        holidays = a.holidays or spec.holidays
        hours = calendar_for(spec.timezone, days, holidays, away, starts)
        return OwnerCalendar(
            hours=hours,
            label=f"the policy's SLA calendar for {who}: {hours.describe()}",
            plain=calendar_for(spec.timezone, days, holidays),
        )
    hours = a.calendar()
    if hours.is_wall_clock:
        return OwnerCalendar(hours=hours, label=f"wall clock ({who} has no working hours)")
    return OwnerCalendar(
        hours=hours, label=f"{who}'s calendar: {hours.describe()}", plain=a.working_hours()
    )


@attrs.frozen(kw_only=True)
class Clock:
    """A decision's clock fields (the ``Decision`` attributes of the same names).

    Attributes:
        sla_starts_at: The owner's next working instant when the decision is made outside
            their working time, else None.
        sla_due_at: The first-touch deadline of the lead's type, None without an SLA.
        escalate_at: The fallback queue's escalation, for a queued lead.
        sla_calendar: Whose calendar set them, ``""`` when nothing was set.
    """

    sla_starts_at: datetime | None = None
    sla_due_at: datetime | None = None
    escalate_at: datetime | None = None
    sla_calendar: str = ""

    def fields(self) -> dict[str, Any]:
        """The fields, to build or evolve a ``Decision`` with."""
        return attrs.asdict(self, recurse=False)


@attrs.define
class Reclock:
    """Owner calendars for one team and policy, each built once (a deadline is set on
    every decision).

    Attributes:
        policy: The policy (its SLA calendar and lead types).
        reps: The team, by id.
    """

    policy: Policy
    reps: Mapping[str, Rep]
    _calendars: dict[str, OwnerCalendar] = attrs.field(factory=dict, init=False)

    def calendar(self, owner_id: str) -> OwnerCalendar:
        """The owner's calendar."""
        found = self._calendars.get(owner_id)
        if found is None:
            found = owner_calendar(self.policy, self.reps.get(owner_id), owner_id)
            self._calendars[owner_id] = found
        return found

    def fields(
        self,
        owner_id: str,
        kind: LeadTypePolicy | None,
        at: datetime,
        *,
        queued: bool = False,
    ) -> Clock:
        """The clock fields of a decision for ``owner_id`` made at ``at``: when the clock
        starts (``sla_starts_at``, None when the owner is at work), the first-touch
        deadline of the lead's type, the queue's escalation when ``queued`` and whose
        calendar set them."""
        calendar = self.calendar(owner_id)
        due = calendar.add(at, kind.sla) if kind is not None and kind.sla is not None else None
        escalate = calendar.add(at, self.policy.fallback.escalate_after) if queued else None
        timed = due is not None or escalate is not None
        return Clock(
            sla_starts_at=calendar.start(at),
            sla_due_at=due,
            escalate_at=escalate,
            sla_calendar=calendar.label if timed else "",
        )

    def decision(self, decision: Decision) -> Decision:
        """The decision with its clock fields counted again in its owner's calendar from
        ``decided_at``: for a decision built outside the pipeline (a follower of a moved
        person, an SLA breach move), whose old deadline was its previous owner's."""
        kind = self.policy.lead_types.named(decision.lead_type) if decision.lead_type else None
        queued = (
            decision.status == DecisionStatus.FALLBACK
            and decision.queue == self.policy.fallback.queue
        )
        clock = self.fields(decision.owner_id, kind, decision.decided_at, queued=queued)
        return attrs.evolve(decision, **clock.fields())


def reclock(decision: Decision, policy: Policy, reps: Mapping[str, Rep]) -> Decision:
    """``Reclock(policy, reps).decision(decision)``: one decision's clock in its owner's
    calendar."""
    return Reclock(policy, reps).decision(decision)
