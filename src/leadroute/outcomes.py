"""Delivering outcomes from a snapshot to the ``leadroute_record_outcome`` hook, once each."""

from __future__ import annotations

from collections.abc import Sequence

from leadroute.host import PluginHost
from leadroute.logs import get_logger
from leadroute.models import Outcome
from leadroute.store import Store
from leadroute.store.outcomes import known_outcome_ids

__all__ = ["deliver_outcomes"]

log = get_logger(__name__)


def deliver_outcomes(host: PluginHost, store: Store, outcomes: Sequence[Outcome]) -> int:
    """Pass each outcome the store has not seen through the hook; return how many were new.

    An adapter re-reads the whole activity history on every run; outcomes are keyed by
    ``Outcome.id``, so only new ones reach plugins, and a duplicate inside one read counts once.
    """
    known = known_outcome_ids(store, (o.id for o in outcomes))
    new = 0
    for outcome in outcomes:
        if outcome.id in known:
            continue
        known.add(outcome.id)
        host.record_outcome(outcome, store)
        new += 1
    if outcomes:
        log.info("outcomes.delivered", read=len(outcomes), new=new)
    return new
