"""``explain``: the decision a lead has now, as recorded (the CLI renders why)."""

from __future__ import annotations

from leadroute.errors import UnknownLeadError
from leadroute.models import Decision
from leadroute.store import Store

__all__ = ["explain_decision"]


def explain_decision(store: Store, lead_id: str) -> Decision:
    """The current decision for a lead from a store; ``UnknownLeadError`` when there is none."""
    decision = store.current_decision(lead_id)
    if decision is None:
        raise UnknownLeadError(f"no decision recorded for lead {lead_id!r}")
    return decision
