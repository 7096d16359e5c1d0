"""Grouped commits: one transaction per group, a unit written whole or not at all, relative
ledger turns, identity rows in order, rows of other tables, and the commit sequence."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.store.test_database import AT, decision, effect

from leadroute.rotation import LedgerTurn
from leadroute.store import CommitUnit, IdentityRow, Row, Store, schema
from leadroute.store.changes import changes_since, load_state, turns_of


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def unit(lead_id: str, owner: str = "r1", epoch: int = 1, **kw) -> CommitUnit:
    d = decision(lead_id, owner, epoch)
    return CommitUnit(decision=d, effects=(effect(d),), **kw)


def test_a_group_is_one_commit_and_every_unit_is_written(store: Store):
    """Three units commit under one commit number, each with its decision and effect."""
    result = store.commit([unit("L1"), unit("L2"), unit("L3")])
    assert result.written == (True, True, True)
    assert len(result.commit_seqs) == 1
    assert count(store, schema.decisions) == 3 and count(store, schema.outbox) == 3
    assert load_state(store).commit_seq == result.commit_seqs[0]


def test_a_unit_already_stored_writes_nothing_of_its_own(store: Store):
    """A rerun's unit (its epoch is taken) writes no effect, turn or identity; the others stand."""
    store.commit([unit("L1")])
    turn = LedgerTurn(pool="p", rep_id="r1", seq=1)
    row = IdentityRow(key_hash="h", person_id="L1", lead_id="L1", kind="email")
    again = CommitUnit(
        decision=decision("L1"),
        effects=(effect(decision("L1"), "notify"),),
        turns=(turn,),
        identities=(row,),
    )
    result = store.commit([again, unit("L2")])
    assert result.written == (False, True)
    assert count(store, schema.outbox) == 2  # L1's first effect and L2's
    assert store.load_ledger() == {} and store.load_identities() == []


def test_the_same_epoch_twice_in_one_group_is_written_once(store: Store):
    """Two units for one (lead, epoch) in a group: the first stands."""
    result = store.commit([unit("L1", "r1"), unit("L1", "r2")])
    assert result.written == (True, False)
    assert store.current_decision("L1").owner_id == "r1"  # type: ignore[union-attr]


def test_turns_are_relative_so_stale_turns_from_two_processes_both_count(store: Store):
    """Two processes each take a turn from the same stale entry: the row counts both turns.

    Written as absolute counts, the second would overwrite the first (issue 16's bug).
    """
    store.commit([unit("L0", turns=(LedgerTurn(pool="p", rep_id="r1", seq=5),))])
    # Both processes read the entry as (assigned 1, last_seq 5) and take turn 6.
    both = LedgerTurn(pool="p", rep_id="r1", seq=6, prior_seq=5)
    store.commit([unit("L1", turns=(both,))])
    store.commit([unit("L2", turns=(both,))])
    [entry] = store.load_ledger().values()
    assert (entry.assigned, entry.last_seq, entry.level) == (3, 6, 3.0)


def test_a_turn_given_back_takes_its_lead_and_level_off(store: Store):
    """A turn given back counts one lead less, removes its decayed gain and restores last_seq."""
    taken = LedgerTurn(pool="p", rep_id="r1", seq=4, prior_seq=2, gain=1.0, at=AT)
    store.commit([unit("L1", turns=(taken,))])
    later = AT + timedelta(days=14)  # one half-life
    store.commit([unit("L1", epoch=2, turns=(taken.given_back(later),))])
    [entry] = store.load_ledger().values()
    assert (entry.assigned, entry.last_seq, entry.level) == (0, 2, 0.0)
    assert [t.delta for t in turns_of(store, decision("L1", epoch=2).id)] == [-1]


def test_identity_rows_follow_merges_made_later_in_the_same_group(store: Store):
    """A row written by an early unit is moved by a later unit's merge, as if each wrote alone."""
    first = unit(
        "L1", identities=(IdentityRow(key_hash="a", person_id="L1", lead_id="L1", kind="email"),)
    )
    second = unit(
        "L2",
        identities=(IdentityRow(key_hash="b", person_id="L0", lead_id="L2", kind="phone"),),
        merges={"L1": "L0"},
    )
    store.commit([first, second])
    assert {r.lead_id: r.person_id for r in store.load_identities()} == {"L1": "L0", "L2": "L0"}


def test_rows_of_other_tables_commit_with_their_decision(store: Store):
    """A unit's extra row is written with it, and not when the unit is not written."""
    row = Row(
        table="outcomes",
        values={
            "id": "o1",
            "lead_id": "L1",
            "rep_id": "r1",
            "kind": "first_touch",
            "at": AT.isoformat(),
            "source": "test",
            "detail": "",
            "recorded_at": AT.isoformat(),
        },
    )
    store.commit([unit("L1", rows=(row,))])
    store.commit([unit("L1", rows=(Row(table="outcomes", values={**row.values, "id": "o2"}),))])
    assert count(store, schema.outcomes) == 1


def test_a_group_that_breaks_an_integrity_rule_is_retried_unit_by_unit(store: Store):
    """One unit's clash (an effect key already used) fails alone; the other unit stands."""
    store.commit([unit("L1")])
    clash = CommitUnit(decision=decision("L9"), effects=(effect(decision("L1")),))
    with pytest.raises(sa.exc.IntegrityError):
        store.commit([unit("L2"), clash])
    assert store.current_decision("L2") is not None
    assert store.current_decision("L9") is None


def test_changes_since_leave_out_the_callers_own_commits(store: Store):
    """What others committed after a number: decisions, turns and identities, not mine."""
    mine = store.commit([unit("L1")]).commit_seqs[0]
    turn = LedgerTurn(pool="p", rep_id="r2", seq=1)
    row = IdentityRow(key_hash="h", person_id="L2", lead_id="L2", kind="email")
    theirs = store.commit([unit("L2", "r2", turns=(turn,), identities=(row,))]).commit_seqs[0]
    changes = changes_since(store, 0, own={mine})
    assert [d.lead_id for d in changes.decisions] == ["L2"]
    assert changes.turns == (turn,) and changes.identities == (row,)
    assert changes.commit_seq == theirs and changes.prices is None
    assert changes_since(store, theirs).decisions == ()


def test_published_prices_are_a_change(store: Store):
    """Prices a batch solve published after the caller's last commit come with the changes."""
    store.save_prices({"r1": 1.5}, AT)
    assert changes_since(store, 0).prices == {"r1": 1.5}
