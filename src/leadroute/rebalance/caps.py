"""Every cap, checked on a plan's end state before anything is committed.

The solve keeps open-lead, daily, weekly, per-type and pool caps for the leads it
places, one lead at a time. A move can carry more than its lead: the person's other
records follow it (``leadroute.engine``), and a forced move may land on a pool's backup
outside the solve. So before a plan is committed, ``rejected_arrivals`` recomputes every
rep's end state from the loads and usage now, every record leaving (its owner's open
count falls) and every record arriving (open count, and the day, week and type counts of
the rep's local day, rises), and for each rep that receives anything checks every cap:
``max_open``, ``per_day``, ``per_week`` (in ``capacity.load`` units) and ``per_type``. A
rep over a cap gives back its lowest-priority arrival that adds to that cap, and the
check runs again until no rep is over a cap its arrivals add to. A rep already over a
cap before the plan (its source count grew) receives nothing that adds to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs

from leadroute.models import ExclusionCode, Rep
from leadroute.usage import Usage

__all__ = ["Arrival", "Transfer", "rejected_arrivals"]

EPS = 1e-9


@attrs.frozen(kw_only=True)
class Transfer:
    """One record changing owner.

    Attributes:
        lead_id: The record.
        from_owner: Its owner now.
        load: Whether it counts on its owner's open leads (an appended record does not).
        usage: What it adds to the new owner's day and week (0 when it does not count).
        lead_type: Its lead type (lower case), for per-type caps.
    """

    lead_id: str
    from_owner: str
    load: bool = True
    usage: float = 1.0
    lead_type: str = ""


@attrs.frozen(kw_only=True)
class Arrival:
    """One planned move: a lead and the records that follow it, all to one rep.

    Attributes:
        key: The move's id in the plan (the moving lead's id).
        rep_id: Where everything goes.
        records: The lead itself first, then its followers.
    """

    key: str
    rep_id: str
    records: tuple[Transfer, ...]

    @property
    def followers(self) -> int:
        return len(self.records) - 1


def rejected_arrivals(
    arrivals: Sequence[Arrival],
    reps: Mapping[str, Rep],
    loads: Mapping[str, int],
    usage: Usage,
    at: datetime,
) -> dict[str, str]:
    """The arrivals to drop so that no rep receiving anything ends over a cap.

    ``arrivals`` are in priority order (the last is the first given back). Returns
    move key -> the cap it would break (``OPEN_CAP rep-003 36/35 with 1 follower``).
    """
    kept = list(arrivals)
    rejected: dict[str, str] = {}
    while True:
        broken = _broken(kept, reps, loads, usage, at)
        if not broken:
            return _take_back(arrivals, kept, rejected, reps, loads, usage, at)
        for rep_id, (why, adds) in broken.items():
            # The lowest-priority arrival that adds to the broken cap (a trial lead does
            # not help a demo cap).
            last = next(a for a in reversed(kept) if a.rep_id == rep_id and adds(a))
            follow = f" with {last.followers} follower{'s' * (last.followers != 1)}"
            rejected[last.key] = f"{why}{follow if last.followers else ''}"
            kept.remove(last)


def _take_back(
    arrivals: Sequence[Arrival],
    kept: list[Arrival],
    rejected: dict[str, str],
    reps: Mapping[str, Rep],
    loads: Mapping[str, int],
    usage: Usage,
    at: datetime,
) -> dict[str, str]:
    """Give back, in priority order, each rejected arrival that fits now: a small arrival
    given back before a large one (a person with followers) was made room for by it."""
    for arrival in arrivals:
        if arrival.key not in rejected:
            continue
        trial = [a for a in arrivals if a in kept or a is arrival]
        if not _broken(trial, reps, loads, usage, at):
            kept[:] = trial
            del rejected[arrival.key]
    return rejected


def _broken(
    kept: Sequence[Arrival],
    reps: Mapping[str, Rep],
    loads: Mapping[str, int],
    usage: Usage,
    at: datetime,
) -> dict[str, tuple[str, Callable[[Arrival], bool]]]:
    """Rep id -> the first cap its end state breaks, for reps receiving something, and
    which arrivals add to it."""
    open_delta: defaultdict[str, int] = defaultdict(int)
    loaded: defaultdict[str, int] = defaultdict(int)
    day: defaultdict[str, float] = defaultdict(float)
    kinds: defaultdict[tuple[str, str], int] = defaultdict(int)
    receiving: list[str] = []
    for arrival in kept:
        if arrival.rep_id not in receiving:
            receiving.append(arrival.rep_id)
        for record in arrival.records:
            if record.from_owner == arrival.rep_id:
                continue  # already theirs: nothing changes
            if record.load:
                open_delta[arrival.rep_id] += 1
                open_delta[record.from_owner] -= 1
                loaded[arrival.rep_id] += 1
            if record.usage:
                day[arrival.rep_id] += record.usage
                kinds[arrival.rep_id, record.lead_type] += 1
    broken: dict[str, tuple[str, Callable[[Arrival], bool]]] = {}
    for rep_id in receiving:
        rep = reps.get(rep_id)
        if rep is None:
            continue
        end_open = loads.get(rep_id, 0) + open_delta[rep_id]
        got = {kind: n for (r, kind), n in kinds.items() if r == rep_id}
        why, adds = _first_broken(rep, end_open, loaded[rep_id], day[rep_id], got, usage, at)
        if why:
            broken[rep_id] = (why, adds)
    return broken


def _adds_load(arrival: Arrival) -> bool:
    return any(r.load and r.from_owner != arrival.rep_id for r in arrival.records)


def _adds_usage(arrival: Arrival) -> bool:
    return any(r.usage and r.from_owner != arrival.rep_id for r in arrival.records)


def _adds_kind(kind: str) -> Callable[[Arrival], bool]:
    def adds(arrival: Arrival) -> bool:
        return any(
            r.usage and r.lead_type == kind and r.from_owner != arrival.rep_id
            for r in arrival.records
        )

    return adds


def _first_broken(
    rep: Rep,
    end_open: int,
    loaded: int,
    arriving: float,
    kinds: Mapping[str, int],
    usage: Usage,
    at: datetime,
) -> tuple[str, Callable[[Arrival], bool]]:
    """The first cap a rep's end state breaks (``""``: none) and which arrivals add to it."""
    cap = rep.capacity
    checks: list[tuple[ExclusionCode, float, float | None, Callable[[Arrival], bool]]] = [
        (ExclusionCode.OPEN_CAP, end_open, cap.max_open, _adds_load),
        (ExclusionCode.DAILY_CAP, usage.day(rep.id, at) + arriving, cap.per_day, _adds_usage),
        (ExclusionCode.WEEKLY_CAP, usage.week(rep.id, at) + arriving, cap.per_week, _adds_usage),
    ]
    for code, value, limit, adds in checks:
        # Only a cap the arrivals add to: a rep already over it keeps what it has.
        incoming = loaded if code == ExclusionCode.OPEN_CAP else arriving
        if limit is not None and incoming > 0 and value > limit + EPS:
            return f"{code} {rep.id} {value:g}/{limit:g}", adds
    for kind, limit_of_type in sorted(cap.per_type.items()):
        value = usage.of_type(rep.id, at, kind) + kinds.get(kind, 0)
        if kinds.get(kind, 0) > 0 and value > limit_of_type:
            why = f"{ExclusionCode.TYPE_CAP} {rep.id} {kind} {value}/{limit_of_type}"
            return why, _adds_kind(kind)
    return "", _adds_load
