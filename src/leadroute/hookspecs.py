"""The leadroute plugin contract: every hook, grouped by phase.

Built-in behaviour implements these same hooks (``leadroute.builtins``). Core code never
calls ``pm.hook.*`` directly; it goes through the typed facade in ``leadroute.host``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from leadroute.adapters import AdapterFactory
    from leadroute.context import RoutingContext
    from leadroute.models import (
        AccountIndex,
        AccountMatch,
        Decision,
        Exclusion,
        ExclusionGroup,
        FitContribution,
        Lead,
        Outcome,
        Problem,
        Rep,
        ScoreContribution,
    )
    from leadroute.policy import Policy
    from leadroute.solver import BatchProblem, Solution
    from leadroute.store import Store
    from leadroute.team import Team

hookspec = pluggy.HookspecMarker("leadroute")

# --------------------------------------------------------------------------- setup


@hookspec
def leadroute_register_adapters(register: Callable[[str, AdapterFactory], None]) -> None:
    """Register backends (``csv``, ``hubspot``, ``salesforce``) by name.

    Call ``register(name, factory)`` once per backend; ``factory(AdapterConfig)`` returns an
    object satisfying ``leadroute.adapters.Adapter``. The first registration of a name wins.

    :param register: Callback taking the adapter name and its factory.
    """


@hookspec
def leadroute_declare_config(register: Callable[[str, type], None]) -> None:
    """Declare the policy section ``plugins.<name>`` a plugin reads, with its schema.

    Call ``register(name, schema)`` where ``schema`` is an attrs class; the section is
    structured into it when a run starts, with path-precise errors
    (``plugins.<name>.<field>: ...``). Read the settings in any hook with
    ``policy.plugin_config(name)`` (``None`` while required settings are absent).

    :param register: Callback taking the section name and its attrs class.
    """


@hookspec
def leadroute_register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``leadroute`` command line.

    Add a command (``@cli.command()``) or a group (``cli.add_typer(group, name="fit")``).
    Called once when the command line starts, after plugins load; keep imports of heavy
    libraries inside the commands so ``leadroute --help`` stays fast.

    :param cli: The root typer application.
    """


# --------------------------------------------------------------------------- intake


@hookspec
def leadroute_validate_lead(lead: Lead, policy: Policy) -> Iterable[Problem] | None:
    """Find what makes a lead invalid or incomplete.

    Return the problems found (or ``None``); every implementation's problems are collected.
    A problem whose ``action`` is ``reject`` sends the lead to the exception report,
    ``fallback`` sends it to the fallback queue, ``flag`` routes it and records the problem.

    :param lead: The lead as read by the adapter, after enrichment.
    :param policy: The policy in force.
    """


@hookspec
def leadroute_enrich_lead(lead: Lead, policy: Policy) -> Mapping[str, str] | None:
    """Derive fields for a lead (``domain`` from email, ``region`` from country, ``segment``).

    Return a mapping of attribute name to value, or ``None``. Results are merged into
    ``lead.attributes`` in hook-call order; an attribute already present (from the input
    or an earlier implementation) is never overwritten, so the input stays authoritative.
    Routing never waits on enrichment: return nothing rather than block.

    :param lead: The lead as read by the adapter.
    :param policy: The policy in force.
    """


@hookspec
def leadroute_normalize_lead(lead: Lead, policy: Policy) -> Mapping[str, Any] | None:
    """Put a lead's own fields into their normal form before anything else reads them.

    Return a mapping of ``Lead`` field name to its normal value (``{"country": "GB"}``),
    or ``None``. Every implementation sees the lead as read; when two change the same
    field, the first in hook-call order wins (plugins registered later are called first,
    so a plugin overrides the built-in normalizer). Routing, validation, enrichment and
    scoring all see the normalized lead. ``id``, ``attributes`` and ``origin`` cannot be
    changed here (derive attributes with ``leadroute_enrich_lead``).

    :param lead: The lead as read by the adapter.
    :param policy: The policy in force.
    """


@hookspec
def leadroute_score_lead(
    lead: Lead, policy: Policy, at: datetime
) -> Iterable[ScoreContribution] | None:
    """Contribute points to a lead's score.

    Return named contributions (or ``None``); every implementation's are collected. The
    core sums them, applies the policy's per-group ``scoring.caps``, and sets the lead's
    ``score`` and ``lifecycle_stage`` attributes (MQL/SQL thresholds) before routing, so
    routing rules see the score of this very request.

    :param lead: The normalized, enriched and validated lead.
    :param policy: The policy in force.
    :param at: The decision time: behaviour points decay by age relative to it.
    """


