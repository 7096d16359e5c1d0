"""A relay pass: apply the outbox through the adapter, and decide again what the target refused.

A refused owner is unavailable for the rest of the pass (``active=False``), so the new
decision (the next epoch, with its own effect) picks someone else. It is decided as a
move: the person's other records follow the new owner, so one person never ends split
across owners, and the refused decision's rotation turns are given back in the same
commit. The loop is bounded by ``MAX_REROUTE_ROUNDS``; a quota stop ends it (the new
decisions' writes would wait anyway). Every unresolved effect in the store (dead, or
refused and not rerouted, from this pass or any earlier one) becomes a row of the
exception report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from leadroute.adapters import Adapter
from leadroute.engine import Committed, Engine
from leadroute.logs import get_logger
from leadroute.models import InputProblem, Lead
from leadroute.pipeline import Decided
from leadroute.store import EffectFailure, RelayReport, relay, unresolved_failures
from leadroute.store.changes import turns_of

__all__ = ["MAX_REROUTE_ROUNDS", "relay_pass"]

log = get_logger(__name__)

# A refusal can only reroute a lead this many times in one pass; then it is an exception.
MAX_REROUTE_ROUNDS = 3


def relay_pass(
    engine: Engine,
    adapter: Adapter,
    leads: Mapping[str, Lead],
    on_reroute: Callable[[Committed], None],
) -> tuple[RelayReport, list[InputProblem]]:
    """Relay the outbox; decide again the leads (of ``leads``) whose owner was refused.

    ``on_reroute`` hears of each decision made again. Returns the relay's report and the
    exception-report rows of every unresolved effect.
    """
    report = relay(engine.store, adapter)
    refused: set[str] = set()
    superseded: set[str] = set()
    for _ in range(MAX_REROUTE_ROUNDS):
        reroutes = [f for f in report.failures if f.reroute and f.decision_id not in superseded]
        if not reroutes or report.quota:
            break
        refused |= {f.owner_id for f in reroutes}
        if engine.policy.fallback.owner in refused:
            break  # the last resort itself is refused: nobody is left to decide for
        again = _decide_again(engine, reroutes, refused, leads, on_reroute)
        if not again:
            break
        superseded |= again
        report = report + relay(engine.store, adapter, after=report.cursor)
    return report, [f.as_problem() for f in unresolved_failures(engine.store)]


def _decide_again(
    engine: Engine,
    reroutes: Sequence[EffectFailure],
    refused: set[str],
    leads: Mapping[str, Lead],
    on_reroute: Callable[[Committed], None],
) -> set[str]:
    """Commit a new epoch for each refused lead without the refused owners.

    Returns the ids of the refused decisions now replaced (by a new decision of their
    own, or by following another record of their person that was decided again).
    """
    team = [attrs.evolve(r, active=False) if r.id in refused else r for r in engine.reps.values()]
    pipeline = engine.variant(reps=team)
    replaced: set[str] = set()
    with engine.group(size=len(reroutes), on_commit=on_reroute) as group:
        for failure in reroutes:
            lead, current = leads.get(failure.lead_id), engine.latest(failure.lead_id)
            if lead is None or current is None:
                continue  # not among the leads of this pass
            if current.id != failure.decision_id:
                # Decided again already: it followed its person, or another process moved it.
                replaced.add(failure.decision_id)
                continue
            outcome = pipeline.decide(lead, engine.clock(), epoch=current.epoch + 1)
            if not isinstance(outcome, Decided):
                continue
            if outcome.decision.owner_id in refused:
                engine.state.discard(outcome.decision, outcome.turns)
                continue
            group.add(_giving_back(engine, outcome, failure), moved=True)
            replaced.add(failure.decision_id)
            log.info(
                "lead.rerouted",
                lead_id=failure.lead_id,
                refused=failure.owner_id,
                rep_id=outcome.decision.owner_id,
                epoch=outcome.decision.epoch,
            )
    return replaced


def _giving_back(engine: Engine, outcome: Decided, failure: EffectFailure) -> Decided:
    """The new decision, carrying back the rotation turns the refused decision took (not
    those it gave back itself, for a decision that was a reroute already)."""
    at = outcome.decision.decided_at
    taken = [t for t in turns_of(engine.store, failure.decision_id) if t.delta > 0]
    returned = tuple(t.given_back(at) for t in taken)
    for turn in returned:
        engine.state.ledger.apply(turn)
    return attrs.evolve(outcome, turns=(*returned, *outcome.turns))
