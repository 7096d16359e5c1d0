"""How a pool picks among its eligible reps, and the one fairness ledger they all share.

Each strategy is a sort key over candidates; ties fall to fit, then to a hash of lead and
rep so that no rep wins ties because of creation order or list position.

* ``round_robin``: the rep whose last turn in this pool is oldest (never had one: first).
* ``weighted``: the rep with the lowest fair-share level (below), so over time each rep's
  share follows their weight (or, with the pool's ``share: weight_x_daily_cap``, their
  weight times their daily capacity).
* ``least_loaded``: the rep with the lowest utilisation (open / cap; open count when
  uncapped), then the lowest fair-share level.
* ``optimize``: the rep with the highest fit minus its capacity price from the last batch
  solve (``route --batch``), which keeps one-at-a-time routing near the batch optimum.

The fair-share level of a rep in a pool is the leads they received there, each decayed
by the pool's ``half_life`` since it arrived, divided by the rep's share factor
(``share_factors``: the weight, or weight x daily capacity). Every turn, whatever the
strategy, raises the winner's level by one lead's worth (``1 / factor``), so switching
strategies keeps the history. Two rules make it survive team changes and time away:

* Decay, not a window: a lead received 30 days ago fades smoothly, so no share
  "echoes" when an old window drops out (Odoo's 30-day vacation echo).
* No debt for time away. The pool has a level of its own: the level its last winner had
  when chosen (decayed like every level). A rep in contention counts as at least that
  level. Someone continuously in contention is never below it (the winner is always the
  lowest), so the floor only lifts a rep who was away while the pool moved on: a new
  hire, a rep back from leave, a public holiday, a pause, a shift that ended, a full day
  cap. They come back level with the pool, not owed the leads they missed, however many
  colleagues were away with them (a country's holiday takes several reps out at once,
  and none of them is owed). Nobody else's standing changes.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from leadroute.models import Candidate, Rep
from leadroute.policy import Strategy
from leadroute.rotation import DEFAULT_HALF_LIFE, LedgerEntry, LedgerTurn, apply_turn, decayed_level

__all__ = [
    "SHARE_BASES",
    "FairView",
    "Ledger",
    "daily_capacity",
    "decayed_level",
    "rank",
    "share_factors",
]

# What a rep's share of a pool is proportional to (``pools[].share``).
SHARE_BASES = ("weight", "weight_x_daily_cap")


def daily_capacity(rep: Rep) -> float | None:
    """Leads a rep can take per working day: ``per_day``, else ``per_week / 5``, else None."""
    cap = rep.capacity
    if cap.per_day:
        return float(cap.per_day)
    if cap.per_week:
        return cap.per_week / 5
    return None


def share_factors(reps: Iterable[Rep], by: str = "weight") -> dict[str, float]:
    """Each rep's share factor: the weight, or with ``by="weight_x_daily_cap"`` the weight x
    daily capacity.

    Under ``weight_x_daily_cap``, reps without a daily or weekly cap count as the median
    daily capacity of the reps that have one (1 when none has), so a mixed team still
    splits by weight.
    """
    reps = list(reps)
    if by == "weight":
        return {r.id: r.weight for r in reps}
    capacities = {r.id: daily_capacity(r) for r in reps}
    known = [c for c in capacities.values() if c]
    default = statistics.median(known) if known else 1.0
    return {r.id: r.weight * (capacities[r.id] or default) for r in reps}


@attrs.frozen(kw_only=True)
class FairView:
    """One pool's fairness at one instant, over the reps in contention for a lead.

    Attributes:
        levels: Each contender's effective level (decayed, then floored).
        factors: Each contender's share factor.
    """

    levels: Mapping[str, float]
    factors: Mapping[str, float]

    def after_turn(self, rep_id: str) -> float:
        """The level a rep has after receiving one more lead."""
        return self.levels[rep_id] + 1 / self.factors[rep_id]


class Ledger:
    """Per pool and rep: how many leads the rep got and the sequence number of their last turn.

    Built from the store once (an engine keeps it for as long as it lives) and kept in step
    in memory: every turn taken here is written, as a relative ``LedgerTurn``, in the same
    transaction as the decision that took it; turns other processes committed are applied
    with ``apply`` when the engine catches up.
    """

    def __init__(self, entries: Mapping[tuple[str, str], LedgerEntry], sequence: int) -> None:
        self._entries = dict(entries)
        self._sequence = sequence
        # Pool -> its level (the last winner's level when chosen) and when it was set;
        # worked out from the entries when first needed and after turns from elsewhere.
        self._floors: dict[str, tuple[float, datetime | None]] = {}

    @property
    def sequence(self) -> int:
        """The last turn's sequence number."""
        return self._sequence

    def entry(self, pool: str, rep_id: str) -> LedgerEntry:
        """The rep's entry in a pool; a rep new to the pool has had no turn yet."""
        return self._entries.get((pool, rep_id)) or LedgerEntry(
            pool=pool, rep_id=rep_id, assigned=0, last_seq=0
        )

    def take_turn(
        self,
        pool: str,
        rep_id: str,
        *,
        at: datetime | None = None,
        level: float | None = None,
        half_life: timedelta = DEFAULT_HALF_LIFE,
        chosen_at: float | None = None,
    ) -> LedgerTurn:
        """Record that the rep got a lead from the pool; return the turn to persist.

        :param at: When (the level's new reference time).
        :param level: The rep's level after the turn (``FairView.after_turn``); without
            it the level rises by one.
        :param half_life: The pool's half-life (the store decays the level it meets with it).
        :param chosen_at: The level the rep had when chosen (``FairView.levels``): the
            pool's level rises to it.
        """
        old = self.entry(pool, rep_id)
        base = decayed_level(old, at, half_life)
        turn = LedgerTurn(
            pool=pool,
            rep_id=rep_id,
            seq=self._sequence + 1,
            prior_seq=old.last_seq,
            gain=1.0 if level is None else level - base,
            at=at,
            half_life=half_life,
        )
        self._apply(turn)
        if chosen_at is not None and pool in self._floors:
            floor, since = self._floors[pool]
            decayed = _decay(floor, since, at, half_life)
            self._floors[pool] = (max(decayed, chosen_at), at if at is not None else since)
        return turn

    def apply(self, turn: LedgerTurn) -> LedgerEntry:
        """Apply a turn (given back, or taken by another process); the new entry."""
        # The pool's level is worked out again from the entries when next needed.
        self._floors.pop(turn.pool, None)
        return self._apply(turn)

    def _apply(self, turn: LedgerTurn) -> LedgerEntry:
        key = (turn.pool, turn.rep_id)
        new = apply_turn(self._entries.get(key), turn)
        self._entries[key] = new
        if turn.delta > 0:
            self._sequence = max(self._sequence, turn.seq)
        return new

    def copy(self) -> Ledger:
        """An independent ledger with the same entries (for planning without committing)."""
        twin = Ledger(self._entries, self._sequence)
        twin._floors = dict(self._floors)
        return twin

    def pool_level(
        self,
        pool: str,
        at: datetime | None,
        half_life: timedelta,
        factors: Mapping[str, float],
    ) -> float:
        """The pool's level at ``at``: the level its last winner had when chosen.

        Known from the last turn taken here; otherwise worked out from the entries (each
        rep's level after their last turn, less that turn's lead: the level they had when
        chosen), for the reps in ``factors``.
        """
        found = self._floors.get(pool)
        if found is None:
            best, best_at = 0.0, None
            for rep_id, factor in factors.items():
                entry = self._entries.get((pool, rep_id))
                if entry is None or entry.level_at is None or factor <= 0:
                    continue
                before = max(0.0, entry.level - 1 / factor)
                # Levels set at different times compare once decayed to the same instant.
                if _decay(before, entry.level_at, at, half_life) > _decay(
                    best, best_at, at, half_life
                ):
                    best, best_at = before, entry.level_at
            found = (best, best_at)
            self._floors[pool] = found
        return _decay(found[0], found[1], at, half_life)

    def view(
        self,
        pool: str,
        contenders: Sequence[str],
        reps: Mapping[str, Rep],
        at: datetime | None,
        half_life: timedelta = DEFAULT_HALF_LIFE,
        members: Sequence[str] = (),
        member_factors: Mapping[str, float] | None = None,
        by: str = "weight",
    ) -> FairView:
        """The pool's levels at ``at`` for the reps in contention (see the module docstring):
        each rep's decayed level, at least the pool's level (``pool_level``).

        Share factors are computed over ``members`` (the whole pool) when given, so the
        default capacity of an uncapped rep does not depend on who is away today.
        ``member_factors`` are ``share_factors`` over those members, computed once by the
        caller (reps do not change within a run): used when every contender is among them,
        which spares the O(pool) work per lead. ``by`` is the pool's ``share``.
        """
        if member_factors is not None and all(r in member_factors for r in contenders):
            factors: Mapping[str, float] = member_factors
        else:
            known = [reps[r] for r in dict.fromkeys((*members, *contenders)) if r in reps]
            factors = share_factors(known, by)
        floor = self.pool_level(pool, at, half_life, factors)
        levels = {
            r: max(decayed_level(self.entry(pool, r), at, half_life), floor) for r in contenders
        }
        return FairView(levels=levels, factors={r: factors[r] for r in contenders})

    def entries(self) -> list[LedgerEntry]:
        """Every entry, for reports."""
        return list(self._entries.values())


