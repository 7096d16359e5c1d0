"""Each hook, exercised the way a third-party plugin would use it, plus the contract meta-tests."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from tests.conftest import AT, lead, policy_from, snapshot, standard_reps

from leadroute import hookspecs
from leadroute.adapters import AdapterConfig
from leadroute.errors import PluginError
from leadroute.host import hookimpl, make_host
from leadroute.models import (
    Account,
    AccountMatch,
    DecisionStatus,
    Exclusion,
    FitContribution,
    Problem,
    RouteStep,
)
from leadroute.pipeline import Decided, Rejected

HOOKS = sorted(
    name
    for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("leadroute_")
)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"


class Plugin:
    """A plugin object built from keyword functions, as a test would ship it."""

    def __init__(self, **impls):
        for name, func in impls.items():
            setattr(self, name, hookimpl(func))


def test_hook_leadroute_register_adapters():
    """A plugin can register an adapter factory by name, and the first registration wins."""

    def factory(config: AdapterConfig):
        return "adapter-for-" + config.policy.version

    def leadroute_register_adapters(register):
        register("memory", factory)

    host = make_host(
        env={"LEADROUTE_LOAD_PLUGINS": "csv"},
        plugins=[Plugin(leadroute_register_adapters=leadroute_register_adapters)],
    )
    registry = host.adapters()
    assert {"csv", "memory"} <= set(registry.names())
    made = registry.get("memory")(AdapterConfig(policy=policy_from()))  # type: ignore[misc]
    assert made == "adapter-for-t1"


def test_hook_leadroute_validate_lead(make_pipeline):
    """A validator's reject problem sends the lead to the exception report."""

    def leadroute_validate_lead(lead, policy):
        if lead.source == "spam":
            return [Problem(code="SPAM_SOURCE", field="source", message="spam source")]
        return None

    pipeline = make_pipeline(plugins=[Plugin(leadroute_validate_lead=leadroute_validate_lead)])
    outcome = pipeline.decide(lead("L1", source="spam"), AT)
    assert isinstance(outcome, Rejected)
    assert [p.code for p in outcome.problems] == ["SPAM_SOURCE"]
    assert isinstance(pipeline.decide(lead("L2", source="web"), AT), Decided)


