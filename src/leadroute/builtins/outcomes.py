"""The built-in outcome sink: every reported outcome goes to the audit store."""

from __future__ import annotations

from leadroute.host import hookimpl
from leadroute.models import Outcome
from leadroute.store import Store
from leadroute.store.outcomes import record_outcome


@hookimpl(tryfirst=True)
def leadroute_record_outcome(outcome: Outcome, store: Store) -> None:
    """Store the outcome (a no-op when the store already holds it)."""
    record_outcome(store, outcome)
