"""``Router``: the library entry point. Load a policy, route a snapshot, explain a decision.

A run: read (adapter) -> for each lead, replay its stored decision or decide it
(pipeline) -> record decision + outbox + ledger in one transaction -> relay the outbox
through the adapter -> publish the exception report. Rerunning the same input replays
the stored decisions: no new decision, no ledger change, no new side effect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import structlog

from leadroute.adapters import Adapter
from leadroute.duplicates import People, duplicate_effects, follower_decision
from leadroute.errors import UnknownLeadError
from leadroute.fallbacks import fallback_code, fallback_owner_problems, fallback_problems
from leadroute.host import PluginFailure, PluginHost, make_host
from leadroute.models import (
    AccountIndex,
    Decision,
    DecisionStatus,
    Effect,
    InputProblem,
    Lead,
    Rep,
    RouteStep,
    Snapshot,
)
from leadroute.outcomes import deliver_outcomes
from leadroute.pipeline import Decided, Deferred, Pending, Pipeline, Rejected, with_solve
from leadroute.policy import Policy, deferring_hours, load_policy
from leadroute.reassign import ReassignPlan, excluding, plan_reassign, policy_for
from leadroute.rebalance import RebalancePlan, plan_rebalance
from leadroute.scoring import format_score
from leadroute.solver import (
    BatchProblem,
    SideConstraints,
    Solution,
    duals,
    unassigned_reasons,
)
from leadroute.store import EffectFailure, RelayReport, Store, relay, unresolved_failures
from leadroute.store.outcomes import save_problems
from leadroute.strategies import Ledger

__all__ = [
    "ReassignResult",
    "RebalanceResult",
    "Router",
    "RunResult",
    "explain_decision",
    "owner_write_effect",
    "utcnow",
]

log = structlog.get_logger(__name__)

Progress = Callable[[int], None]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def owner_write_effect(decision: Decision, rep: Rep | None) -> Effect:
    """The outbox effect that writes a decision's owner back to the source system."""
    kind = "owner_write"
    return Effect(
        kind=kind,
        decision_id=decision.id,
        lead_id=decision.lead_id,
        idem_key=Effect.key_for(decision.id, kind),
        payload={
            "lead_id": decision.lead_id,
            "owner_id": decision.owner_id,
            "owner_name": rep.name if rep else "",
            "status": str(decision.status),
            "step": str(decision.step),
            "queue": decision.queue,
            "rule": decision.rule,
            "pool": decision.pool,
            "reason": decision.reason,
            "policy_version": decision.policy_version,
            "decided_at": decision.decided_at.isoformat(),
            "decision_id": decision.id,
            "epoch": decision.epoch,
            "lead_type": decision.lead_type,
            "priority": "" if decision.priority is None else decision.priority,
            "sla_due_at": decision.sla_due_at.isoformat() if decision.sla_due_at else "",
            "lifecycle_stage": decision.lifecycle_stage,
            "score": "" if decision.score is None else format_score(decision.score),
        },
    )


def _origin(lead: Lead) -> tuple[str, int | None]:
    file, _, line = lead.origin.rpartition(":")
    if file and line.isdigit():
        return file, int(line)
    return lead.origin or "input", None


def rejection_problems(lead: Lead, problems: Iterable[Any]) -> list[InputProblem]:
    """Validation problems of a rejected lead as exception-report rows."""
    file, line = _origin(lead)
    return [
        InputProblem(
            file=file,
            line=line,
            record_id=lead.id,
            kind="lead",
            field=p.field,
            code=p.code,
            message=p.message,
        )
        for p in problems
    ]


