"""What reporting reads: every decision, every outcome and the last exception report."""

from __future__ import annotations

import attrs

from leadroute.models import Decision, InputProblem, Outcome
from leadroute.store import Store
from leadroute.store.outcomes import decision_history, last_problems, load_outcomes

__all__ = ["History"]


@attrs.frozen(kw_only=True)
class History:
    """The routing history reports are computed from; no I/O after loading.

    Attributes:
        decisions: Every decision of every epoch (a reassignment is a later epoch).
        outcomes: Every outcome reported after a decision.
        problems: The last route run's exception report (rejected leads, bad rows).
    """

    decisions: tuple[Decision, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    problems: tuple[InputProblem, ...] = ()

    @classmethod
    def load(cls, store: Store) -> History:
        """Read the whole history from a store."""
        return cls(
            decisions=tuple(decision_history(store)),
            outcomes=tuple(load_outcomes(store)),
            problems=tuple(last_problems(store)),
        )
