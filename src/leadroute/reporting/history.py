"""What reporting reads: every decision, every outcome, the last exception report and every
effect still waiting for a human."""

from __future__ import annotations

import attrs

from leadroute.models import Decision, InputProblem, Outcome
from leadroute.store import EffectFailure, Store, unresolved_failures
from leadroute.store.outcomes import decision_history, last_problems, load_outcomes

__all__ = ["History"]


@attrs.frozen(kw_only=True)
class History:
    """The routing history reports are computed from; no I/O after loading.

    Attributes:
        decisions: Every decision of every epoch (a reassignment is a later epoch).
        outcomes: Every outcome reported after a decision.
        problems: The last route run's exception report (rejected leads, bad rows).
        failures: Every effect still waiting for a human, as of loading (dead, or refused
            and never rerouted), whichever run it died in.
    """

    decisions: tuple[Decision, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    failures: tuple[EffectFailure, ...] = ()

    @classmethod
    def load(cls, store: Store) -> History:
        """Read the whole history from a store."""
        # The last run's effect rows are replaced by the store's current list: one retried
        # or resolved since is gone, one that died in an earlier run is still there.
        return cls(
            decisions=tuple(decision_history(store)),
            outcomes=tuple(load_outcomes(store)),
            problems=tuple(p for p in last_problems(store) if p.kind != "effect"),
            failures=tuple(unresolved_failures(store)),
        )
