"""The rotation ledger."""

from __future__ import annotations

from leadroute.store import LedgerEntry
from leadroute.strategies import Ledger


def test_take_turn_advances_the_global_sequence():
    """Each turn gets the next sequence number, across pools, and counts the rep's leads."""
    ledger = Ledger({("p", "a"): LedgerEntry(pool="p", rep_id="a", assigned=4, last_seq=10)}, 10)
    first = ledger.take_turn("p", "a")
    second = ledger.take_turn("q", "b")
    assert (first.assigned, first.last_seq) == (5, 11)
    assert (second.assigned, second.last_seq) == (1, 12)
    assert ledger.entry("p", "zzz").last_seq == 0