def test_hook_leadroute_enrich_lead(make_pipeline):
    """An enrichment plugin's attribute can drive a rule, but never overwrites input attributes."""

    def leadroute_enrich_lead(lead, policy):
        return {"region": "EMEA", "tier": "gold"}

    pipeline = make_pipeline(plugins=[Plugin(leadroute_enrich_lead=leadroute_enrich_lead)])
    outcome = pipeline.decide(lead("L1", country="XX"), AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.rule == "emea"  # region came from the plugin
    kept = pipeline.host.enrich_lead(lead("L2", attributes={"tier": "silver"}), pipeline.policy)
    assert kept.attributes["tier"] == "silver"


def test_hook_leadroute_match_account(make_pipeline):
    """A plugin matcher is asked before the built-in one; its match decides the account owner."""

    def leadroute_match_account(lead, accounts, policy):
        return AccountMatch(account_id="A2", method="crm-id", confidence=1.0)

    accounts = [
        Account(id="A1", name="Acme", domain="acme.com", owner_id="na-1"),
        Account(id="A2", name="Other", domain="other.com", owner_id="emea-1"),
    ]
    pipeline = make_pipeline(
        accounts=accounts, plugins=[Plugin(leadroute_match_account=leadroute_match_account)]
    )
    outcome = pipeline.decide(lead("L1", email="x@acme.com"), AT)
    assert isinstance(outcome, Decided)
    assert (outcome.decision.owner_id, outcome.decision.account_method) == ("emea-1", "crm-id")


def test_hook_leadroute_exclude_rep(make_pipeline):
    """A plugin exclusion with its own code keeps that rep out and shows in the decision."""

    def leadroute_exclude_rep(lead, rep, ctx):
        if rep.id == "na-1":
            return [Exclusion(rep_id=rep.id, code="IN_TRAINING", detail="until Friday")]
        return None

    pipeline = make_pipeline(plugins=[Plugin(leadroute_exclude_rep=leadroute_exclude_rep)])
    owners = set()
    for i in range(4):
        outcome = pipeline.decide(lead(f"L{i}"), AT)
        assert isinstance(outcome, Decided)
        owners.add(outcome.decision.owner_id)
        assert ("na-1", "IN_TRAINING") in {(e.rep_id, e.code) for e in outcome.decision.exclusions}
    assert owners == {"na-2"}


def test_hook_leadroute_exclude_reps(make_pipeline):
    """A batched exclusion keeps a group of reps out, is explained per rep, and spares per-rep hooks."""
    from leadroute.models import ExclusionGroup

    built: list[int] = []
    per_rep: list[str] = []

    def leadroute_exclude_reps(lead, team, rep_ids, ctx):
        blocked = team.memo("test.blocked", lambda: built.append(1) or frozenset({"na-1"}))
        hit = [r for r in rep_ids if r in blocked]
        return [ExclusionGroup(code="BLOCKED", detail="on the list", rep_ids=hit)] if hit else None

    def leadroute_exclude_rep(lead, rep, ctx):
        per_rep.append(rep.id)

    pipeline = make_pipeline(
        plugins=[
            Plugin(
                leadroute_exclude_reps=leadroute_exclude_reps,
                leadroute_exclude_rep=leadroute_exclude_rep,
            )
        ]
    )
    for i in range(3):
        outcome = pipeline.decide(lead(f"L{i}"), AT)
        assert isinstance(outcome, Decided)
        assert outcome.decision.owner_id == "na-2"
        assert ("na-1", "BLOCKED", "on the list") in {
            (e.rep_id, e.code, e.detail) for e in outcome.decision.all_exclusions()
        }
    assert built == [1]  # the memo built the index once for the run
    assert "na-1" not in per_rep and "na-2" in per_rep


def test_hook_leadroute_score_fit(make_pipeline):
    """A fit plugin's contribution, weighted by the policy, breaks a tie between equal reps."""

    def leadroute_score_fit(lead, rep, ctx):
        return [FitContribution(name="seniority", value=1.0 if rep.id == "na-2" else 0.0)]

    policy = policy_from(open_policy_with("fit: {weights: {seniority: 3}}"))
    pipeline = make_pipeline(
        policy=policy, plugins=[Plugin(leadroute_score_fit=leadroute_score_fit)]
    )
    outcome = pipeline.decide(lead("L1"), AT)
    assert isinstance(outcome, Decided)
    winner = outcome.decision.candidates[0]
    assert winner.rep_id == "na-2"
    assert {c.name for c in winner.contributions} >= {"seniority", "language", "headroom"}
    assert winner.fit - outcome.decision.candidates[1].fit == 3.0


def test_hook_leadroute_decision_made(store):
    """Every new committed decision is broadcast once; a replayed one is not."""
    from leadroute.router import Router

    seen: list[tuple[str, str]] = []

    def leadroute_decision_made(decision):
        seen.append((decision.lead_id, decision.owner_id))

    host = make_host(
        load_entrypoints=False, plugins=[Plugin(leadroute_decision_made=leadroute_decision_made)]
    )
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    snap = snapshot([lead("L1"), lead("L2", country="XX")], standard_reps())
    router.route(snap)
    router.route(snap)
    assert [lead_id for lead_id, _ in seen] == ["L1", "L2"]
    decisions = {d.lead_id: d for d in router.route(snap).decisions}
    assert decisions["L2"].status == DecisionStatus.FALLBACK
    assert decisions["L1"].step == RouteStep.POOL


def test_hook_leadroute_solve(store):
    """A solver plugin replaces the built-in flow solver in batch mode."""
    import numpy as np

    from leadroute.router import Router
    from leadroute.solver import Solution

    def leadroute_solve(problem):
        everyone_to_first = np.full(len(problem.lead_ids), -1, np.int32)
        first = problem.pair_rep[problem.pair_lead == 0]
        everyone_to_first[0] = first[0] if len(first) else -1
        return Solution(
            status="CUSTOM",
            assignment=everyone_to_first,
            objective=0.0,
            bound=0.0,
            gap=0.0,
            build_seconds=0.0,
            solve_seconds=0.0,
            extract_seconds=0.0,
        )

    host = make_host(load_entrypoints=False, plugins=[Plugin(leadroute_solve=leadroute_solve)])
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    result = router.route(snapshot([lead("L1"), lead("L2")]), batch=True)
    assert result.solution is not None and result.solution.status == "CUSTOM"
    by_lead = {d.lead_id: d for d in result.decisions}
    assert by_lead["L1"].strategy == "optimize"
    assert by_lead["L2"].status == DecisionStatus.FALLBACK  # the plugin left it unassigned


def test_hook_leadroute_record_outcome(store):
    """Outcomes in a snapshot reach plugins and the store once each, even when read again."""
    from datetime import timedelta

    import attrs

    from leadroute.models import Outcome, OutcomeKind
    from leadroute.router import Router
    from leadroute.store.outcomes import load_outcomes

    seen: list[tuple[str, str]] = []

    def leadroute_record_outcome(outcome, store):
        seen.append((outcome.lead_id, str(outcome.kind)))

    host = make_host(
        load_entrypoints=False, plugins=[Plugin(leadroute_record_outcome=leadroute_record_outcome)]
    )
    touch = Outcome(
        kind=OutcomeKind.FIRST_TOUCH, lead_id="L1", rep_id="na-1", at=AT + timedelta(minutes=4)
    )
    meeting = attrs.evolve(touch, kind=OutcomeKind.MEETING_BOOKED, at=AT + timedelta(days=1))
    snap = attrs.evolve(snapshot([lead("L1")], standard_reps()), outcomes=(touch, touch, meeting))
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snap)
    router.route(snap)
    assert seen == [("L1", "first_touch"), ("L1", "meeting_booked")]
    assert load_outcomes(store) == [touch, meeting]


