"""The use cases: short modules over one ``Engine``, each a command's whole run.

| module | use case |
|---|---|
| ``route`` | route a snapshot (online or ``--batch``), relay, report problems |
| ``batch`` | the joint solve of ``route --batch`` |
| ``rebalance`` | the nightly move of owned-but-unworked leads |
| ``reassign`` | move a departing rep's leads through the policy; one lead (``reassign_one``) |
| ``relay`` | a relay pass, deciding again what the target refused |
| ``explain`` | the decision a lead has now |
| ``results`` | what a run reports (decisions in input order, problems, counts) |
"""

from __future__ import annotations

from leadroute.usecases.explain import explain_decision
from leadroute.usecases.reassign import reassign, reassign_one
from leadroute.usecases.rebalance import rebalance
from leadroute.usecases.relay import MAX_REROUTE_ROUNDS, relay_pass
from leadroute.usecases.results import ReassignResult, RebalanceResult, RunResult
from leadroute.usecases.route import GROUP_SIZE, by_arrival, route

__all__ = [
    "GROUP_SIZE",
    "MAX_REROUTE_ROUNDS",
    "ReassignResult",
    "RebalanceResult",
    "RunResult",
    "by_arrival",
    "explain_decision",
    "reassign",
    "reassign_one",
    "rebalance",
    "relay_pass",
    "route",
]
