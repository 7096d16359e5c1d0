"""The batch assignment problem as arrays: who may take whom, how well, and how much room."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchProblem", "MoveCaps", "SideConstraints"]


@attrs.frozen(kw_only=True)
class MoveCaps:
    """Limits on how many leads may leave their current owner (rebalance).

    Attributes:
        per_rep: Most discretionary moves away from any one rep (None: no cap).
        total: Most discretionary moves in all (None: no cap).
        spent: Rep index -> moves away from that rep already made against these caps (by
            an interrupted run being resumed); they count toward both caps.
    """

    per_rep: int | None = None
    total: int | None = None
    spent: Mapping[int, int] = attrs.field(factory=dict)

    @property
    def active(self) -> bool:
        """Whether either cap is set."""
        return self.per_rep is not None or self.total is not None

    def total_left(self) -> int | None:
        """Discretionary moves still allowed in all (None: no cap)."""
        return None if self.total is None else max(0, self.total - sum(self.spent.values()))

    def left_for(self, rep: int) -> int | None:
        """Discretionary moves still allowed away from one rep (None: no cap)."""
        return None if self.per_rep is None else max(0, self.per_rep - self.spent.get(rep, 0))


@attrs.frozen(kw_only=True, eq=False)
class SideConstraints:
    """Rules a flow cannot express; when the flow optimum breaks one, CP-SAT takes over.

    Attributes:
        stay: Current owner's rep index per lead (-1: none), for move caps.
        move_caps: Limits on discretionary moves (leads whose owner could keep them).
        move_order: Tie-break among discretionary moves of equal gain under a move cap:
            a lead with a lower number moves first (default: lead order). Distinct values.
        account: Account id per lead (``""``: none); leads of one account go to one rep.
        lead_type: Lead type per lead, for ``max_type_share``.
        max_type_share: Lead type -> most of a rep's remaining capacity that leads of that
            type may take in one batch (0..1).
        time_limit: Seconds CP-SAT may take when a rule binds.
    """

    stay: NDArray[np.int32] | None = None
    move_caps: MoveCaps = attrs.field(factory=MoveCaps)
    move_order: NDArray[np.int64] | None = None
    account: tuple[str, ...] = ()
    lead_type: tuple[str, ...] = ()
    max_type_share: Mapping[str, float] = attrs.field(factory=dict)
    time_limit: float = 10.0

    @property
    def active(self) -> bool:
        """Whether any rule is set."""
        return self.moves_capped or self.beyond_network

    @property
    def moves_capped(self) -> bool:
        """Whether move caps apply (kept in the network by a churn-penalty search)."""
        return self.move_caps.active and self.stay is not None

    @property
    def beyond_network(self) -> bool:
        """Whether a rule no network flow can express is set (accounts, type shares)."""
        return bool(self.account) or bool(self.max_type_share and self.lead_type)


@attrs.frozen(kw_only=True, eq=False)
class BatchProblem:
    """Leads, reps and the eligible (lead, rep) pairs with their fit.

    Pairs come from the pipeline's candidates, so every hard constraint and exclusion is
    already applied: the solver only balances fit against capacity.

    Attributes:
        lead_ids: Lead ids; a lead's index is its position.
        rep_ids: Rep ids; a rep's index is its position.
        pair_lead: Lead index of each eligible pair.
        pair_rep: Rep index of each eligible pair.
        pair_fit: Fit of each pair (>= 0; higher is better).
        capacity: Leads each rep may still take (remaining capacity, >= 0).
        fairness: Convex cost on filling a rep (fit units per lead): each quarter of a rep's
            capacity costs this much more per lead than the one before, so load spreads
            unless fit says otherwise. 0 turns it off.
        side: Side constraints (move caps, account co-assignment, type shares), if any.
        pool_ids: Pools with a cap on how many leads they take in this batch.
        pool_cap: Most leads each capped pool takes (one entry per ``pool_ids``, >= 0).
        lead_pool: Capped pool index per lead (-1: its pool has no cap). A lead reaches
            exactly one pool (its rule's), so the cap counts the pool's placed leads,
            whichever rep takes them; a rep may sit in several pools.
        current: Current owner's rep index per lead (-1: none; None: no lead has one). A
            pair to the current owner is a *stay*: it uses the owner's ``capacity`` but
            none of their ``intake`` or kind caps (the lead was received long ago).
        intake: Most leads *new* to each rep (not staying) this batch takes: the room
            left under the rep's daily and weekly caps (None: only ``capacity`` limits).
        kind_ids: Lead kinds (types) with a per-rep cap.
        lead_kind: Kind index per lead (-1: a kind without caps; None: no kinds).
        kind_room: Per rep and kind (``len(rep_ids) x len(kind_ids)``), most new leads of
            that kind the rep takes (-1: no cap).
    """

    lead_ids: tuple[str, ...]
    rep_ids: tuple[str, ...]
    pair_lead: NDArray[np.int32]
    pair_rep: NDArray[np.int32]
    pair_fit: NDArray[np.float64]
    capacity: NDArray[np.int64]
    fairness: float = 0.0
    side: SideConstraints | None = None
    pool_ids: tuple[str, ...] = ()
    pool_cap: NDArray[np.int64] = attrs.field(factory=lambda: np.zeros(0, np.int64))
    lead_pool: NDArray[np.int32] | None = None
    current: NDArray[np.int32] | None = None
    intake: NDArray[np.int64] | None = None
    kind_ids: tuple[str, ...] = ()
    lead_kind: NDArray[np.int32] | None = None
    kind_room: NDArray[np.int64] | None = None

    def __attrs_post_init__(self) -> None:
        n, m, e = len(self.lead_ids), len(self.rep_ids), len(self.pair_lead)
        if not (len(self.pair_rep) == len(self.pair_fit) == e):
            raise ValueError("pair_lead, pair_rep and pair_fit must have the same length")
        if len(self.capacity) != m:
            raise ValueError("capacity needs one entry per rep")
        if e and (self.pair_lead.min() < 0 or self.pair_lead.max() >= n):
            raise ValueError("pair_lead holds an index outside lead_ids")
        if e and (self.pair_rep.min() < 0 or self.pair_rep.max() >= m):
            raise ValueError("pair_rep holds an index outside rep_ids")
        if e and (not np.all(np.isfinite(self.pair_fit)) or self.pair_fit.min() < 0):
            raise ValueError("pair_fit must be finite and >= 0")
        if m and self.capacity.min() < 0:
            raise ValueError("capacity must be >= 0")
        if not np.isfinite(self.fairness) or self.fairness < 0:
            raise ValueError("fairness must be finite and >= 0")
        if len(self.pool_cap) != len(self.pool_ids):
            raise ValueError("pool_cap needs one entry per pool")
        if len(self.pool_cap) and self.pool_cap.min() < 0:
            raise ValueError("pool_cap must be >= 0")
        if self.lead_pool is not None:
            if len(self.lead_pool) != n:
                raise ValueError("lead_pool needs one entry per lead")
            if n and (self.lead_pool.min() < -1 or self.lead_pool.max() >= len(self.pool_ids)):
                raise ValueError("lead_pool holds an index outside pool_ids")
        self._check_gates()

    def _check_gates(self) -> None:
        """Current owners, intake and kind caps have the right shapes."""
        n, m = len(self.lead_ids), len(self.rep_ids)
        if self.current is not None and (
            len(self.current) != n or (n and (self.current.min() < -1 or self.current.max() >= m))
        ):
            raise ValueError("current needs one rep index (or -1) per lead")
        if self.intake is not None and (len(self.intake) != m or (m and self.intake.min() < 0)):
            raise ValueError("intake needs one entry >= 0 per rep")
        k = len(self.kind_ids)
        if (self.lead_kind is None) != (self.kind_room is None):
            raise ValueError("lead_kind and kind_room go together")
        if self.lead_kind is not None and self.kind_room is not None:
            if len(self.lead_kind) != n or (
                n and (self.lead_kind.min() < -1 or self.lead_kind.max() >= k)
            ):
                raise ValueError("lead_kind needs one kind index (or -1) per lead")
            if self.kind_room.shape != (m, k) or (
                self.kind_room.size and self.kind_room.min() < -1
            ):
                raise ValueError("kind_room needs one entry >= -1 per rep and kind")

    @property
    def pool_of_lead(self) -> NDArray[np.int32]:
        """Capped pool index per lead (-1 when its pool has no cap, or there are no pools)."""
        if self.lead_pool is None:
            return np.full(len(self.lead_ids), -1, np.int32)
        return self.lead_pool

    @property
    def stay_pair(self) -> NDArray[np.bool_]:
        """Per pair, whether it keeps the lead with its current owner."""
        if self.current is None:
            return np.zeros(self.num_pairs, np.bool_)
        owner = self.current[self.pair_lead]
        stays: NDArray[np.bool_] = (owner >= 0) & (self.pair_rep == owner)
        return stays

    @property
    def num_pairs(self) -> int:
        """Eligible pairs."""
        return len(self.pair_lead)

    @classmethod
    def from_candidates(
        cls,
        candidates: Mapping[str, Sequence[tuple[str, float]]],
        capacity: Mapping[str, int | None],
        *,
        fairness: float = 0.0,
        side: SideConstraints | None = None,
        pools: Mapping[str, str] | None = None,
        pool_caps: Mapping[str, int | None] | None = None,
        current: Mapping[str, str] | None = None,
        intake: Mapping[str, int | None] | None = None,
        kinds: Mapping[str, str] | None = None,
        kind_caps: Mapping[str, Mapping[str, int]] | None = None,
    ) -> BatchProblem:
        """Build from ``lead_id -> [(rep_id, fit), ...]`` and remaining capacity per rep.

        A rep without a cap (``None``) can take every lead of the batch. ``pools`` names
        each lead's pool and ``pool_caps`` the most leads a pool takes in this batch
        (pools missing from it, or capped with None, are not capped). ``current`` names a
        lead's current owner (a pair to them is a stay), ``intake`` the most new leads a
        rep takes (None: no limit), ``kinds`` each lead's kind and ``kind_caps`` rep ->
        kind -> the most new leads of that kind the rep takes.
        """
        lead_ids = tuple(candidates)
        rep_ids = tuple(capacity)
        rep_index = {rep_id: i for i, rep_id in enumerate(rep_ids)}
        pairs = [
            (li, rep_index[rep_id], fit)
            for li, lead_id in enumerate(lead_ids)
            for rep_id, fit in candidates[lead_id]
        ]
        if pairs:
            lead_col, rep_col, fit_col = zip(*pairs, strict=True)
        else:
            lead_col, rep_col, fit_col = (), (), ()
        room = [len(lead_ids) if cap is None else cap for cap in capacity.values()]
        capped = {name: cap for name, cap in (pool_caps or {}).items() if cap is not None}
        pool_ids = tuple(sorted({p for p in (pools or {}).values() if p in capped}))
        pool_index = {name: i for i, name in enumerate(pool_ids)}
        lead_pool = (
            np.array([pool_index.get(pools.get(lead_id, ""), -1) for lead_id in lead_ids], np.int32)
            if pools and pool_ids
            else None
        )
        owners = (
            np.array([rep_index.get(current.get(i, ""), -1) for i in lead_ids], np.int32)
            if current
            else None
        )
        intake_col = (
            np.array(
                [len(lead_ids) if (v := intake.get(r)) is None else max(0, v) for r in rep_ids],
                np.int64,
            )
            if intake is not None
            else None
        )
        kind_ids = tuple(sorted({k for caps in (kind_caps or {}).values() for k in caps}))
        lead_kind = kind_room = None
        if kind_ids:
            kind_index = {k: i for i, k in enumerate(kind_ids)}
            lead_kind = np.array(
                [kind_index.get((kinds or {}).get(i, ""), -1) for i in lead_ids], np.int32
            )
            kind_room = np.full((len(rep_ids), len(kind_ids)), -1, np.int64)
            for rep_id, caps in (kind_caps or {}).items():
                for kind, left in caps.items():
                    if rep_id in rep_index:
                        kind_room[rep_index[rep_id], kind_index[kind]] = max(0, left)
        return cls(
            lead_ids=lead_ids,
            rep_ids=rep_ids,
            pair_lead=np.asarray(lead_col, dtype=np.int32),
            pair_rep=np.asarray(rep_col, dtype=np.int32),
            pair_fit=np.asarray(fit_col, dtype=np.float64),
            capacity=np.asarray(room, dtype=np.int64),
            fairness=fairness,
            side=side,
            pool_ids=pool_ids,
            pool_cap=np.array([capped[p] for p in pool_ids], np.int64),
            lead_pool=lead_pool,
            current=owners,
            intake=intake_col,
            kind_ids=kind_ids if lead_kind is not None else (),
            lead_kind=lead_kind,
            kind_room=kind_room,
        )
