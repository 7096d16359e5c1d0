"""What reporting reads: every decision, every outcome, the last exception report and every
effect still waiting for a human."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from leadroute.models import Decision, InputProblem, Outcome
from leadroute.store import EffectFailure, Store, unresolved_failures
from leadroute.store.outcomes import (
    decision_history,
    last_problems,
    load_outcomes,
    problems_recorded_at,
)

__all__ = ["History", "window_end"]


def window_end(latest: datetime | None, now: datetime, window: timedelta) -> datetime:
    """Where a report's window ends by default.

    Now, when the store holds activity in the ``window`` before now; otherwise the store's
    latest event (a demo, a simulation, a store of the past), so the default report shows
    what the store holds instead of an empty month.
    """
    if latest is None or now - window < latest <= now:
        return now
    return latest


@attrs.frozen(kw_only=True)
class History:
    """The routing history reports are computed from; no I/O after loading.

    Attributes:
        decisions: Every decision of every epoch (a reassignment is a later epoch).
        outcomes: Every outcome reported after a decision.
        problems: The last route run's exception report (rejected leads, bad rows).
        failures: Every effect still waiting for a human, as of loading (dead, or refused
            and never rerouted), whichever run it died in.
        problems_at: When the run whose report ``problems`` is ran (its own clock): its
            rejected leads count in the reporting windows that hold this time, and only there.
    """

    decisions: tuple[Decision, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    failures: tuple[EffectFailure, ...] = ()
    problems_at: datetime | None = None

    def latest(self) -> datetime | None:
        """The time of the last thing the store holds: a decision, an outcome or a run."""
        times = [
            *(d.decided_at for d in self.decisions),
            *(o.at for o in self.outcomes),
            *([self.problems_at] if self.problems_at else []),
        ]
        return max(times, default=None)

    def problems_in(self, start: datetime, end: datetime) -> tuple[InputProblem, ...]:
        """The stored exception report if its run falls in ``(start, end]``, else nothing:
        rejected leads count in the window of the run that read them."""
        if self.problems_at is None or start < self.problems_at <= end:
            return self.problems
        return ()

    def window_end(self, now: datetime, window: timedelta) -> datetime:
        """Where a report's window ends by default (``window_end`` of the latest event)."""
        return window_end(self.latest(), now, window)

    @classmethod
    def load(cls, store: Store) -> History:
        """Read the whole history from a store."""
        # The last run's effect rows are replaced by the store's current list: one retried
        # or resolved since is gone, one that died in an earlier run is still there.
        return cls(
            decisions=tuple(decision_history(store)),
            outcomes=tuple(load_outcomes(store)),
            problems=tuple(p for p in last_problems(store) if p.kind != "effect"),
            problems_at=problems_recorded_at(store),
            failures=tuple(unresolved_failures(store)),
        )
