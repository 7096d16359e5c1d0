"""SLA deadlines in each owner's own calendar, pinned against a hand-computed calendar.

A team in five time zones (Los Angeles, New York, London, Berlin, Tokyo), each working
09:00-17:30 local on weekdays, closed on their own country's public holidays; the Berlin
rep is on leave on Wednesday and Thursday 4-5 November 2026. Japan's Culture Day
(Tuesday 3 November) is a holiday in Japan only; Europe leaves summer time on 25 October
and the US on 1 November. Every lead type is a demo with a 4-hour SLA and a reminder
halfway. The engine decides with a fake clock; each expected instant below is worked out
by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep

from leadroute.cli.render import explain_lines
from leadroute.deadlines import owner_calendar
from leadroute.engine import Engine
from leadroute.models import Availability, Decision, DecisionStatus, LeaveWindow, Rep, Snapshot
from leadroute.policy import parse_policy
from leadroute.router import Router
from leadroute.sla import timers_for
from leadroute.sla.moves import breach_decision
from leadroute.store.timers import lead_timers
from leadroute.usecases import reassign_one

POLICY = """
version: "time"
pools:
  - {name: us-west, members: [la], out_of_hours: defer}
  - {name: us-east, members: [ny], out_of_hours: defer}
  - {name: uk, members: [ldn], out_of_hours: defer}
  - {name: dach, members: [ber], out_of_hours: defer}
  - {name: apac, members: [tyo], out_of_hours: defer}
routing:
  - {name: west, when: {country: US, state: CA}, pool: us-west}
  - {name: east, when: {country: US}, pool: us-east}
  - {name: uk, when: {country: GB}, pool: uk}
  - {name: dach, when: {country: DE}, pool: dach}
  - {name: apac, when: {country: JP}, pool: apac}
fallback: {owner: ops, queue: unrouted, escalate_after: 4h}
duplicates: {action: reassign}
lead_types:
  types:
    - name: demo
      sla: 4h
      escalation: {remind_at: 0.5, on_breach: reassign, reassign_to: apac}