# --------------------------------------------------------------------------- matching


@hookspec(firstresult=True)
def leadroute_match_account(
    lead: Lead, accounts: AccountIndex, policy: Policy
) -> AccountMatch | None:
    """Find the known account a lead belongs to.

    Stops at first non-None result. The built-in matcher (registrable domain of the email
    or website, never a free-mail one; then fuzzy company name; ties to the preferred
    status, then the latest activity) is ``trylast``, so a plugin's matcher is asked first.

    :param lead: The enriched lead.
    :param accounts: All known accounts, indexed by id, registrable domain and normalized
        name (every account kept per key).
    :param policy: The policy in force.
    """


@hookspec
def leadroute_exclude_rep(lead: Lead, rep: Rep, ctx: RoutingContext) -> Iterable[Exclusion] | None:
    """Say why a rep cannot take a lead right now.

    Return the exclusions that apply (each with a stable upper-case ``code``), or ``None``
    when this implementation has no objection. A rep with any exclusion from any
    implementation is not a candidate. Called for every rep considered for every lead:
    keep it fast and free of I/O.

    :param lead: The enriched lead.
    :param rep: The rep being considered.
    :param ctx: The time, policy, current loads and the constraints in force.
    """


@hookspec
def leadroute_exclude_reps(
    lead: Lead, team: Team, rep_ids: Sequence[str], ctx: RoutingContext
) -> Iterable[ExclusionGroup] | None:
    """Say which of many reps cannot take a lead, all at once.

    Return groups of excluded reps, each group with one stable upper-case ``code`` and one
    detail true for every rep in it, or ``None``. Called once per lead for the reps
    considered (a pool's members, or a single owner), before ``leadroute_exclude_rep``,
    which is then called only for the reps no implementation excluded here. Build an
    index of the team once per run with ``team.memo(...)`` so that a call costs what the
    lead needs, not what the team size is. The built-in hard constraints (territory,
    language, segment, product, skill) are implemented here.

    :param lead: The enriched lead.
    :param team: Every rep of the run, with ``memo`` for per-run indexes.
    :param rep_ids: The ids of the reps considered, all in ``team.reps``.
    :param ctx: The time, policy, current loads and the constraints in force.
    """


@hookspec
def leadroute_score_fit(
    lead: Lead, rep: Rep, ctx: RoutingContext
) -> Iterable[FitContribution] | None:
    """Contribute to how well an eligible rep fits a lead.

    Return named contributions (conventionally 0..1), or ``None``. The core multiplies each
    by the policy's ``fit.weights[name]`` (default 1.0) and sums them; strategies use the
    total to break ties and the ``optimize`` strategy maximises it.

    :param lead: The enriched lead.
    :param rep: An eligible rep.
    :param ctx: The time, policy, current loads and the constraints in force.
    """


# --------------------------------------------------------------------------- assignment


@hookspec(firstresult=True)
def leadroute_solve(problem: BatchProblem) -> Solution | None:
    """Assign a batch of leads jointly (``leadroute route --batch``).

    Stops at first non-None result. The built-in OR-Tools min-cost-flow solver is
    ``trylast``, so a plugin may replace it (or return ``None`` to let it run). Return a
    ``Solution`` whose ``assignment`` holds a rep index per lead (-1 for none) and never
    exceeds ``problem.capacity``.

    :param problem: Leads, reps, eligible pairs with fit, and remaining capacity per rep.
    """


# --------------------------------------------------------------------------- outcomes


@hookspec
def leadroute_decision_made(decision: Decision) -> None:
    """React to a decision after it is committed to the store.

    Broadcast to every implementation (metrics, notifications, custom sinks). Side effects
    that must happen exactly once belong in the outbox, not here: this hook is not
    called again for a decision replayed on a rerun.

    :param decision: The committed decision.
    """


@hookspec
def leadroute_record_outcome(outcome: Outcome, store: Store) -> None:
    """Record what happened to a lead after its decision (first touch, meeting, reassignment).

    Broadcast to every implementation: the built-in one writes the outcome to the store
    (idempotently, keyed by ``outcome.id``); plugins add sinks (a warehouse, a learned-fit
    model). The router calls it once per outcome the store has not seen, so an activity
    file read on every run reaches each implementation once per store.

    :param outcome: The event, as the adapter read it.
    :param store: The audit store the run writes to (read it to learn from history).
    """
