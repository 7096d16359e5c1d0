"""The learned-fit plugin: a ``learned`` fit contribution from a trained model, and the
``leadroute fit train`` command.

With ``fit.learned`` in the policy, every eligible rep gets a ``learned`` contribution
whose value is the rep's predicted chance of reaching the model's target for this lead
(the policy weighs it with ``fit.learned.weight``); its detail reads
``learned 0.31 vs team 0.22, n=48``. A rep with fewer than ``min_evidence`` leads in the
history scores the team's chance for the lead, neither favoured nor penalised. Without
``fit.learned`` the hook returns nothing.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from leadroute import FitContribution, PluginError, hookimpl
from leadroute_learned_fit.model import DIMENSIONS, Model

if TYPE_CHECKING:
    import typer

    from leadroute import Lead, Rep, RoutingContext

__all__ = ["leadroute_register_commands", "leadroute_score_fit", "load_model"]


@functools.lru_cache(maxsize=8)
def load_model(path: str, digest: str) -> Model:
    """The model at ``path``, read once per content digest (the policy's ``fit.learned``)."""
    try:
        return Model.load(path)
    except (OSError, ValueError) as exc:
        raise PluginError(f"plugin 'learned_fit': cannot use the model: {exc}") from None


@functools.lru_cache(maxsize=65536)
def _contribution(
    model: Model, rep_id: str, features: tuple[tuple[str, str], ...], min_evidence: int
) -> FitContribution:
    # Reps and lead features repeat across leads: one frozen answer per combination.
    p = model.predict(rep_id, dict(features), min_evidence)
    if p.used:
        detail = f"learned {p.rate:.2f} vs team {p.team:.2f}, n={p.evidence}"
    else:
        detail = f"team {p.team:.2f}: too little evidence (n={p.evidence} < {min_evidence})"
    return FitContribution(name="learned", value=round(p.rate, 4), detail=detail)


@hookimpl
def leadroute_score_fit(lead: Lead, rep: Rep, ctx: RoutingContext) -> list[FitContribution] | None:
    """The rep's learned chance of converting this lead, when the policy has ``fit.learned``."""
    learned = ctx.policy.fit.learned
    if learned is None:
        return None
    model = load_model(learned.path, learned.digest)
    features = tuple((d, v) for d in DIMENSIONS if (v := lead.get(d)))
    return [_contribution(model, rep.id, features, learned.min_evidence)]


@hookimpl
def leadroute_register_commands(cli: typer.Typer) -> None:
    """``leadroute fit train``."""
    from leadroute_learned_fit.command import fit_app  # noqa: PLC0415 - scipy only when used

    cli.add_typer(fit_app, name="fit")
