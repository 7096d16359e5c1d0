"""leadroute: routing as code. Decide who owns every inbound lead, and say why.

The public surface for library users and plugin authors; everything not listed in
``__all__`` may change between releases.
"""

from __future__ import annotations

from leadroute.adapters import Adapter, AdapterConfig, AdapterFactory, AdapterRegistry
from leadroute.context import RoutingContext
from leadroute.engine import Engine, Verdict
from leadroute.errors import (
    AdapterError,
    InputFileError,
    LeadrouteError,
    PluginError,
    PolicyError,
    UserInputError,
)
from leadroute.host import PluginHost, hookimpl, make_host
from leadroute.logs import configure_logging
from leadroute.models import (
    Account,
    AccountIndex,
    AccountMatch,
    Availability,
    Candidate,
    Capacity,
    Decision,
    DecisionStatus,
    Effect,
    EffectResult,
    Exclusion,
    ExclusionCode,
    ExclusionGroup,
    FitContribution,
    InputProblem,
    Lead,
    LeadEvent,
    LeaveWindow,
    Outcome,
    OutcomeKind,
    Problem,
    Rep,
    RouteStep,
    ScoreContribution,
    Snapshot,
)
from leadroute.policy import Policy, load_policy, parse_policy
from leadroute.router import Router, RunResult
from leadroute.team import Team

__all__ = [
    "Account",
    "AccountIndex",
    "AccountMatch",
    "Adapter",
    "AdapterConfig",
    "AdapterError",
    "AdapterFactory",
    "AdapterRegistry",
    "Availability",
    "Candidate",
    "Capacity",
    "Decision",
    "DecisionStatus",
    "Effect",
    "EffectResult",
    "Engine",
    "Exclusion",
    "ExclusionCode",
    "ExclusionGroup",
    "FitContribution",
    "InputFileError",
    "InputProblem",
    "Lead",
    "LeadEvent",
    "LeadrouteError",
    "LeaveWindow",
    "Outcome",
    "OutcomeKind",
    "PluginError",
    "PluginHost",
    "Policy",
    "PolicyError",
    "Problem",
    "Rep",
    "RouteStep",
    "Router",
    "RoutingContext",
    "RunResult",
    "ScoreContribution",
    "Snapshot",
    "Team",
    "UserInputError",
    "Verdict",
    "configure_logging",
    "hookimpl",
    "load_policy",
    "make_host",
    "parse_policy",
]
