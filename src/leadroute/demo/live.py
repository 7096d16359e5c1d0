"""Route the demo's leads as they arrive, the way a live intake (form webhook) would.

A CSV export routed at one instant would make every lead wait from its creation until
that instant, which is how a nightly import behaves, not leadroute on a form. The demo
routes each lead when its latest request came in (its creation, or a later behaviour
event such as a demo request, which a live intake routes on) plus a short, seeded intake
delay (most within seconds, a few held minutes by a slow CRM sync), so the dashboard
shows live routing. A lead whose routing waited for a later event shows the wait in its
time to owner, which is measured from the lead's creation.
"""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta
from pathlib import Path

import attrs

from leadroute import usecases
from leadroute.adapters import Adapter
from leadroute.demo.activity import write_activity
from leadroute.engine import Engine
from leadroute.files import open_private
from leadroute.host import PluginHost
from leadroute.models import Lead, Snapshot
from leadroute.notify import EffectRouter, Notifier
from leadroute.outcomes import deliver_outcomes
from leadroute.policy import Policy
from leadroute.store import Store
from leadroute.store.outcomes import decision_history

__all__ = ["intake_delay", "route_as_they_arrive", "simulate_live_intake"]

# (share of leads, shortest, longest) intake delay between form submit and decision.
DELAYS = ((0.88, 1, 45), (0.08, 60, 300), (0.04, 300, 1800))
# Where the demo's console notifications go (next to activity.csv).
MESSAGES = "messages.txt"


def intake_delay(rng: random.Random) -> timedelta:
    """A seeded delay between a lead's creation and its routing."""
    roll, floor = rng.random(), 0.0
    for share, low, high in DELAYS:
        floor += share
        if roll < floor:
            return timedelta(seconds=rng.randint(low, high))
    return timedelta(seconds=rng.randint(*DELAYS[-1][1:]))


def _arrived(lead: Lead, now: datetime) -> datetime:
    """When the lead's latest request came in: its creation, or a later behaviour event
    (a demo request on a known contact) that triggers routing; never after ``now``."""
    moments = [lead.created_at or now, *(e.at for e in lead.events if e.at <= now)]
    return max(moments)


def route_as_they_arrive(
    policy: Policy,
    store: Store,
    host: PluginHost,
    snapshot: Snapshot,
    *,
    now: datetime,
    seed: int,
    adapter: Adapter | None = None,
) -> usecases.RunResult:
    """Route each lead at its arrival time (never after ``now``), in arrival order.

    Leads without a creation time arrive at ``now``. Already decided leads replay, so a
    second demo run decides nothing again. With ``adapter``, owners are written back and
    the exception report published, as in any route run.
    """
    rng = random.Random(seed)
    arrivals = {
        lead.id: min(now, _arrived(lead, now) + intake_delay(rng)) for lead in snapshot.leads
    }
    ordered = tuple(sorted(snapshot.leads, key=lambda lead: (arrivals[lead.id], lead.id)))
    engine = Engine.open(
        policy, store, reps=snapshot.reps, accounts=snapshot.accounts, host=host, clock=lambda: now
    )
    return usecases.route(
        engine,
        attrs.evolve(snapshot, leads=ordered),
        adapter=adapter,
        source="csv",
        arrival=lambda lead: arrivals[lead.id],
    )


def simulate_live_intake(
    policy: Policy,
    store_path: Path,
    host: PluginHost,
    adapter: Adapter,
    *,
    activity: Path,
    now: datetime,
    seed: int,
) -> tuple[usecases.RunResult, Snapshot]:
    """Route the adapter's leads as they arrive, then record the reps' activity since.

    The routing run is a normal CSV run (owners written, exception report published).
    The activity is then written to ``activity.csv`` and read back through the adapter,
    whose outcomes go through ``leadroute_record_outcome`` like any run's.
    """
    snapshot = adapter.read()
    # The policy's console notifications go to messages.txt beside the other outputs: a
    # demo tells a few hundred owners about their leads, too many for the terminal.
    with contextlib.ExitStack() as stack:
        writer: Adapter = adapter
        if policy.notifications.channels:
            messages = stack.enter_context(open_private(activity.parent / MESSAGES))
            notifier = Notifier(policy, {r.id: r for r in snapshot.reps}, stream=messages)
            stack.callback(notifier.close)
            writer = EffectRouter(adapter, notifier)
        with Store.open(store_path) as store:
            result = route_as_they_arrive(
                policy, store, host, snapshot, now=now, seed=seed, adapter=writer
            )
            write_activity(activity, decision_history(store), now=now, seed=seed)
            deliver_outcomes(host, store, adapter.read().outcomes)
    return result, snapshot
