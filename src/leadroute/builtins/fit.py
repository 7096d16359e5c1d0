"""Built-in fit: how well an eligible rep suits a lead, beyond the hard constraints.

Contributions (each 0..1, weighted by ``fit.weights``): ``language`` (the rep lists the
lead's language: 1; the rep lists none: 0.5), ``product`` (same rule for the product
line) and ``headroom`` (the share of the rep's cap still free; 0.5 when uncapped).
Strategies use the weighted total to break ties; the batch optimizer maximises it.
"""

from __future__ import annotations

import functools

from leadroute.context import RoutingContext
from leadroute.host import hookimpl
from leadroute.models import FitContribution, Lead, Rep

NEUTRAL = 0.5


# Called for every rep standing, with few distinct arguments (the lead's language or product
# and a rep's list); the answer is a frozen value, so one instance per argument set serves all.
@functools.lru_cache(maxsize=4096)
def _listed(value: str, allowed: tuple[str, ...], label: str) -> FitContribution:
    if not allowed or not value:
        return FitContribution(name=label, value=NEUTRAL, detail=f"no {label} preference")
    hit = value.lower() in {a.lower() for a in allowed}
    return FitContribution(
        name=label,
        value=1.0 if hit else 0.0,
        detail=f"{label} {value} {'listed' if hit else 'not listed'}",
    )


@hookimpl
def leadroute_score_fit(lead: Lead, rep: Rep, ctx: RoutingContext) -> list[FitContribution]:
    """Language, product and capacity headroom contributions."""
    return [
        _listed(lead.language, rep.languages, "language"),
        _listed(lead.product, rep.products, "product"),
        _headroom(ctx.load(rep.id), rep.capacity.max_open),
    ]


# Loads and caps repeat across reps and leads: one frozen value per pair, like ``_listed``.
@functools.lru_cache(maxsize=4096)
def _headroom(load: int, cap: int | None) -> FitContribution:
    if cap:
        return FitContribution(
            name="headroom", value=max(0.0, 1 - load / cap), detail=f"{load}/{cap} open"
        )
    return FitContribution(name="headroom", value=NEUTRAL, detail="no cap")