def open_policy_with(extra: str) -> str:
    from tests.conftest import BASE_POLICY

    return BASE_POLICY + extra + "\n"


def test_every_hook_has_a_test():
    """Each hook spec has a test named test_hook_<hook name> in this module."""
    missing = [h for h in HOOKS if f"test_hook_{h}" not in globals()]
    assert missing == []


def test_every_hook_is_documented_with_its_signature():
    """docs/hooks.md has a section per hook whose heading is the hook's signature."""
    text = DOCS.read_text(encoding="utf-8")
    headings = re.findall(r"^###\s+`?(leadroute_\w+)\(([^)]*)\)`?", text, flags=re.M)
    documented = {
        name: [a.strip() for a in args.split(",") if a.strip()] for name, args in headings
    }
    for hook in HOOKS:
        params = list(inspect.signature(getattr(hookspecs, hook)).parameters)
        assert documented.get(hook) == params, f"docs/hooks.md: {hook}({', '.join(params)})"


def test_hook_specs_carry_the_docstring_template():
    """Every hook spec documents its parameters with :param lines; firstresult hooks say so."""
    for hook in HOOKS:
        func = getattr(hookspecs, hook)
        doc = inspect.getdoc(func) or ""
        for param in inspect.signature(func).parameters:
            assert f":param {param}:" in doc, f"{hook} lacks :param {param}:"
        opts = getattr(func, "leadroute_spec", {})
        if opts.get("firstresult"):
            assert "Stops at first non-None result" in doc


