"""Generate the demo's ``activity.csv``: what reps did with the leads after routing.

Written after the demo routes (activity needs owners), from a seeded generator, and read
back through the CSV adapter like any CRM activity export. The mix is deliberately
realistic rather than flattering: most leads are touched within their SLA, some late,
some never; meetings and conversions follow touches; one rep declines a lead; the CRM
flags a few SLA breaches itself. Events after ``now`` are not written (they have not
happened yet), so the newest leads are still open. Whether a touched lead books a meeting,
and converts after it, depends on the owner's latent skill for the lead's segment and
product (``leadroute.demo.skill``), which routing never sees.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from leadroute.demo.generate import REPS
from leadroute.demo.skill import chance, latent_skill
from leadroute.files import write_text_atomic
from leadroute.models import Decision, DecisionStatus

__all__ = ["ACTIVITY_HEADER", "DECLINED_LEAD", "write_activity"]

ACTIVITY_HEADER = ("lead_id", "rep_id", "kind", "at", "detail")
# The lead whose owner declines it (and still holds it): a "declined" row in the report.
DECLINED_LEAD = "L-0181"

# (share, shortest, longest minutes) from assignment to first touch; the rest: never.
TOUCH_DELAYS = ((0.62, 2, 14), (0.16, 15, 29), (0.07, 31, 55), (0.05, 60, 300))
CHANNELS = ("call", "email", "call", "linkedin", "email")
MEETING_CHANCE = 0.3  # of a touched lead, for a rep of average skill
CONVERT_CHANCE = 0.35  # after a meeting, for a rep of average skill


def _touch_delay(rng: random.Random) -> timedelta | None:
    roll, floor = rng.random(), 0.0
    for share, low, high in TOUCH_DELAYS:
        floor += share
        if roll < floor:
            return timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59))
    return None


Skill = dict[str, dict[str, float]]


def _events(
    decision: Decision, rng: random.Random, skill: Skill | None = None
) -> list[tuple[datetime, str, str, str]]:
    """(at, rep, kind, detail) events for one lead, before filtering by ``now``."""
    rep, start = decision.owner_id, decision.decided_at
    if decision.lead_id == DECLINED_LEAD:
        return [(start + timedelta(minutes=7), rep, "rejected", "not my territory")]
    if decision.status == DecisionStatus.FALLBACK:
        # The queue owner has not placed these yet: exactly what the report must surface.
        return []
    events = []
    if rng.random() < 0.85:
        events.append((start + timedelta(minutes=rng.randint(1, 20)), rep, "accepted", ""))
    delay = _touch_delay(rng)
    if delay is None:
        if rng.random() < 0.4:
            events.append((start + timedelta(hours=2), "", "sla_breached", "no first touch"))
        return events
    touch = start + delay
    events.append((touch, rep, "first_touch", rng.choice(CHANNELS)))
    segment = decision.features.get("segment", "")
    product = decision.features.get("product", "")
    skill = skill or {}
    if rng.random() < chance(MEETING_CHANCE, skill, rep, segment, product):
        meeting = touch + timedelta(hours=rng.randint(2, 40))
        events.append((meeting, rep, "meeting_booked", "discovery call"))
        if rng.random() < chance(CONVERT_CHANCE, skill, rep, segment, product):
            events.append((meeting + timedelta(hours=rng.randint(1, 20)), rep, "converted", ""))
    return events


def write_activity(
    path: Path, decisions: Iterable[Decision], *, now: datetime, seed: int = 7
) -> Path:
    """Write ``activity.csv`` for the decided leads, in time order, events up to ``now`` only."""
    rows = []
    skill = latent_skill([r[0] for r in REPS], seed)
    ordered = sorted(decisions, key=lambda d: (d.lead_id, d.epoch))
    for decision, after in zip(ordered, [*ordered[1:], None], strict=True):
        # An owner works a lead only until a later epoch moves it (a duplicate's person
        # following a new owner): nothing of theirs is recorded after that.
        moved = after is not None and after.lead_id == decision.lead_id
        until = min(now, after.decided_at) if moved and after is not None else now
        rng = random.Random(f"{seed}:{decision.lead_id}")
        for at, rep, kind, detail in _events(decision, rng, skill):
            if at <= until and not (moved and at == until):
                rows.append((at, decision.lead_id, rep, kind, detail))
    rows.sort()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ACTIVITY_HEADER)
    for at, lead_id, rep, kind, detail in rows:
        stamp = at.isoformat().replace("+00:00", "Z")
        writer.writerow((lead_id, rep, kind, stamp, detail))
    return write_text_atomic(path, buffer.getvalue())