"""
HOURS = {"mon-fri": "09:00-17:30"}
BERLIN_LEAVE = LeaveWindow(  # Wed 4 and Thu 5 November, Berlin's midnights
    start=datetime(2026, 11, 3, 23, 0, tzinfo=UTC), end=datetime(2026, 11, 5, 23, 0, tzinfo=UTC)
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def member(rep_id: str, zone: str, country: str, **kw: object) -> Rep:
    return Rep(
        id=rep_id,
        availability=Availability(timezone=zone, hours=HOURS, holidays=country, **kw),  # type: ignore[arg-type]
    )


TEAM = [
    member("la", "America/Los_Angeles", "US"),
    member("ny", "America/New_York", "US"),
    member("ldn", "Europe/London", "GB"),
    member("ber", "Europe/Berlin", "DE", leave=(BERLIN_LEAVE,)),
    member("tyo", "Asia/Tokyo", "JP"),
    member("ops", "Europe/London", "GB"),
]
REPS = {r.id: r for r in TEAM}


class FakeClock:
    """The engine's clock, set by the test before each decision."""

    def __init__(self) -> None:
        self.now = utc(2026, 10, 1, 0, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(store, host):
    clock = FakeClock()
    engine = Engine.open(parse_policy(POLICY), store, reps=TEAM, host=host, clock=clock)
    return engine, clock


def decide(world, at: datetime, lead_id: str, **fields: object) -> Decision:
    engine, clock = world
    clock.now = at
    verdict = engine.decide(lead(lead_id, lead_type="demo", **fields))
    assert verdict.decision is not None and verdict.new
    return verdict.decision


CASES = [
    # London, Fri 23 Oct 16:00 BST (15:00 UTC): 1h30 left that day; the clocks go back on
    # Sunday; Monday 26 Oct 09:00 GMT + 2h30 = 11:30 GMT = 11:30 UTC.
    ("london-dst", "ldn", utc(2026, 10, 23, 15, 0), {"country": "GB"}, utc(2026, 10, 26, 11, 30)),
    # New York, Fri 30 Oct 15:30 EDT (19:30 UTC): 2h that day; US summer time ends Sunday;
    # Monday 2 Nov 09:00 EST (14:00 UTC) + 2h = 11:00 EST = 16:00 UTC.
    ("new-york-dst", "ny", utc(2026, 10, 30, 19, 30), {"country": "US"}, utc(2026, 11, 2, 16, 0)),
    # Los Angeles, Fri 30 Oct 16:30 PDT (23:30 UTC): 1h that day; Monday 2 Nov 09:00 PST
    # (17:00 UTC) + 3h = 12:00 PST = 20:00 UTC.
    (
        "los-angeles-dst",
        "la",
        utc(2026, 10, 30, 23, 30),
        {"country": "US", "state": "CA"},
        utc(2026, 11, 2, 20, 0),
    ),
    # Tokyo, Mon 2 Nov 14:30 JST (05:30 UTC): 3h that day; Tue 3 Nov is Culture Day;
    # Wed 4 Nov 09:00 JST + 1h = 10:00 JST = 01:00 UTC (not 18:30 JST on the wall clock).
    ("tokyo-holiday", "tyo", utc(2026, 11, 2, 5, 30), {"country": "JP"}, utc(2026, 11, 4, 1, 0)),
    # Berlin, Tue 3 Nov 15:30 CET (14:30 UTC): 2h that day; on leave Wed and Thu; Fri 6 Nov
    # 09:00 CET + 2h = 11:00 CET = 10:00 UTC.
    ("berlin-leave", "ber", utc(2026, 11, 3, 14, 30), {"country": "DE"}, utc(2026, 11, 6, 10, 0)),
    # London on Tokyo's holiday, Tue 3 Nov 10:00 GMT: a working day in London, 14:00 GMT.
    ("london-works", "ldn", utc(2026, 11, 3, 10, 0), {"country": "GB"}, utc(2026, 11, 3, 14, 0)),
]


@pytest.mark.parametrize(
    ("owner", "at", "fields", "due"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_deadline_runs_in_its_owners_calendar(world, owner, at, fields, due):
    """The first-touch deadline counts the owner's working hours, zone, holidays, leave and
    DST, and the SLA timers (breach, reminder) read the same deadline."""
    d = decide(world, at, "L1", **fields)
    assert (d.owner_id, d.sla_due_at) == (owner, due)
    assert d.sla_calendar.startswith(f"{owner}'s hours: ")
    engine, _ = world
    timers = {t.kind: t.due_at for t in timers_for(d, engine.policy, engine.reps)}
    assert timers["breach"] == due
    assert at < timers["reminder"] < due


def test_the_reminder_is_half_the_owners_working_time(world):
    """Halfway through Tokyo's 4h from 14:30 JST is 16:30 JST the same day (07:30 UTC);
    halfway through Berlin's from Tue 15:30 CET is 17:30 CET, before the leave."""
    engine, _ = world
    tokyo = decide(world, utc(2026, 11, 2, 5, 30), "T1", country="JP")
    berlin = decide(world, utc(2026, 11, 3, 14, 30), "B1", country="DE")
    reminders = [
        next(t.due_at for t in lead_timers(engine.store, d.lead_id) if t.kind == "reminder")
        for d in (tokyo, berlin)
    ]
    assert reminders == [utc(2026, 11, 2, 7, 30), utc(2026, 11, 3, 16, 30)]


def test_a_reassigned_lead_gets_its_new_owners_deadline(world):
    """Berlin, Mon 2 Nov 16:00 CET: 1h30 Monday + 2h30 Tuesday = Tue 11:30 CET (10:30 UTC).
    Moved to Tokyo on Tue 10:00 UTC (19:00 JST on Culture Day): Tokyo's 4h start Wed 09:00
    JST, due 13:00 JST = Wed 04:00 UTC; the reminder at 11:00 JST (02:00 UTC)."""
    engine, clock = world
    first = decide(world, utc(2026, 11, 2, 15, 0), "R1", country="DE")
    assert (first.owner_id, first.sla_due_at) == ("ber", utc(2026, 11, 3, 10, 30))
    clock.now = utc(2026, 11, 3, 10, 0)
    moved = reassign_one(engine, first, to="apac", reason="SLA_BREACHED").decision
    assert moved is not None and moved.epoch == 2
    assert (moved.owner_id, moved.sla_due_at) == ("tyo", utc(2026, 11, 4, 4, 0))
    assert moved.sla_starts_at == utc(2026, 11, 4, 0, 0)  # Wed 09:00 JST
    assert moved.sla_calendar == "tyo's hours: Asia/Tokyo, mon-fri 09:00-17:30, JP holidays"
    pending = {(t.kind, t.due_at) for t in lead_timers(engine.store, "R1") if t.status == "pending"}
    assert pending == {("reminder", utc(2026, 11, 4, 2, 0)), ("breach", utc(2026, 11, 4, 4, 0))}


def test_a_duplicate_follows_with_its_new_owners_deadline(world):
    """Kim's US demo (Mon 2 Nov 11:00 EST -> ny, due 15:00 EST = 20:00 UTC) is followed by
    a GB demo on Tue 3 Nov 16:00 GMT that reassigns the person to London: 1h30 Tuesday +
    2h30 Wednesday = Wed 11:30 GMT; the earlier record follows with that deadline too,
    not New York's passed one."""
    first = decide(world, utc(2026, 11, 2, 16, 0), "P1", country="US", email="kim@acme.io")
    assert (first.owner_id, first.sla_due_at) == ("ny", utc(2026, 11, 2, 20, 0))
    engine, clock = world
    clock.now = utc(2026, 11, 3, 16, 0)
    verdict = engine.decide(lead("P2", lead_type="demo", country="GB", email="kim@acme.io"))
    assert verdict.decision is not None and verdict.decision.owner_id == "ldn"
    assert verdict.decision.sla_due_at == utc(2026, 11, 4, 11, 30)
    [follower] = verdict.followers
    assert (follower.lead_id, follower.owner_id, follower.epoch) == ("P1", "ldn", 2)
    assert follower.sla_due_at == utc(2026, 11, 4, 11, 30)
    assert follower.sla_calendar.startswith("ldn's hours: Europe/London")


def test_a_queued_lead_counts_in_the_queue_owners_calendar(world):
    """A French lead no rule takes, Thu 24 Dec 16:00 GMT: the queue owner in London works
    1h30 that day; Christmas, the weekend and the Boxing Day substitute (Mon 28) are closed;
    Tue 29 Dec 09:00 + 2h30 = 11:30 UTC, for the first touch and the escalation alike."""
    engine, _ = world
    d = decide(world, utc(2026, 12, 24, 16, 0), "Q1", country="FR")
    assert (d.status, d.owner_id) == (DecisionStatus.FALLBACK, "ops")
    assert d.sla_due_at == d.escalate_at == utc(2026, 12, 29, 11, 30)
    [timer] = timers_for(d, engine.policy, engine.reps)
    assert (timer.kind, timer.due_at) == ("escalate", d.escalate_at)


def test_a_breach_move_to_the_backup_counts_in_the_backups_calendar(world):
    """A Tokyo lead breached at Tue 3 Nov 01:00 UTC moves to its backup in London: 4h of
    London's Tuesday from 09:00 GMT, due 13:00 UTC (Tokyo's holiday is not London's)."""
    engine, _ = world
    reps = {**engine.reps, "tyo": attrs.evolve(REPS["tyo"], backup_id="ldn")}
    d = decide(world, utc(2026, 11, 2, 5, 30), "T2", country="JP")
    moved = breach_decision(
        d, engine.policy, reps, to="backup", reason="SLA_BREACHED", at=utc(2026, 11, 3, 1, 0)
    )
    assert moved is not None and moved.owner_id == "ldn"
    assert moved.sla_due_at == utc(2026, 11, 3, 13, 0)
    assert moved.sla_starts_at == utc(2026, 11, 3, 9, 0)


def test_explain_shows_the_calendar_that_set_the_deadline(world):
    """``explain`` names whose calendar counted the deadline and shows it on their clock."""
    d = decide(world, utc(2026, 11, 2, 5, 30), "T3", country="JP")
    [line] = [x for x in explain_lines(d) if x.startswith("Clock: ")]
    assert line == (
        "Clock: counted in tyo's hours: Asia/Tokyo, mon-fri 09:00-17:30, JP holidays; "
        "first touch due Wed 2026-11-04 10:00 Asia/Tokyo"
    )
    berlin = decide(world, utc(2026, 11, 3, 14, 30), "B3", country="DE")
    [line] = [x for x in explain_lines(berlin) if x.startswith("Clock: ")]
    assert "away 2026-11-04..2026-11-05" in line
    assert line.endswith("first touch due Fri 2026-11-06 11:00 Europe/Berlin")


# --------------------------------------------------------------------------- resolution

SIMPLE = """
version: "t"
fallback: {owner: ops}
lead_types:
  types: [{name: demo, sla: 4h}]
"""


def test_an_owner_without_hours_uses_the_policys_calendar_with_their_own_holidays():
    """No hours of their own: the policy's SLA calendar (its zone and days), closed on the
    owner's holidays when they have some; without a calendar, the wall clock."""
    policy = parse_policy(
        SIMPLE + '  calendar: {timezone: Europe/London, days: {mon-fri: "09:00-17:00"}}\n'
    )
    german = Rep(id="g", availability=Availability(holidays="DE"))
    # Tue 3 Nov is no holiday anywhere here; Christmas Eve is not a German public holiday,
    # the 25th and 26th are: Thu 24 Dec 15:00 + 2h that day, then Mon 28 Dec 09:00 + 2h.
    calendar = owner_calendar(policy, german)
    assert calendar.add(utc(2026, 12, 24, 15, 0), timedelta(hours=4)) == utc(2026, 12, 28, 11, 0)
    assert calendar.label.startswith("the policy's SLA calendar for g: Europe/London")
    plain = owner_calendar(parse_policy(SIMPLE), Rep(id="p"))
    assert plain.add(utc(2026, 12, 24, 15, 0), timedelta(hours=4)) == utc(2026, 12, 24, 19, 0)
    assert plain.label == "wall clock (p has no working hours)"


def test_an_owners_own_hours_win_over_the_policys_calendar():
    """An owner with hours counts in them, whatever the policy's SLA calendar says."""
    policy = parse_policy(
        SIMPLE + '  calendar: {timezone: America/New_York, days: {mon-fri: "09:00-17:00"}}\n'
    )
    calendar = owner_calendar(policy, REPS["tyo"])
    assert calendar.add(utc(2026, 11, 2, 5, 30), timedelta(hours=4)) == utc(2026, 11, 4, 1, 0)


def test_a_pause_and_a_start_date_close_the_owners_time():
    """A dated pause stops the clock like leave; nothing counts before a new hire starts."""
    paused = member(
        "p",
        "Europe/Berlin",
        "",
        pauses=(LeaveWindow(start=utc(2026, 11, 3, 8, 0), end=utc(2026, 11, 3, 12, 0)),),
    )
    policy = parse_policy(SIMPLE)
    # Tue 3 Nov 08:00 UTC = 09:00 CET; paused until 13:00 CET, then 4h: 17:00 CET = 16:00 UTC.
    due = owner_calendar(policy, paused).add(utc(2026, 11, 3, 8, 0), timedelta(hours=4))
    assert due == utc(2026, 11, 3, 16, 0)
    hire = member("h", "Europe/Berlin", "", starts_at=utc(2026, 11, 4, 23, 0))  # Thu 5 Nov
    due = owner_calendar(policy, hire).add(utc(2026, 11, 2, 8, 0), timedelta(hours=4))
    assert due == utc(2026, 11, 5, 12, 0)  # Thu 09:00 CET + 4h = 13:00 CET


def test_a_pause_without_a_real_end_does_not_stop_the_clock():
    """A pause 'until 9999' would leave no working time: the owner's hours count without it."""
    stuck = member("s", "Europe/Berlin", "", paused_until=datetime(9999, 1, 1, tzinfo=UTC))
    due = owner_calendar(parse_policy(SIMPLE), stuck).add(
        utc(2026, 11, 3, 8, 0), timedelta(hours=4)
    )
    assert due == utc(2026, 11, 3, 12, 0)


def test_a_rebalance_move_counts_in_the_new_owners_calendar(store, host):
    """An English-only rep's untouched German demo moves at Fri 6 Nov 02:00 CST to a German
    speaker in Chicago: their clock starts at 09:00 CST, due 13:00 CST (19:00 UTC)."""
    text = BASE_POLICY + "constraints: [territory]\nlead_types:\n  types: [{name: demo, sla: 4h}]\n"
    chicago = Availability(
        timezone="America/Chicago", hours={"mon-fri": "09:00-17:00"}, holidays="US"
    )
    team = (
        rep("a", pools=["na"], cap=10, languages=("en",)),
        rep("b", pools=["na"], cap=10, languages=("de",), availability=chicago),
        rep("emea-backup"),
        rep("ops"),
    )
    owned = lead("L1", owner_id="a", language="de", lead_type="demo", created_at=AT)
    night = utc(2026, 11, 6, 8, 0)
    router = Router(policy_from(text), store=store, host=host, clock=lambda: night)
    [move] = router.rebalance(Snapshot(leads=(owned,), reps=team)).plan.moves
    d = move.decided.decision
    assert (d.owner_id, d.sla_starts_at, d.sla_due_at) == (
        "b",
        utc(2026, 11, 6, 15, 0),
        utc(2026, 11, 6, 19, 0),
    )
    assert d.sla_calendar == "b's hours: America/Chicago, mon-fri 09:00-17:00, US holidays"
