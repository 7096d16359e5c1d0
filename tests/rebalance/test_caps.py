"""Every cap, checked on a plan's end state: followers count, the right arrival gives way."""

from __future__ import annotations

from tests.conftest import AT

from leadroute.models import Capacity, Rep
from leadroute.rebalance import Arrival, Transfer, rejected_arrivals
from leadroute.usage import Usage


def reps(**caps):
    return {rid: Rep(id=rid, name=rid, capacity=cap) for rid, cap in caps.items()}


def arrival(key, to, *followers, kind="demo", owner="x"):
    records = [Transfer(lead_id=key, from_owner=owner, lead_type=kind)]
    records += [Transfer(lead_id=f, from_owner=owner, lead_type=kind) for f in followers]
    return Arrival(key=key, rep_id=to, records=tuple(records))


def check(arrivals, team, loads=None, usage=None):
    return rejected_arrivals(arrivals, team, loads or {}, usage or Usage(), AT)


def test_a_follower_counts_on_the_open_cap():
    """A move with one follower into a rep with room for one is rejected, naming the follower."""
    team = reps(b=Capacity(max_open=3), x=Capacity())
    assert check([arrival("L1", "b", "L2")], team, {"b": 2}) == {
        "L1": "OPEN_CAP b 4/3 with 1 follower"
    }


def test_daily_and_type_caps_count_what_arrives_today():
    """Arrivals use the day's room and the type's; the lowest-priority one gives way."""
    team = reps(b=Capacity(per_day=2), c=Capacity(per_type={"demo": 1}), x=Capacity())
    got = check([arrival("L1", "b"), arrival("L2", "b"), arrival("L3", "b")], team)
    assert got == {"L3": "DAILY_CAP b 3/2"}
    got = check([arrival("L4", "c"), arrival("L5", "c", kind="trial"), arrival("L6", "c")], team)
    assert got == {"L6": "TYPE_CAP c demo 2/1"}  # the trial lead does not pay for demo


def test_a_small_move_rejected_first_is_taken_back_once_a_large_one_gives_way():
    """When a person with three followers breaks a daily cap, a single lead of lower priority
    rejected on the way is taken back as soon as the large move is out."""
    team = reps(b=Capacity(per_day=2), x=Capacity())
    big = arrival("P", "b", "P2", "P3", "P4")
    assert check([big, arrival("L1", "b")], team) == {"P": "DAILY_CAP b 4/2 with 3 followers"}


def test_a_rep_already_over_a_cap_keeps_what_it_has_but_gets_nothing_adding_to_it():
    """A rep over its demo cap before the plan may still receive a trial lead, not a demo."""
    usage = Usage()
    for _ in range(3):
        usage.add("c", AT, "demo", 1.0)
    team = reps(c=Capacity(per_type={"demo": 2}), x=Capacity())
    assert check([arrival("T", "c", kind="trial")], team, usage=usage) == {}
    assert check([arrival("D", "c")], team, usage=usage) == {"D": "TYPE_CAP c demo 4/2"}


def test_a_record_already_with_the_rep_adds_nothing():
    """A follower the target rep already owns does not count again."""
    team = reps(b=Capacity(max_open=1), x=Capacity())
    move = Arrival(
        key="L1",
        rep_id="b",
        records=(Transfer(lead_id="L1", from_owner="x"), Transfer(lead_id="L2", from_owner="b")),
    )
    assert check([move], team, {"b": 1, "x": 1}) == {"L1": "OPEN_CAP b 2/1 with 1 follower"}
    assert check([move], team, {"b": 0, "x": 1}) == {}