def _decay(
    level: float, since: datetime | None, at: datetime | None, half_life: timedelta
) -> float:
    """A level set at ``since``, decayed to ``at`` (no decay without both, or backwards)."""
    if at is None or since is None or at <= since:
        return level
    return float(level * 0.5 ** ((at - since) / half_life))


def _tiebreak(lead_id: str, rep_id: str) -> int:
    digest = hashlib.blake2b(f"{lead_id}\x00{rep_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


Key = Callable[[Candidate, LedgerEntry, float], tuple[float, ...]]


def _round_robin(c: Candidate, e: LedgerEntry, level: float) -> tuple[float, ...]:
    return (e.last_seq,)


def _weighted(c: Candidate, e: LedgerEntry, level: float) -> tuple[float, ...]:
    return (round(level, 9), e.last_seq)


def _least_loaded(c: Candidate, e: LedgerEntry, level: float) -> tuple[float, ...]:
    utilisation = c.load / c.capacity if c.capacity else float(c.load)
    return (utilisation, round(level, 9), e.last_seq)


def _priced(prices: Mapping[str, float]) -> Key:
    def key(c: Candidate, e: LedgerEntry, level: float) -> tuple[float, ...]:
        price = prices.get(c.rep_id, 0.0)
        # Minimal prices put the optimal choice at a tie: spend the cheaper capacity.
        return (-(c.fit - price), price, e.last_seq)

    return key


def _reason(
    strategy: Strategy,
    c: Candidate,
    e: LedgerEntry,
    rep: Rep,
    prices: Mapping[str, float],
    level: float,
) -> str:
    if strategy is Strategy.OPTIMIZE:
        price = prices.get(c.rep_id, 0.0)
        return f"fit {c.fit:.2f} - capacity price {price:.2f} = {c.fit - price:.2f}"
    if strategy is Strategy.ROUND_ROBIN:
        return f"last turn #{e.last_seq}" if e.last_seq else "no turn yet in this pool"
    if strategy is Strategy.WEIGHTED:
        return f"fair-share level {level:.3f} at weight {rep.weight:g}"
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
    view: FairView | None = None,
) -> list[Candidate]:
    """Candidates in the order the strategy prefers them, with ``rank`` and ``reason`` set.

    ``optimize`` uses the capacity prices of the last batch solve (none yet: all 0, which
    makes it best fit). ``view`` holds the pool's fair-share levels at the decision time
    (``Ledger.view``); without it, levels are taken undecayed.
    """
    prices = prices or {}
    key = _priced(prices) if strategy is Strategy.OPTIMIZE else KEYS[strategy]
    if view is None:
        view = ledger.view(pool, [c.rep_id for c in candidates], reps, None)
    levels = view.levels
    # Each candidate's ledger entry and sort key, worked out once (the ranking, the reasons
    # and the tie note all read them).
    entries = [ledger.entry(pool, c.rep_id) for c in candidates]
    keyed = sorted(
        (
            (*key(c, e, levels[c.rep_id]), -c.fit, _tiebreak(lead_id, c.rep_id)),
            i,
        )
        for i, (c, e) in enumerate(zip(candidates, entries, strict=True))
    )
    order = [i for _, i in keyed]
    ranked = [
        _ranked(
            candidates[i],
            rank,
            _reason(
                strategy,
                candidates[i],
                entries[i],
                reps[candidates[i].rep_id],
                prices,
                levels[candidates[i].rep_id],
            ),
        )
        for rank, i in enumerate(order, start=1)
    ]
    if len(ranked) > 1:
        note = _tie_note(strategy, ranked[0], ranked[1], keyed[0][0], keyed[1][0])
        ranked[0] = _ranked(ranked[0], 1, ranked[0].reason + note)
    return ranked


# The fields ``_ranked`` copies by name; should Candidate gain one, it falls back to evolve.
_COPIED = ("rep_id", "fit", "load", "capacity", "contributions", "rank", "reason")
_COPY_BY_NAME = tuple(a.name for a in attrs.fields(Candidate)) == _COPIED


def _ranked(c: Candidate, rank: int, reason: str) -> Candidate:
    """``attrs.evolve(c, rank=rank, reason=reason)`` at half the cost (once per candidate)."""
    if not _COPY_BY_NAME:
        return attrs.evolve(c, rank=rank, reason=reason)
    return Candidate(
        rep_id=c.rep_id,
        fit=c.fit,
        load=c.load,
        capacity=c.capacity,
        contributions=c.contributions,
        rank=rank,
        reason=reason,
    )


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
