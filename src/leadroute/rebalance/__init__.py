"""The nightly rebalance: move owned-but-unworked leads, as few as it must, jointly.

``select`` says which owned leads may move and which are held; ``plan`` solves the
movable ones jointly (people whole, every cap in the network, move caps by a
churn-penalty search) and ``caps`` checks every cap on the plan's end state before
anything is committed. The use case (``leadroute.usecases.rebalance``) commits the plan.
"""

from __future__ import annotations

from leadroute.rebalance.caps import Arrival, Transfer, rejected_arrivals
from leadroute.rebalance.plan import ROUNDS, Move, RebalancePlan, plan_rebalance
from leadroute.rebalance.select import (
    FORCED,
    account_owned,
    hold_reason,
    movable_reasons,
    moved_by_rebalance,
)

__all__ = [
    "FORCED",
    "ROUNDS",
    "Arrival",
    "Move",
    "RebalancePlan",
    "Transfer",
    "account_owned",
    "hold_reason",
    "movable_reasons",
    "moved_by_rebalance",
    "plan_rebalance",
    "rejected_arrivals",
]