@attrs.define
class RunResult:
    """What one routing run did.

    Attributes:
        decisions: One decision per routed lead (new and replayed), in input order.
        new_ids: Ids of the decisions made by this run (the rest were replayed).
        problems: Every record not routed (adapter rejects and validation rejects) and
            every data problem worth a human's look (reps, accounts).
        relay: What the outbox relay applied, when an adapter was given.
        solution: The batch solve (status, objective, bound, gap, timings) in batch mode.
        rerouted: Leads decided again in this run because the target refused their owner.
        followers: Decisions of earlier records that followed a reassigned duplicate to
            its new owner (their leads' entries in ``decisions`` are replaced when present).
    """

    decisions: list[Decision] = attrs.field(factory=list)
    new_ids: set[str] = attrs.field(factory=set)
    problems: list[InputProblem] = attrs.field(factory=list)
    relay: RelayReport | None = None
    solution: Solution | None = None
    rerouted: set[str] = attrs.field(factory=set)
    followers: list[Decision] = attrs.field(factory=list)
    plugin_failures: list[PluginFailure] = attrs.field(factory=list)

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``; ``input == routed + fallback + exceptions``.

        ``duplicates`` counts the leads recognised as a known person (new and replayed),
        ``duplicate_rate`` is their share of the input, ``followed`` the earlier records
        this run moved to follow a reassigned duplicate.
        """
        status = Counter(str(d.status) for d in self.decisions)
        rejected = {(p.file, p.line, p.record_id) for p in self.problems if p.kind == "lead"}
        data = [p for p in self.problems if p.kind not in ("lead", "fallback")]
        routed, fallback = status[DecisionStatus.ROUTED], status[DecisionStatus.FALLBACK]
        return {
            "input": routed + fallback + len(rejected),
            "routed": routed,
            "fallback": fallback,
            "exceptions": len(rejected),
            "new": len(self.new_ids),
            "replayed": len(self.decisions) - len(self.new_ids),
            "data_problems": len(data),
            "rerouted": len(self.rerouted),
            "plugins_failed": len(self.plugin_failures),
            "by_step": dict(sorted(Counter(str(d.step) for d in self.decisions).items())),
            "by_owner": dict(sorted(Counter(d.owner_id for d in self.decisions).items())),
            "exceptions_by_code": dict(
                sorted(Counter(p.code for p in self.problems if p.kind == "lead").items())
            ),
            "exception_rate": round(len(rejected) / total, 4)
            if (total := routed + fallback + len(rejected))
            else 0.0,
            "flagged": sum(1 for d in self.decisions if d.problems),
            "by_lifecycle_stage": dict(
                sorted(
                    Counter(d.lifecycle_stage for d in self.decisions if d.lifecycle_stage).items()
                )
            ),
            "flagged_by_code": dict(
                sorted(Counter(p.code for d in self.decisions for p in d.problems).items())
            ),
            "fallback_by_code": dict(
                sorted(
                    Counter(fallback_code(d) for d in self.decisions if fallback_code(d)).items()
                )
            ),
            **self._duplicate_counts(routed + fallback + len(rejected)),
        }

    def _duplicate_counts(self, total: int) -> dict[str, Any]:
        actions = Counter(
            d.duplicate.action
            for d in self.decisions
            if d.duplicate is not None and d.duplicate.role == "duplicate"
        )
        found = sum(actions.values())
        return {
            "duplicates": found,
            "duplicate_rate": round(found / total, 4) if total else 0.0,
            "duplicates_by_action": dict(sorted(actions.items())),
            "followed": len(self.followers),
        }


@attrs.frozen(kw_only=True)
class RebalanceResult:
    """What a rebalance planned and applied.

    Attributes:
        plan: The selection, the moves and the solve.
        applied: Moves committed by this run (0 on a dry run).
        relay: What the outbox relay applied, when an adapter was given.
    """

    plan: RebalancePlan
    applied: int
    relay: RelayReport | None

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``."""
        plan = self.plan
        return {
            "considered": plan.considered,
            "movable": len(plan.movable),
            "moves": len(plan.moves),
            "kept": plan.kept,
            "applied": self.applied,
            "movable_by_reason": dict(
                sorted(Counter(r for reasons in plan.movable.values() for r in reasons).items())
            ),
        }


