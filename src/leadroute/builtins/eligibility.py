"""Why a rep cannot take a lead: the policy's hard constraints.

Each check is one small function in a table keyed by the constraint it enforces; checks
keyed ``None`` always run. ``ctx.constraints`` names the constraints in force; the
current-owner and account-owner steps run with none, so an account's owner keeps their
accounts whatever their territory. Availability and capacity live in
``builtins/availability.py`` and ``builtins/capacity.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from leadroute.context import RoutingContext
from leadroute.host import hookimpl
from leadroute.models import Exclusion, ExclusionCode, Lead, Rep

Check = Callable[[Lead, Rep, RoutingContext], Exclusion | None]


def _territory(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
    if not rep.territories:
        return None
    country = lead.country.upper()
    keys = {country, lead.attributes.get("region", "").upper()}
    if lead.state:
        keys.add(f"{country}-{lead.state.upper()}")
    keys.discard("")
    if keys & {t.upper() for t in rep.territories}:
        return None
    where = "/".join(k for k in (country, lead.attributes.get("region", "")) if k) or "no country"
    return Exclusion(
        rep_id=rep.id,
        code=ExclusionCode.TERRITORY_MISMATCH,
        detail=f"{where} not in {','.join(rep.territories)}",
    )


def _attribute(
    code: ExclusionCode,
    label: str,
    value_of: Callable[[Lead], str],
    allowed_of: Callable[[Rep], tuple[str, ...]],
) -> Check:
    """A check for list attributes: an empty rep list or an unknown lead value never excludes."""

    def check(lead: Lead, rep: Rep, ctx: RoutingContext) -> Exclusion | None:
        allowed = allowed_of(rep)
        value = value_of(lead).strip().lower()
        if not allowed or not value or value in {a.lower() for a in allowed}:
            return None
        return Exclusion(
            rep_id=rep.id, code=code, detail=f"{label} {value} not in {','.join(allowed)}"
        )

    return check


CHECKS: tuple[tuple[str | None, Check], ...] = (
    ("territory", _territory),
    (
        "language",
        _attribute(
            ExclusionCode.LANGUAGE_MISMATCH,
            "language",
            lambda lead: lead.language,
            lambda rep: rep.languages,
        ),
    ),
    (
        "segment",
        _attribute(
            ExclusionCode.SEGMENT_MISMATCH,
            "segment",
            lambda lead: lead.attributes.get("segment", ""),
            lambda rep: rep.segments,
        ),
    ),
    (
        "product",
        _attribute(
            ExclusionCode.PRODUCT_MISMATCH,
            "product",
            lambda lead: lead.product,
            lambda rep: rep.products,
        ),
    ),
)


@hookimpl
def leadroute_exclude_rep(lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Exclusion]:
    """Every hard-constraint exclusion that applies."""
    found = []
    for constraint, check in CHECKS:
        if constraint is None or constraint in ctx.constraints:
            exclusion = check(lead, rep, ctx)
            if exclusion is not None:
                found.append(exclusion)
    return found
