"""Per pool: the share of leads each rep received against the share the policy intends.

The intended share of a rep is their share factor (their weight, or weight x daily
capacity under the pool's ``share: weight_x_daily_cap``, see ``leadroute.strategies``)
over the factors of the pool members who could take leads at the time (active, started,
not on leave or paused, on shift and not on a public holiday unless the pool defers
hours), averaged over the pool's decisions: a rep on leave for half the period is meant
to get half their usual share, not to be owed the rest afterwards.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from leadroute.models import Decision, Rep, RouteStep
from leadroute.pipeline import pool_members
from leadroute.policy import Policy
from leadroute.store import LedgerEntry
from leadroute.strategies import decayed_level, share_factors

__all__ = ["PoolShares", "RepShare", "as_json", "pool_shares"]


@attrs.frozen(kw_only=True)
class RepShare:
    """One rep's standing in one pool over a period.

    Attributes:
        rep_id: The rep.
        received: Leads the pool's strategy gave the rep in the period.
        share: ``received`` over the pool's leads in the period (0 when none).
        intended: The share the policy meant the rep to get (see the module docstring).
        level: The rep's fair-share level now (decayed; ``Ledger.view`` floors it further
            when the rep is back in contention).
    """

    rep_id: str
    received: int
    share: float
    intended: float
    level: float


@attrs.frozen(kw_only=True)
class PoolShares:
    """A pool's shares over a period.

    Attributes:
        pool: Pool name.
        strategy: Its strategy.
        total: Leads the pool's strategy assigned in the period.
        reps: One row per member (and per former member who received leads).
    """

    pool: str
    strategy: str
    total: int
    reps: tuple[RepShare, ...]

    @property
    def max_gap(self) -> float:
        """The largest gap between a rep's share and their intended share."""
        return max((abs(r.share - r.intended) for r in self.reps), default=0.0)


def _can_take(rep: Rep, at: datetime, *, hours: bool) -> bool:
    availability = rep.availability
    paused = (
        (availability.paused_until is not None and availability.paused_until > at)
        or (availability.paused and availability.paused_until is None)
        or availability.pause_at(at) is not None
    )
    started = availability.starts_at is None or availability.starts_at <= at
    on_shift = not hours or not availability.has_calendar
    on_shift = on_shift or availability.working_hours().is_open(at)
    away = availability.leave_at(at) is not None or paused or not started
    return rep.active and not away and on_shift


def pool_shares(
    policy: Policy,
    reps: Sequence[Rep],
    decisions: Iterable[Decision],
    ledger: Iterable[LedgerEntry],
    *,
    since: datetime,
    until: datetime,
) -> list[PoolShares]:
    """Shares per pool for decisions made by pool strategies in ``[since, until)``."""
    by_id = {r.id: r for r in reps}
    members = pool_members(policy, by_id)
    entries = {(e.pool, e.rep_id): e for e in ledger}
    chosen: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        if d.step == RouteStep.POOL and d.pool in members and since <= d.decided_at < until:
            chosen[d.pool].append(d)
    result = []
    for pool in policy.pools:
        ids = members.get(pool.name, ())
        factors = share_factors((by_id[r] for r in ids), pool.share)
        received = Counter(d.owner_id for d in chosen[pool.name])
        expected: dict[str, float] = defaultdict(float)
        for d in chosen[pool.name]:
            hours = pool.out_of_hours != "defer"
            open_ids = [r for r in ids if _can_take(by_id[r], d.decided_at, hours=hours)]
            total = sum(factors[r] for r in open_ids)
            for r in open_ids:
                expected[r] += factors[r] / total if total else 0.0
        n = len(chosen[pool.name])
        rows = []
        for rep_id in sorted({*ids, *received}):
            entry = entries.get((pool.name, rep_id))
            rows.append(
                RepShare(
                    rep_id=rep_id,
                    received=received[rep_id],
                    share=received[rep_id] / n if n else 0.0,
                    intended=expected[rep_id] / n if n else 0.0,
                    level=decayed_level(entry, until, pool.half_life) if entry else 0.0,
                )
            )
        result.append(
            PoolShares(pool=pool.name, strategy=str(pool.strategy), total=n, reps=tuple(rows))
        )
    return result


def as_json(shares: Sequence[PoolShares]) -> list[Mapping[str, object]]:
    """Shares as plain data for ``--json``."""
    return [
        {
            "pool": s.pool,
            "strategy": s.strategy,
            "total": s.total,
            "max_gap": round(s.max_gap, 4),
            "reps": [
                {
                    "rep_id": r.rep_id,
                    "received": r.received,
                    "share": round(r.share, 4),
                    "intended": round(r.intended, 4),
                    "level": round(r.level, 4),
                }
                for r in s.reps
            ],
        }
        for s in shares
    ]
