"""Whether a rep has room: stacked caps on open leads, load per local day and week, and type.

Every cap that is set applies; the first one a lead would break is the exclusion
(``OPEN_CAP 25/25``, ``DAILY_CAP 10/10``, ``WEEKLY_CAP 40/40``, ``TYPE_CAP demo 5/5``).
Days and weeks are the rep's own (``leadroute.usage``). Caps apply where the step puts
``capacity`` in ``ctx.constraints`` (pool routing and backups), never to an account's
owner keeping their account.
"""

from __future__ import annotations

from collections.abc import Callable

from leadroute.context import RoutingContext
from leadroute.host import hookimpl
from leadroute.models import Exclusion, ExclusionCode, Lead, Rep
from leadroute.usage import lead_load

__all__ = ["CHECKS", "leadroute_exclude_rep"]

Check = Callable[[Lead, Rep, RoutingContext], Exclusion | None]


def _amount(value: float) -> str:
    return f"{value:g}"


def _over(used: float, load: float, cap: float) -> bool:
    """Whether taking ``load`` more would break ``cap`` (a count cap: ``used >= cap``)."""
    return used + load > cap + 1e-9


def _open(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    cap = rep.capacity.max_open
    load = ctx.load(rep.id)
    if cap is None or load < cap:
        return None
    return Exclusion(rep_id=rep.id, code=ExclusionCode.OPEN_CAP, detail=f"{load}/{cap}")


def _period(
    code: ExclusionCode,
    cap_of: Callable[[Rep], float | None],
    used_of: Callable[[RoutingContext, Rep], float],
) -> Check:
    def check(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
        cap = cap_of(rep)
        if cap is None or ctx.usage is None:
            return None
        used, load = used_of(ctx, rep), lead_load(lead, ctx.policy)
        if not _over(used, load, cap):
            return None
        more = "" if ctx.policy.capacity.load == "count" else f" (+{_amount(load)})"
        return Exclusion(rep_id=rep.id, code=code, detail=f"{_amount(used)}/{_amount(cap)}{more}")

    return check


def _type(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    kind = lead.lead_type.strip().lower()
    cap = rep.capacity.per_type.get(kind)
    if cap is None or ctx.usage is None:
        return None
    used = ctx.usage.of_type(rep.id, ctx.at, kind)
    if used < cap:
        return None
    return Exclusion(rep_id=rep.id, code=ExclusionCode.TYPE_CAP, detail=f"{kind} {used}/{cap}")


CHECKS: tuple[tuple[str | None, Check], ...] = (
    ("capacity", _open),
    (
        "capacity",
        _period(
            ExclusionCode.DAILY_CAP,
            lambda rep: rep.capacity.per_day,
            lambda ctx, rep: ctx.usage.day(rep.id, ctx.at) if ctx.usage else 0.0,
        ),
    ),
    (
        "capacity",
        _period(
            ExclusionCode.WEEKLY_CAP,
            lambda rep: rep.capacity.per_week,
            lambda ctx, rep: ctx.usage.week(rep.id, ctx.at) if ctx.usage else 0.0,
        ),
    ),
    ("capacity", _type),
)


@hookimpl
def leadroute_exclude_rep(lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Exclusion]:
    """The first cap the lead would break, if any (one code per rep keeps explain readable)."""
    for constraint, check in CHECKS:
        if constraint is None or constraint in ctx.constraints:
            exclusion = check(lead, rep, ctx)
            if exclusion is not None:
                return [exclusion]
    return []
