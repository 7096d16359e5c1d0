"""Stacked caps: open leads, per local day, per local week, per lead type, by count or sum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import AT, BASE_POLICY, policy_from

from leadroute.context import RoutingContext
from leadroute.host import PluginHost
from leadroute.models import Availability, Capacity, Lead, Rep
from leadroute.policy import Policy, parse_policy
from leadroute.usage import Usage

LA = "America/Los_Angeles"


def check(
    host: PluginHost,
    rep: Rep,
    at: datetime,
    usage: Usage,
    *,
    lead: Lead | None = None,
    loads: dict[str, int] | None = None,
    policy: Policy | None = None,
) -> list[str]:
    """``CODE detail`` for the capacity exclusions of one rep."""
    ctx = RoutingContext(
        at=at,
        policy=policy or policy_from(),
        loads=loads or {},
        constraints=("capacity",),
        usage=usage,
    )
    return [f"{e.code} {e.detail}" for e in host.exclude_rep(lead or Lead(id="L"), rep, ctx)]


def capped(**caps: object) -> Rep:
    return Rep(id="r", capacity=Capacity(**caps), availability=Availability(timezone=LA))  # type: ignore[arg-type]


def usage_of(rep: Rep, *received: tuple[datetime, str, float]) -> Usage:
    usage = Usage.build({rep.id: rep})
    for at, kind, load in received:
        usage.add(rep.id, at, kind, load)
    return usage


def test_open_cap(host):
    """A rep holding as many open leads as their cap is excluded with OPEN_CAP n/n."""
    rep = capped(max_open=25)
    assert check(host, rep, AT, usage_of(rep), loads={"r": 25}) == ["OPEN_CAP 25/25"]
    assert check(host, rep, AT, usage_of(rep), loads={"r": 24}) == []


def test_daily_cap(host):
    """Ten leads today exclude a rep with ``per_day: 10`` (DAILY_CAP 10/10)."""
    rep = capped(per_day=10)
    usage = usage_of(rep, *[(AT, "demo", 1.0)] * 10)
    assert check(host, rep, AT, usage) == ["DAILY_CAP 10/10"]


def test_weekly_cap_counts_from_the_reps_monday(host):
    """Leads from Monday to Thursday count toward ``per_week``; last week's do not."""
    rep = capped(per_week=40)
    monday = datetime(2026, 11, 2, 17, tzinfo=UTC)  # 09:00 Monday in Los Angeles
    this_week = [(monday + timedelta(days=d), "demo", 10.0) for d in range(4)]
    last_week = [(monday - timedelta(days=1), "demo", 50.0)]
    usage = usage_of(rep, *this_week, *last_week)
    assert check(host, rep, monday + timedelta(days=4), usage) == ["WEEKLY_CAP 40/40"]
    assert check(host, rep, monday + timedelta(days=7), usage) == []


def test_type_cap_counts_one_lead_type(host):
    """Five demos today exclude a demo lead (TYPE_CAP demo 5/5) but not a quote."""
    rep = capped(per_type={"demo": 5})
    usage = usage_of(rep, *[(AT, "Demo", 1.0)] * 5)
    assert check(host, rep, AT, usage, lead=Lead(id="L", lead_type="DEMO")) == ["TYPE_CAP demo 5/5"]
    assert check(host, rep, AT, usage, lead=Lead(id="L", lead_type="quote")) == []


def test_stacked_caps_reset_at_the_reps_midnight_not_utcs(host):
    """Two leads at 23:00 in Los Angeles fill ``per_day: 2``; 00:30 local is a new day."""
    rep = capped(per_day=2, per_week=3)
    late = datetime(2026, 11, 4, 7, tzinfo=UTC)  # Tuesday 23:00 in LA (UTC is Wednesday)
    usage = usage_of(rep, (late, "demo", 1.0), (late, "demo", 1.0))
    same_local_day = datetime(2026, 11, 4, 7, 50, tzinfo=UTC)  # 23:50 LA
    next_local_day = datetime(2026, 11, 4, 8, 30, tzinfo=UTC)  # 00:30 LA, same UTC date
    assert check(host, rep, same_local_day, usage) == ["DAILY_CAP 2/2"]
    assert check(host, rep, next_local_day, usage) == []
    usage.add("r", next_local_day, "demo", 1.0)
    # The daily cap has room again, but the weekly cap (same local week) is now full.
    assert check(host, rep, next_local_day, usage) == ["WEEKLY_CAP 3/3"]


def test_load_as_a_sum_of_a_lead_field(host):
    """With ``capacity.load: deal_size`` a lead that would push the day past the cap is out."""
    policy = parse_policy(BASE_POLICY + "capacity: {load: deal_size, missing_load: 1000}\n")
    rep = capped(per_day=50000)
    usage = usage_of(rep, (AT, "demo", 45000.0))
    big = Lead(id="L", attributes={"deal_size": "6,000"})
    small = Lead(id="L", attributes={"deal_size": "5000"})
    assert check(host, rep, AT, usage, lead=big, policy=policy) == ["DAILY_CAP 45000/50000 (+6000)"]
    assert check(host, rep, AT, usage, lead=small, policy=policy) == []
    unknown = Lead(id="L", attributes={"deal_size": "n/a"})
    assert check(host, rep, AT, usage, lead=unknown, policy=policy) == []  # 1000 fits


def test_only_the_first_broken_cap_is_reported(host):
    """A rep over every cap gets one exclusion, the open cap first."""
    rep = capped(max_open=1, per_day=1, per_week=1)
    usage = usage_of(rep, (AT, "demo", 1.0))
    assert check(host, rep, AT, usage, loads={"r": 1}) == ["OPEN_CAP 1/1"]