def test_hook_leadroute_normalize_lead(make_pipeline):
    """A normalizer plugin's value wins over the built-in one, and routing sees it."""

    def leadroute_normalize_lead(lead, policy):
        if lead.country == "Blighty":
            return {"country": "GB"}
        return None

    pipeline = make_pipeline(plugins=[Plugin(leadroute_normalize_lead=leadroute_normalize_lead)])
    outcome = pipeline.decide(lead("L1", country="Blighty"), AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.rule == "emea"
    assert outcome.decision.features["country"] == "GB"

    def bad(lead, policy):
        return {"id": "other"}

    broken = make_pipeline(plugins=[Plugin(leadroute_normalize_lead=bad)])
    with pytest.raises(PluginError, match="may not change the lead's 'id'"):
        broken.decide(lead("L2"), AT)


def test_hook_leadroute_score_lead(make_pipeline):
    """A scoring plugin's points add to the built-in rules, count against caps, and route."""
    from leadroute.models import ScoreContribution

    def leadroute_score_lead(lead, policy, at):
        return [ScoreContribution(name="intent-data", points=50, group="intent")]

    policy = policy_from(
        BASE_POLICY_WITH_SCORE_RULE
        + "scoring:\n  mql: 60\n  caps: {intent: 45}\n"
        + "  rules: [{name: big, when: {employees: {gte: 200}}, points: 20, group: fit}]\n"
    )
    pipeline = make_pipeline(
        policy=policy, plugins=[Plugin(leadroute_score_lead=leadroute_score_lead)]
    )
    outcome = pipeline.decide(lead("L1", employees=500), AT)
    assert isinstance(outcome, Decided)
    decision = outcome.decision
    assert (decision.score, decision.lifecycle_stage) == (65, "mql")
    assert [(c.name, c.points) for c in decision.score_contributions] == [
        ("intent-data", 50),
        ("big", 20),
        ("cap:intent", -5),
    ]
    assert decision.rule == "hot"  # the rule on score saw this request's score


BASE_POLICY_WITH_SCORE_RULE = """
version: "t1"
regions: {NA: [US, CA]}
pools:
  - {name: na, strategy: round_robin}
  - {name: hot, strategy: round_robin, members: [na-2]}
routing:
  - {name: hot, when: {score: {gte: 60}}, pool: hot, constraints: []}
  - {name: na, when: {region: NA}, pool: na}
fallback: {owner: ops}
"""


def test_hook_leadroute_declare_config(make_pipeline):
    """A plugin declares its policy section; hooks read it typed through policy.plugin_config."""
    import attrs

    @attrs.frozen(kw_only=True)
    class GuardConfig:
        blocked: tuple[str, ...] = ()

    def leadroute_declare_config(register):
        register("guard", GuardConfig)

    def leadroute_exclude_rep(lead, rep, ctx):
        if rep.id in ctx.policy.plugin_config("guard").blocked:
            return [Exclusion(rep_id=rep.id, code="BLOCKED", detail="by the guard plugin")]
        return None

    plugin = Plugin(
        leadroute_declare_config=leadroute_declare_config,
        leadroute_exclude_rep=leadroute_exclude_rep,
    )
    policy = policy_from(open_policy_with("plugins: {guard: {blocked: [na-1]}}"))
    pipeline = make_pipeline(standard_reps(), plugins=[plugin], policy=policy)
    outcome = pipeline.decide(lead("L1"), AT)
    assert isinstance(outcome, Decided) and outcome.decision.owner_id == "na-2"
    assert [(e.rep_id, e.code) for e in outcome.decision.exclusions] == [("na-1", "BLOCKED")]


def test_hook_leadroute_register_commands():
    """A plugin adds a command to the leadroute command line."""
    import typer
    from typer.testing import CliRunner

    def leadroute_register_commands(cli):
        @cli.command("hello")
        def hello(name: str = "world") -> None:
            typer.echo(f"hello {name}")

    host = make_host(
        load_entrypoints=False,
        plugins=[Plugin(leadroute_register_commands=leadroute_register_commands)],
    )
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """The root."""

    host.register_commands(cli)
    result = CliRunner().invoke(cli, ["hello", "--name", "leadroute"])
    assert result.exit_code == 0 and result.stdout == "hello leadroute\n"


MODELS = (
    "Lead",
    "LeadEvent",
    "Rep",
    "Capacity",
    "Availability",
    "LeaveWindow",
    "Account",
    "AccountIndex",
    "AccountMatch",
    "RoutingContext",
    "Problem",
    "ScoreContribution",
    "Exclusion",
    "ExclusionGroup",
    "FitContribution",
    "Candidate",
    "Decision",
    "Outcome",
    "BatchProblem",
    "Solution",
)


def test_every_field_of_every_hook_model_is_documented():
    """docs/hooks.md has a table per model a hook receives or returns, naming every field."""
    import attrs

    import leadroute
    import leadroute.solver

    text = DOCS.read_text(encoding="utf-8")
    for name in MODELS:
        cls = getattr(leadroute, name, None) or getattr(leadroute.solver, name)
        match = re.search(rf"^### `{name}`\n(.*?)(?=^### |\Z)", text, flags=re.M | re.S)
        assert match, f"docs/hooks.md: no section for model {name}"
        documented = set(re.findall(r"^\| `(\w+)` \|", match.group(1), flags=re.M))
        fields = {f.name for f in attrs.fields(cls) if not f.name.startswith("_")}
        assert fields <= documented, f"{name}: undocumented {sorted(fields - documented)}"


def test_every_hook_has_a_worked_example():
    """Each hook's section in docs/hooks.md holds a Python example implementing that hook."""
    text = DOCS.read_text(encoding="utf-8")
    for hook in HOOKS:
        match = re.search(rf"^### `{hook}\(.*?(?=^##)", text, flags=re.M | re.S)
        assert match and f"def {hook}(" in match.group(0), f"docs/hooks.md: {hook} has no example"
