"""How a pool picks among its eligible reps, and the rotation ledger that makes it fair.

Each strategy is a sort key over candidates; ties fall to fit, then to a hash of lead and
rep so that no rep wins ties because of creation order or list position.

* ``round_robin``: the rep whose last turn in this pool is oldest (never had one: first).
* ``weighted``: the rep with the lowest ``(assigned + 1) / weight`` in this pool, so over
  time each rep's share follows their weight.
* ``least_loaded``: the rep with the lowest utilisation (open / cap; open count when
  uncapped), then the oldest turn.
* ``optimize``: the rep with the highest fit minus its capacity price from the last batch
  solve (``route --batch``), which keeps one-at-a-time routing near the batch optimum.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

import attrs

from leadroute.models import Candidate, Rep
from leadroute.policy import Strategy
from leadroute.store import LedgerEntry

__all__ = ["Ledger", "rank"]


class Ledger:
    """Per pool and rep: how many leads the rep got and the sequence number of their last turn.

    Loaded from the store once per run and kept in step in memory; every changed entry is
    written in the same transaction as the decision that changed it.
    """

    def __init__(self, entries: Mapping[tuple[str, str], LedgerEntry], sequence: int) -> None:
        self._entries = dict(entries)
        self._sequence = sequence

    def entry(self, pool: str, rep_id: str) -> LedgerEntry:
        """The rep's entry in a pool; a rep new to the pool has had no turn yet."""
        return self._entries.get((pool, rep_id)) or LedgerEntry(
            pool=pool, rep_id=rep_id, assigned=0, last_seq=0
        )

    def take_turn(self, pool: str, rep_id: str) -> LedgerEntry:
        """Record that the rep got a lead from the pool; return the entry to persist."""
        self._sequence += 1
        old = self.entry(pool, rep_id)
        new = attrs.evolve(old, assigned=old.assigned + 1, last_seq=self._sequence)
        self._entries[(pool, rep_id)] = new
        return new


def _tiebreak(lead_id: str, rep_id: str) -> int:
    digest = hashlib.blake2b(f"{lead_id}\x00{rep_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


Key = Callable[[Candidate, LedgerEntry, Rep], tuple[float, ...]]


def _round_robin(c: Candidate, e: LedgerEntry, rep: Rep) -> tuple[float, ...]:
    return (e.last_seq,)


def _weighted(c: Candidate, e: LedgerEntry, rep: Rep) -> tuple[float, ...]:
    return ((e.assigned + 1) / rep.weight, e.last_seq)


def _least_loaded(c: Candidate, e: LedgerEntry, rep: Rep) -> tuple[float, ...]:
    utilisation = c.load / c.capacity if c.capacity else float(c.load)
    return (utilisation, e.last_seq)


def _priced(prices: Mapping[str, float]) -> Key:
    def key(c: Candidate, e: LedgerEntry, rep: Rep) -> tuple[float, ...]:
        price = prices.get(c.rep_id, 0.0)
        # Minimal prices put the optimal choice at a tie: spend the cheaper capacity.
        return (-(c.fit - price), price, e.last_seq)

    return key


def _reason(
    strategy: Strategy, c: Candidate, e: LedgerEntry, rep: Rep, prices: Mapping[str, float]
) -> str:
    if strategy is Strategy.OPTIMIZE:
        price = prices.get(c.rep_id, 0.0)
        return f"fit {c.fit:.2f} - capacity price {price:.2f} = {c.fit - price:.2f}"
    if strategy is Strategy.ROUND_ROBIN:
        return f"last turn #{e.last_seq}" if e.last_seq else "no turn yet in this pool"
    if strategy is Strategy.WEIGHTED:
        return f"{e.assigned} assigned at weight {rep.weight:g}"
    cap = f"/{c.capacity}" if c.capacity else " (no cap)"
    return f"load {c.load}{cap}"


KEYS: Mapping[Strategy, Key] = {
    Strategy.ROUND_ROBIN: _round_robin,
    Strategy.WEIGHTED: _weighted,
    Strategy.LEAST_LOADED: _least_loaded,
}


def rank(
    strategy: Strategy,
    pool: str,
    lead_id: str,
    candidates: Sequence[Candidate],
    ledger: Ledger,
    reps: Mapping[str, Rep],
    prices: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Candidates in the order the strategy prefers them, with ``rank`` and ``reason`` set.

    ``optimize`` uses the capacity prices of the last batch solve (none yet: all 0, which
    makes it best fit).
    """
    prices = prices or {}
    key = _priced(prices) if strategy is Strategy.OPTIMIZE else KEYS[strategy]

    def sort_key(c: Candidate) -> tuple[float, ...]:
        entry = ledger.entry(pool, c.rep_id)
        return (*key(c, entry, reps[c.rep_id]), -c.fit, _tiebreak(lead_id, c.rep_id))

    ordered = sorted(candidates, key=sort_key)
    ranked = [
        attrs.evolve(
            c,
            rank=i,
            reason=_reason(strategy, c, ledger.entry(pool, c.rep_id), reps[c.rep_id], prices),
        )
        for i, c in enumerate(ordered, start=1)
    ]
    if len(ranked) > 1:
        ranked[0] = attrs.evolve(
            ranked[0],
            reason=ranked[0].reason
            + _tie_note(strategy, ranked[0], ranked[1], sort_key(ordered[0]), sort_key(ordered[1])),
        )
    return ranked


def _tie_note(
    strategy: Strategy,
    a: Candidate,
    b: Candidate,
    key_a: tuple[float, ...],
    key_b: tuple[float, ...],
) -> str:
    """Say what separated the winner from the runner-up when the strategy itself tied."""
    strategy_part = slice(0, len(key_a) - 2)  # the last two parts are -fit and the hash
    if key_a[strategy_part] != key_b[strategy_part]:
        return ""
    if a.fit != b.fit:
        return f"; tied with {b.rep_id} under {strategy}, won on fit {a.fit:.2f} vs {b.fit:.2f}"
    return f"; tied with {b.rep_id} under {strategy} and on fit, won the stable tie-break"
