"""What each rep received per local day, local week and lead type: the input to stacked caps.

A day is the rep's local calendar day and a week starts on the rep's local Monday, so a
rep in Los Angeles with ``per_day: 10`` gets ten leads between their midnights, whatever
the UTC date. A lead counts on the day it was decided, except one given to the member
who starts work first (a pool's ``defer: earliest_available``): that one was checked
against the caps of the day its owner starts, and counts there (``received_at``). The
counts come from the store's decisions and grow with each decision of the run, so leads
decided earlier in the same run count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from leadroute.models import Decision, DecisionStatus, Lead, Rep, RouteStep
from leadroute.policy import Policy

__all__ = ["EARLIEST", "Usage", "lead_load", "local_day", "received_at", "week_start"]


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The calendar date at ``at`` in a zone."""
    return at.astimezone(zone).date()


def week_start(day: date) -> date:
    """The Monday of a date's week."""
    return day - timedelta(days=day.weekday())


# The route-path step of a lead given to whoever starts first (``Pipeline._earliest``).
EARLIEST = "defer:earliest_available:"


def received_at(decision: Decision) -> datetime:
    """When a decision's lead counts on its owner's day and week caps: when it was decided,
    or for a lead given to whoever starts first, when its owner's clock starts."""
    if decision.sla_starts_at is not None and any(
        step.startswith(EARLIEST) for step in decision.route_path
    ):
        return decision.sla_starts_at
    return decision.decided_at


def lead_load(lead: Lead, policy: Policy) -> float:
    """The load a lead puts on daily and weekly caps under the policy's ``capacity.load``."""
    settings = policy.capacity
    if settings.load == "count":
        return 1.0
    raw = lead.get(settings.load).strip().replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return settings.missing_load
    return value if value >= 0 else settings.missing_load


@attrs.define
class Usage:
    """Load received per rep, per local day, per local week and per (local day, lead type)."""

    zones: dict[str, ZoneInfo] = attrs.field(factory=dict)
    days: defaultdict[tuple[str, date], float] = attrs.field(factory=lambda: defaultdict(float))
    weeks: defaultdict[tuple[str, date], float] = attrs.field(factory=lambda: defaultdict(float))
    types: defaultdict[tuple[str, date, str], int] = attrs.field(factory=lambda: defaultdict(int))

    @classmethod
    def build(cls, reps: Mapping[str, Rep], decisions: Iterable[Decision] = ()) -> Usage:
        """Usage from stored decisions; kept owners and fallback queue items do not count."""
        usage = cls(zones={r.id: ZoneInfo(r.availability.timezone) for r in reps.values()})
        for d in decisions:
            if d.step == RouteStep.CURRENT_OWNER or d.status == DecisionStatus.FALLBACK:
                continue
            usage.add(d.owner_id, received_at(d), d.features.get("lead_type", ""), d.load)
        return usage

    def _zone(self, rep_id: str) -> ZoneInfo:
        return self.zones.get(rep_id) or ZoneInfo("UTC")

    def add(self, rep_id: str, at: datetime, lead_type: str, load: float) -> None:
        """Count one lead received at ``at``."""
        day = local_day(at, self._zone(rep_id))
        self.days[rep_id, day] += load
        self.weeks[rep_id, week_start(day)] += load
        self.types[rep_id, day, lead_type.strip().lower()] += 1

    def remove(self, rep_id: str, at: datetime, lead_type: str, load: float) -> None:
        """Take back one lead counted by ``add`` (a decision that did not stand)."""
        day = local_day(at, self._zone(rep_id))
        self.days[rep_id, day] -= load
        self.weeks[rep_id, week_start(day)] -= load
        self.types[rep_id, day, lead_type.strip().lower()] -= 1

    def copy(self) -> Usage:
        """An independent copy (for planning without committing)."""
        return Usage(
            zones=dict(self.zones),
            days=defaultdict(float, self.days),
            weeks=defaultdict(float, self.weeks),
            types=defaultdict(int, self.types),
        )

    def day(self, rep_id: str, at: datetime) -> float:
        """Load received on the rep's local day containing ``at``."""
        return self.days.get((rep_id, local_day(at, self._zone(rep_id))), 0.0)

    def week(self, rep_id: str, at: datetime) -> float:
        """Load received in the rep's local week containing ``at``."""
        return self.weeks.get((rep_id, week_start(local_day(at, self._zone(rep_id)))), 0.0)

    def of_type(self, rep_id: str, at: datetime, lead_type: str) -> int:
        """Leads of one type received on the rep's local day containing ``at``."""
        key = (rep_id, local_day(at, self._zone(rep_id)), lead_type.strip().lower())
        return self.types.get(key, 0)