@attrs.frozen(kw_only=True)
class ReassignResult:
    """What a reassignment planned and applied.

    Attributes:
        plan: The departing rep's leads and where each goes.
        applied: Moves committed by this run (0 on a dry run).
        relay: What the outbox relay applied, when an adapter was given.
    """

    plan: ReassignPlan
    applied: int
    relay: RelayReport | None

    def counts(self) -> dict[str, Any]:
        """Counts for summaries and ``--json``."""
        moves = self.plan.moves
        return {
            "owned": self.plan.owned,
            "worked_kept": self.plan.worked,
            "rejected": len(self.plan.rejected),
            "moves": len(moves),
            "to_fallback": sum(1 for m in moves if m.status == str(DecisionStatus.FALLBACK)),
            "applied": self.applied,
            "by_new_owner": dict(sorted(Counter(m.to_owner for m in moves).items())),
        }


class Router:
    """Route leads under a policy, with an audit store and the plugin host."""

    def __init__(
        self,
        policy: Policy,
        *,
        store: Store,
        host: PluginHost | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.policy = policy
        self.store = store
        self.host = host or make_host()
        self.clock = clock

    @classmethod
    def from_files(cls, policy_path: str | Path, store_path: str | Path, **kwargs: Any) -> Router:
        """Load the policy file and open (or create) the store."""
        return cls(load_policy(policy_path), store=Store.open(store_path), **kwargs)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- routing

    def route(
        self,
        snapshot: Snapshot,
        *,
        adapter: Adapter | None = None,
        source: str = "library",
        progress: Progress | None = None,
        batch: bool = False,
        arrival: Callable[[Lead], datetime] | None = None,
    ) -> RunResult:
        """Route every lead of a snapshot; apply effects and report problems via ``adapter``.

        With ``batch`` the leads that reach a pool are assigned jointly by the solver
        (``leadroute_solve``) instead of one at a time by each pool's strategy. With
        ``arrival`` each lead is decided as of its own time instead of the clock's
        (simulating live intake over a history; leads are taken in snapshot order).
        """
        run_id = self.store.begin_run("route", source)
        known = self.store.current_decisions()
        pipeline = self._pipeline(snapshot, known)
        reps = pipeline.reps
        run = _Run(pipeline=pipeline, latest=dict(known))
        if self.policy.duplicates.enabled:
            pipeline.people = People.load(self.store, known)
        at = self.clock()
        result = RunResult(
            problems=[*snapshot.problems, *fallback_owner_problems(self.policy, reps, at)],
            plugin_failures=list(self.host.failures),
        )
        waiting: list[Decision | Decided | Rejected | Pending | Deferred] = []
        for index, lead in enumerate(snapshot.leads, start=1):
            stored = known.get(lead.id)
            when = arrival(lead) if arrival is not None else at
            if stored is not None:
                self._remember(pipeline, lead, stored)
            if batch:
                waiting.append(stored if stored is not None else pipeline.prepare(lead, when))
            else:
                # Online, each decision is durable as soon as it is made.
                self._handle(
                    stored if stored is not None else pipeline.decide(lead, when), run, result
                )
            if progress is not None:
                progress(index)
        for outcome in self._solve_batch(pipeline, waiting, result, run_id) if batch else ():
            # A duplicate of a lead that waited for the solve is decided now, online.
            resumed = pipeline.resume(outcome.trail) if isinstance(outcome, Deferred) else outcome
            self._handle(resumed, run, result)
        # Leads the queue got this run go in the exception report too: never silently.
        result.problems.extend(
            fallback_problems(
                (d for d in result.decisions if d.id in result.new_ids),
                {lead.id: lead for lead in snapshot.leads},
            )
        )
        deliver_outcomes(self.host, self.store, snapshot.outcomes)
        if adapter is not None:
            result.relay = self._relay(adapter, snapshot, result)
            adapter.report_problems(result.problems)
        save_problems(self.store, run_id, result.problems)
        counts = result.counts()
        record: dict[str, Any] = {k: v for k, v in counts.items() if isinstance(v, int)}
        if result.plugin_failures:  # the run's record says which plugins it ran without
            record["plugin_failures"] = [f"{f.name}: {f.error}" for f in result.plugin_failures]
        self.store.finish_run(run_id, record)
        log.info(
            "run.finished",
            run_id=run_id,
            source=source,
            **{k: v for k, v in counts.items() if isinstance(v, int)},
        )
        return result

    def _handle(
        self,
        outcome: Decision | Decided | Rejected,
        run: _Run,
        result: RunResult,
    ) -> None:
        """Replay a stored decision, commit a new one, or report a rejection."""
        if isinstance(outcome, Decision):
            run.position[outcome.lead_id] = len(result.decisions)
            result.decisions.append(outcome)
        elif isinstance(outcome, Decided):
            self._commit(outcome, run.pipeline.reps, result, run=run)
        else:
            result.problems.extend(rejection_problems(outcome.lead, outcome.problems))
            log.info(
                "lead.rejected", lead_id=outcome.lead.id, codes=[p.code for p in outcome.problems]
            )

    def _remember(self, pipeline: Pipeline, lead: Lead, stored: Decision) -> None:
        """Make a replayed lead a known person if it is not one yet (routed before the store
        kept identities, or while duplicates were off), so later leads match it."""
        people = pipeline.people
        if people is None or people.person(lead.id):
            return
        people.observe(lead, self.policy.duplicates.match_on)
        rows, merges = people.settle(stored)
        if rows or merges:
            self.store.save_identities(rows, merges)

    def _pipeline(
        self,
        snapshot: Snapshot,
        known: Mapping[str, Decision],
        *,
        policy: Policy | None = None,
        host: PluginHost | None = None,
    ) -> Pipeline:
        """The pipeline over a snapshot, with loads, ledger and prices from the store."""
        return Pipeline.build(
            host or self.host,
            policy or self.policy,
            snapshot.reps,
            AccountIndex.build(list(snapshot.accounts)),
            assigned=_assigned_loads(known.values()),
            ledger=Ledger(self.store.load_ledger(), self.store.max_sequence()),
            prices=self.store.load_prices(),
            history=known.values(),
        )

    def _solve_batch(
        self,
        pipeline: Pipeline,
        outcomes: list[Decision | Decided | Rejected | Pending | Deferred],
        result: RunResult,
        run_id: str = "",
    ) -> list[Decision | Decided | Rejected | Deferred]:
        """Solve every pending lead jointly, then finish each with the solver's choice."""
        pending = [o for o in outcomes if isinstance(o, Pending)]
        if not pending:
            return [o for o in outcomes if not isinstance(o, Pending)]
        # Room left after this batch's sticky decisions (current and account owners).
        room = pipeline.room(pending[0].trail.at)
        problem = BatchProblem.from_candidates(
            {p.lead_id: [(c.rep_id, max(0.0, c.fit)) for c in p.candidates] for p in pending},
            room,
            fairness=self.policy.batch.fairness,
            side=self._side_constraints(pending),
            pools={p.lead_id: p.pool.name for p in pending},
            pool_caps={pool.name: pool.max_per_batch for pool in self.policy.pools},
        )
        solution = self.host.solve(problem)
        unplaced = {
            problem.lead_ids[i]: why for i, why in unassigned_reasons(problem, solution).items()
        }
        result.solution = solution
        prices: dict[str, float] = {}
        if solution.optimal:
            # Publish what each rep's capacity is worth, for the optimize strategy online.
            dual = duals(problem, solution)
            prices = dict(zip(problem.rep_ids, dual.rep.tolist(), strict=True))
            self.store.save_prices(prices, self.clock())
            if problem.pool_ids:
                # A full pool's price: the fit one more lead of cap would add. Logged, not
                # published: online routing does not count pool caps.
                log.info(
                    "solver.pool_prices",
                    run_id=run_id,
                    prices=dict(zip(problem.pool_ids, dual.pool.round(4).tolist(), strict=True)),
                )
        chosen = {
            problem.lead_ids[i]: problem.rep_ids[r]
            for i, r in enumerate(solution.assignment.tolist())
            if r >= 0
        }
        # Every decision the solve made keeps the solve's status, bound, gap and timings.
        summary = attrs.evolve(solution.summary(problem), run_id=run_id)
        return [
            with_solve(
                pipeline.finish(
                    o, chosen.get(o.lead_id), prices, unplaced=unplaced.get(o.lead_id, "")
                ),
                summary,
            )
            if isinstance(o, Pending)
            else o
            for o in outcomes
        ]

    def _side_constraints(self, pending: list[Pending]) -> SideConstraints | None:
        """The batch rules the policy asks for, per pending lead (None when it asks for none)."""
        settings = self.policy.batch
        if not settings.same_owner_per_account and not settings.max_type_share:
            return None
        return SideConstraints(
            account=tuple(
                p.trail.match.account_id
                if settings.same_owner_per_account and p.trail.match
                else ""
                for p in pending
            ),
            lead_type=tuple(p.trail.lead.lead_type.strip().lower() for p in pending),
            max_type_share={k.lower(): v for k, v in settings.max_type_share.items()},
            time_limit=settings.time_limit.total_seconds(),
        )

    def _commit(
        self,
        outcome: Decided,
        reps: Mapping[str, Rep],
        result: RunResult,
        *,
        run: _Run | None = None,
        moved: bool = False,
    ) -> None:
        """Record a decision with its effects; with ``run``, also the lead's identity rows and
        the person's other records that follow it (a reassigned duplicate, or ``moved``: a
        rebalance or reassign move)."""
        decision = outcome.decision
        effects = duplicate_effects(
            decision, owner_write_effect(decision, reps.get(decision.owner_id))
        )
        people = run.pipeline.people if run else None
        rows, merges = people.settle(decision) if people else ([], {})
        followers = self._followers(decision, run, reps, moved=moved) if run else []
        if self.store.record(
            decision, effects, outcome.ledger, identities=rows, merges=merges, followers=followers
        ):
            result.new_ids.add(decision.id)
            if run is not None:
                self._apply_followers(run, result, [f for f, _ in followers])
                run.latest[decision.lead_id] = decision
                run.position[decision.lead_id] = len(result.decisions)
            self.host.decision_made(decision)
            for follower, _ in followers:
                self.host.decision_made(follower)
            log.debug(
                "lead.routed",
                lead_id=decision.lead_id,
                rep_id=decision.owner_id,
                step=str(decision.step),
                policy_version=decision.policy_version,
            )
            result.decisions.append(decision)
        else:
            # Another process decided this lead between our read and our write: theirs stands.
            stored = self.store.current_decision(decision.lead_id)
            result.decisions.append(stored or decision)

    @staticmethod
    def _followers(
        decision: Decision, run: _Run, reps: Mapping[str, Rep], *, moved: bool = False
    ) -> list[tuple[Decision, list[Effect]]]:
        """The other records of a person whose lead was reassigned (a ``reassign`` duplicate,
        or a rebalance or reassign move), moved to its owner, with their effects."""
        dup, people = decision.duplicate, run.pipeline.people
        reassigned = moved or (
            dup is not None and dup.role == "duplicate" and dup.action == "reassign"
        )
        if not reassigned or people is None:
            return []
        following = []
        for lead_id in people.leads(people.person(decision.lead_id)):
            earlier = run.latest.get(lead_id)
            if lead_id == decision.lead_id or earlier is None:
                continue
            if earlier.owner_id == decision.owner_id:
                continue
            follower = follower_decision(earlier, decision)
            # A record that was appended to another has no owner of its own to write.
            effects = (
                []
                if lead_id in people.appended
                else [owner_write_effect(follower, reps.get(follower.owner_id))]
            )
            following.append((follower, effects))
        return following

    @staticmethod
    def _apply_followers(run: _Run, result: RunResult, followers: list[Decision]) -> None:
        """Loads, known owners and this run's decisions after earlier records moved."""
        loads, people = run.pipeline.loads, run.pipeline.people
        for follower in followers:
            earlier = run.latest[follower.lead_id]
            if earlier.step != RouteStep.CURRENT_OWNER:
                loads[earlier.owner_id] = max(0, loads.get(earlier.owner_id, 0) - 1)
            loads[follower.owner_id] = loads.get(follower.owner_id, 0) + 1
            run.latest[follower.lead_id] = follower
            if people is not None:
                people.note(follower)
            result.followers.append(follower)
            position = run.position.get(follower.lead_id)
            if position is not None:
                result.decisions[position] = follower
            log.info(
                "lead.followed_duplicate",
                lead_id=follower.lead_id,
                rep_id=follower.owner_id,
                duplicate_of=follower.duplicate.lead_id if follower.duplicate else "",
            )

    # ----------------------------------------------------------------- rebalance

    def rebalance(
        self,
        snapshot: Snapshot,
        *,
        adapter: Adapter | None = None,
        dry_run: bool = False,
        source: str = "library",
        progress: Progress | None = None,
    ) -> RebalanceResult:
        """Move owned-but-unworked leads jointly; ``dry_run`` plans without writing anything.

        Each move is its own transaction (a new decision epoch with its outbox effect), so
        a crash part-way resumes without moving anything twice, and a second run right
        after moves nothing: moved leads are freshly assigned, kept ones stay kept.
        """
        known = self.store.current_decisions()
        # The nightly job runs off shift: hours defer the SLA clock, they do not exclude.
        pipeline = self._pipeline(snapshot, known, policy=deferring_hours(self.policy))
        interrupted, spent = self._interrupted_moves(snapshot, known)
        plan = plan_rebalance(pipeline, snapshot.leads, known, self.clock(), spent=spent)
        result = RunResult()
        if dry_run:
            return RebalanceResult(plan=plan, applied=0, relay=None)
        run_id = self.store.begin_run("rebalance", source)
        # A moved lead's person moves with it: their other records follow the new owner.
        run = _Run(pipeline=pipeline, latest=dict(known))
        if self.policy.duplicates.enabled:
            pipeline.people = People.load(self.store, known)
        for index, move in enumerate(plan.moves, start=1):
            solve = move.decided.decision.solve
            # The run id on each move lets a rerun find what an interrupted run already did.
            decided = (
                with_solve(move.decided, attrs.evolve(solve, run_id=run_id))
                if solve is not None
                else move.decided
            )
            self._commit(decided, pipeline.reps, result, run=run, moved=True)
            if progress is not None:
                progress(index)
        relay_report = self._relay(adapter, snapshot, result) if adapter is not None else None
        applied = _applied(plan.moves, result)
        counts = {
            "considered": plan.considered,
            "movable": len(plan.movable),
            "moved": applied,
            "kept": plan.kept,
            "resumed_after": sum(spent.values()),
            "followed": len(result.followers),
        }
        self.store.finish_run(run_id, counts)
        for old_run in interrupted:
            # Its moves now count as this run's: a later run must not charge them again.
            self.store.finish_run(old_run, {"interrupted": 1})
        log.info("rebalance.finished", run_id=run_id, **counts)
        return RebalanceResult(plan=plan, applied=applied, relay=relay_report)

    # ----------------------------------------------------------------- relay

    def _relay(self, adapter: Adapter, snapshot: Snapshot, result: RunResult) -> RelayReport:
        """Relay the outbox; decide again the leads whose owner the target refused.

        A refused owner is unavailable for the rest of the run (``active=False``), so the
        new decision (the next epoch, with its own effect) picks someone else. The loop is
        bounded by ``MAX_REROUTE_ROUNDS``; a quota stop ends it (the new decisions' writes
        would wait anyway). Every unresolved effect in the store (dead, or refused and not
        rerouted, from this run or any earlier one) becomes a row of the exception report.
        """
        report = relay(self.store, adapter)
        refused: set[str] = set()
        superseded: set[str] = set()
        leads = {lead.id: lead for lead in snapshot.leads}
        for _ in range(MAX_REROUTE_ROUNDS):
            reroutes = [f for f in report.failures if f.reroute and f.decision_id not in superseded]
            if not reroutes or report.quota:
                break
            refused |= {f.owner_id for f in reroutes}
            if self.policy.fallback.owner in refused:
                break  # the last resort itself is refused: nobody is left to decide for
            again = self._decide_again(reroutes, refused, snapshot, leads, result)
            if not again:
                break
            superseded |= again
            report = report + relay(self.store, adapter, after=report.cursor)
        result.problems.extend(f.as_problem() for f in unresolved_failures(self.store))
        return report

    def _decide_again(
        self,
        reroutes: list[EffectFailure],
        refused: set[str],
        snapshot: Snapshot,
        leads: Mapping[str, Lead],
        result: RunResult,
    ) -> set[str]:
        """Commit a new epoch for each refused lead without the refused owners.

        Returns the ids of the decisions replaced.
        """
        reps = tuple(attrs.evolve(r, active=False) if r.id in refused else r for r in snapshot.reps)
        known = self.store.current_decisions()
        pipeline = self._pipeline(attrs.evolve(snapshot, reps=reps), known)
        replaced: set[str] = set()
        for failure in reroutes:
            lead, current = leads.get(failure.lead_id), known.get(failure.lead_id)
            if lead is None or current is None or current.id != failure.decision_id:
                continue  # not in this snapshot, or already decided again elsewhere
            outcome = pipeline.decide(lead, self.clock(), epoch=current.epoch + 1)
            if not isinstance(outcome, Decided) or outcome.decision.owner_id in refused:
                continue
            again = RunResult()
            self._commit(outcome, pipeline.reps, again)
            decision = again.decisions[0]
            result.decisions = [
                decision if d.lead_id == decision.lead_id else d for d in result.decisions
            ]
            result.new_ids.discard(failure.decision_id)  # replaced: not one of this run's
            result.new_ids |= again.new_ids
            result.rerouted.add(decision.lead_id)
            replaced.add(failure.decision_id)
            log.info(
                "lead.rerouted",
                lead_id=decision.lead_id,
                refused=failure.owner_id,
                rep_id=decision.owner_id,
                epoch=decision.epoch,
            )
        return replaced

    # ----------------------------------------------------------------- reassign

    def reassign(
        self,
        snapshot: Snapshot,
        *,
        from_rep: str,
        to: str = "",
        only_unworked: bool = False,
        dry_run: bool = False,
        adapter: Adapter | None = None,
        source: str = "library",
    ) -> ReassignResult:
        """Move ``from_rep``'s leads through the policy (``leadroute.reassign``).

        ``dry_run`` plans without writing anything. Each move is its own transaction.
        """
        known = self.store.current_decisions()
        policy = policy_for(self.policy, {r.id: r for r in snapshot.reps}, to)
        with excluding(self.host, from_rep) as host:
            pipeline = self._pipeline(snapshot, known, policy=policy, host=host)
            plan = plan_reassign(
                pipeline,
                snapshot.leads,
                known,
                self.clock(),
                from_rep=from_rep,
                to=to,
                only_unworked=only_unworked,
            )
        if dry_run:
            return ReassignResult(plan=plan, applied=0, relay=None)
        run_id = self.store.begin_run("reassign", source)
        result = RunResult()
        # As in rebalance, a moved lead's person moves with it.
        run = _Run(pipeline=pipeline, latest=dict(known))
        if self.policy.duplicates.enabled:
            pipeline.people = People.load(self.store, known)
        for move in plan.moves:
            self._commit(move.decided, pipeline.reps, result, run=run, moved=True)
        relay_report = relay(self.store, adapter) if adapter is not None else None
        applied = _applied(plan.moves, result)
        counts = {
            "owned": plan.owned,
            "worked": plan.worked,
            "moved": applied,
            "followed": len(result.followers),
        }
        self.store.finish_run(run_id, counts)
        log.info("reassign.finished", run_id=run_id, from_rep=from_rep, to=to, **counts)
        return ReassignResult(plan=plan, applied=applied, relay=relay_report)

    def _interrupted_moves(
        self, snapshot: Snapshot, known: Mapping[str, Decision]
    ) -> tuple[list[str], dict[str, int]]:
        """Rebalance runs that never finished (killed mid-apply) and the moves they made.

        Returns their run ids and rep id -> moves away from that rep, to charge against
        this run's move caps. Forced moves (owner inactive or on leave) do not count toward
        the caps; any other move is counted, which errs toward moving fewer.
        """
        runs = {
            r["id"]
            for r in self.store.runs(limit=100)
            if r["command"] == "rebalance" and r["finished_at"] is None
        }
        if not runs:
            return [], {}
        source_owner = {lead.id: lead.owner_id for lead in snapshot.leads}
        spent: Counter[str] = Counter()
        for d in known.values():
            if d.step != RouteStep.REBALANCE or d.solve is None or d.solve.run_id not in runs:
                continue
            if any(p.startswith("rebalance:") and _forced(p) for p in d.route_path):
                continue
            before = self.store.decision_at(d.lead_id, d.epoch - 1)
            spent[before.owner_id if before else source_owner.get(d.lead_id, "")] += 1
        return sorted(runs), dict(spent)

    # ----------------------------------------------------------------- explain

    def explain(self, lead_id: str) -> Decision:
        """The current decision for a lead, as recorded."""
        return explain_decision(self.store, lead_id)


def explain_decision(store: Store, lead_id: str) -> Decision:
    """The current decision for a lead from a store; ``UnknownLeadError`` when there is none."""
    decision = store.current_decision(lead_id)
    if decision is None:
        raise UnknownLeadError(f"no decision recorded for lead {lead_id!r}")
    return decision


# A refusal can only reroute a lead this many times in one run; then it is an exception.
MAX_REROUTE_ROUNDS = 3


def _assigned_loads(decisions: Iterable[Decision]) -> dict[str, int]:
    """Leads this store gave each rep (kept current owners are already in ``open_leads``).

    A duplicate appended to a known record is not a lead of its own and adds no load.
    """
    return dict(
        Counter(
            d.owner_id for d in decisions if d.step != RouteStep.CURRENT_OWNER and not _appended(d)
        )
    )


def _forced(path_step: str) -> bool:
    """Whether a ``rebalance:REASONS`` path step names a move no cap applies to."""
    reasons = set(path_step.removeprefix("rebalance:").split(","))
    return bool(reasons & {"OWNER_INACTIVE", "OWNER_ON_LEAVE"})


def _applied(moves: Iterable[Any], result: RunResult) -> int:
    """Planned moves that happened: by their own decision, or by following a record of the
    same person that moved first (whose follower took the planned move's epoch)."""
    moved = {d.lead_id for d in result.decisions if d.id in result.new_ids}
    moved |= {f.lead_id for f in result.followers}
    return sum(1 for move in moves if move.lead_id in moved)


def _appended(decision: Decision) -> bool:
    dup = decision.duplicate
    return dup is not None and dup.role == "duplicate" and dup.action == "append"


@attrs.define
class _Run:
    """What one routing run tracks beyond the pipeline: every lead's latest decision.

    Attributes:
        pipeline: The run's pipeline (with ``people`` when duplicates are looked for).
        latest: Lead id -> its latest decision (stored, then made by this run).
        position: Lead id -> index of its entry in ``RunResult.decisions``.
    """

    pipeline: Pipeline
    latest: dict[str, Decision]
    position: dict[str, int] = attrs.field(factory=dict)
