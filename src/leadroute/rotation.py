"""The rotation ledger's values: a rep's standing in a pool, and a turn that changes it.

A **turn** is what one decision does to one rep's standing in one pool: it takes a turn
(``delta=+1``: one more lead, the next sequence number, a higher fair-share level) or
gives one back (``delta=-1``: a decision that lost a race, or whose owner the target
refused). Turns are *relative*: ``apply_turn`` changes whatever entry it meets, so two
processes that each took a turn from the same stale entry end with two turns counted,
never with the second overwriting the first (the bug of writing absolute counts).

The store applies a decision's turns to its ``ledger`` rows inside the decision's
transaction and keeps each turn in its ``turns`` journal; an engine applies the same turns
to its in-memory ledger, its own as it decides and other processes' as it catches up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

__all__ = ["DEFAULT_HALF_LIFE", "LedgerEntry", "LedgerTurn", "apply_turn", "decayed_level"]

DEFAULT_HALF_LIFE = timedelta(days=14)


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One rep's standing in one pool's rotation.

    Attributes:
        pool: Pool name.
        rep_id: The rep.
        assigned: Leads the rep received from this pool.
        last_seq: Global sequence number of the rep's last turn (0: never).
        level: The rep's fair-share level: leads received, decayed over time and divided
            by the rep's share (``leadroute.strategies``), as of ``level_at``.
        level_at: When ``level`` was last set (None: never).
    """

    pool: str
    rep_id: str
    assigned: int
    last_seq: int
    level: float = 0.0
    level_at: datetime | None = None


@attrs.frozen(kw_only=True)
class LedgerTurn:
    """One decision's change to one rep's standing in one pool.

    Attributes:
        pool: Pool name.
        rep_id: The rep.
        delta: ``1`` for a turn taken, ``-1`` for a turn given back.
        seq: The turn's sequence number (for a give-back: the sequence of the turn given back).
        prior_seq: The rep's ``last_seq`` before the turn, restored when it is given back
            and no later turn of the rep came since.
        gain: What the turn adds to the level at ``at`` (negative when given back).
        at: When the turn was taken (None: undated, the level does not decay).
        half_life: The pool's half-life, to decay the level the turn meets to ``at``.
    """

    pool: str
    rep_id: str
    delta: int = 1
    seq: int
    prior_seq: int = 0
    gain: float = 1.0
    at: datetime | None = None
    half_life: timedelta = DEFAULT_HALF_LIFE

    def given_back(self, at: datetime | None) -> LedgerTurn:
        """The turn that undoes this one at ``at`` (its gain decayed since it was taken)."""
        decay = 1.0
        if at is not None and self.at is not None and at > self.at:
            decay = 0.5 ** ((at - self.at) / self.half_life)
        return attrs.evolve(self, delta=-self.delta, gain=-self.gain * decay, at=at or self.at)


def decayed_level(entry: LedgerEntry, at: datetime | None, half_life: timedelta) -> float:
    """An entry's level decayed from ``level_at`` to ``at`` (no decay without both)."""
    if at is None or entry.level_at is None or at <= entry.level_at:
        return entry.level
    return float(entry.level * 0.5 ** ((at - entry.level_at) / half_life))


def apply_turn(entry: LedgerEntry | None, turn: LedgerTurn) -> LedgerEntry:
    """The entry after a turn, whatever turns other processes applied to it before.

    A turn taken counts one more lead, moves ``last_seq`` forward (never back) and adds its
    gain to the level decayed to the turn's time. A turn given back counts one lead less,
    restores ``last_seq`` only when the given-back turn is still the rep's last, and takes
    its (decayed) gain off the level, never below zero.
    """
    old = entry or LedgerEntry(pool=turn.pool, rep_id=turn.rep_id, assigned=0, last_seq=0)
    if turn.delta > 0:
        last_seq = max(old.last_seq, turn.seq)
    else:
        last_seq = turn.prior_seq if old.last_seq == turn.seq else old.last_seq
    level = decayed_level(old, turn.at, turn.half_life) + turn.gain
    level_at = old.level_at
    if turn.at is not None and (level_at is None or turn.at > level_at):
        level_at = turn.at
    return LedgerEntry(
        pool=old.pool,
        rep_id=old.rep_id,
        assigned=max(0, old.assigned + turn.delta),
        last_seq=last_seq,
        level=max(0.0, level),
        level_at=level_at,
    )
