"""What a rebalance holds although it could move it: account-owned, recently moved, tonight."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep

from leadroute.models import Account, Snapshot
from leadroute.router import Router

TEXT = BASE_POLICY + "constraints: [territory]\n"
LATER = AT + timedelta(days=3)


def team(**over):
    base = {
        "a": rep("a", pools=["na"], cap=10, languages=("en",)),
        "b": rep("b", pools=["na"], cap=10, languages=("en", "de")),
        "emea-backup": rep("emea-backup"),
        "ops": rep("ops"),
    }
    base.update(over)
    return tuple(base.values())


def run(store, host, when, snap, text=TEXT, **kw):
    return Router(policy_from(text), store=store, host=host, clock=lambda: when).rebalance(
        snap, **kw
    )


ACME = Account(id="ACC-1", name="Acme", domain="acme.com", owner_id="a", status="customer")


def test_account_owned_leads_stay_with_the_account_owner(store, host):
    """A lead its account's owner holds stays, though another rep fits it better; the dry
    run says why (held: ACCOUNT_OWNED)."""
    owned = lead("L1", email="jo@acme.com", owner_id="a", language="de", created_at=AT)
    snap = Snapshot(leads=(owned,), reps=team(), accounts=(ACME,))
    result = run(store, host, LATER, snap, dry_run=True)
    assert result.plan.moves == () and result.plan.held == {"L1": "ACCOUNT_OWNED"}
    assert result.counts()["held_by_reason"] == {"ACCOUNT_OWNED": 1}


def test_the_switch_lets_account_owned_leads_move(store, host):
    """With keep_account_owned off, the same lead moves to the better fit."""
    owned = lead("L1", email="jo@acme.com", owner_id="a", language="de", created_at=AT)
    snap = Snapshot(leads=(owned,), reps=team(), accounts=(ACME,))
    text = TEXT + "rebalance: {keep_account_owned: false}\n"
    [move] = run(store, host, LATER, snap, text).plan.moves
    assert (move.from_owner, move.to_owner) == ("a", "b")


def test_an_inactive_account_owner_still_loses_the_lead(store, host):
    """Account ownership holds discretionary moves only: an inactive owner's lead moves."""
    owned = lead("L1", email="jo@acme.com", owner_id="a", language="de", created_at=AT)
    snap = Snapshot(
        leads=(owned,),
        reps=team(a=rep("a", pools=["na"], active=False)),
        accounts=(ACME,),
    )
    [move] = run(store, host, LATER, snap).plan.moves
    assert move.to_owner == "b" and move.reasons == ("OWNER_INACTIVE", "UNWORKED")


def test_a_moved_lead_is_not_moved_again_soon_unless_its_owner_leaves(store, host):
    """Moved on night one, a lead is held the next nights (MOVED_RECENTLY) even when its new
    owner is over capacity; once that owner is inactive it moves again."""
    snap = Snapshot(leads=(lead("L1", owner_id="a", language="de", created_at=AT),), reps=team())
    [first] = run(store, host, LATER, snap).plan.moves
    assert first.to_owner == "b"
    crowded = team(b=rep("b", pools=["na"], cap=0, languages=("en", "de")))
    night3 = LATER + timedelta(days=2)
    held = run(store, host, night3, Snapshot(leads=snap.leads, reps=crowded))
    assert held.plan.moves == () and held.plan.held == {"L1": "MOVED_RECENTLY"}
    gone = team(b=rep("b", pools=["na"], active=False))
    [again] = run(
        store, host, night3 + timedelta(days=1), Snapshot(leads=snap.leads, reps=gone)
    ).plan.moves
    assert (again.from_owner, again.to_owner) == ("b", "a")


def test_a_second_run_the_same_night_makes_only_forced_moves(store, host):
    """Within min_interval of a finished rebalance, discretionary moves wait for the next
    night (REBALANCED_RECENTLY) while an inactive owner's lead still moves."""
    snap = Snapshot(leads=(lead("L1", owner_id="a", language="de", created_at=AT),), reps=team())
    assert run(store, host, LATER, Snapshot(leads=(), reps=team())).plan.moves == ()
    later = LATER + timedelta(hours=1)
    assert run(store, host, later, snap).plan.held == {"L1": "REBALANCED_RECENTLY"}
    gone = Snapshot(
        leads=(lead("L2", owner_id="x", created_at=AT),),
        reps=(*team(), rep("x", active=False)),
    )
    [forced] = run(store, host, later, gone).plan.moves
    assert forced.lead_id == "L2"
