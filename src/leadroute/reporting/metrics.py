"""Routing metrics over a window: time to owner, first touch, SLA, exceptions, fairness.

Everything here is a pure function of a ``History`` (plus the reps and leads an adapter
read, for capacity, weights and lifecycle stages), so each number can be pinned by a test
on a small fixed history. Conventions, also in ``docs/reporting.md``:

* The window holds the leads whose first decision falls in ``(as_of - window, as_of]``;
  rejected leads (no decision) come from the last run's exception report and count in
  the windows that hold that run's time.
* Input, rejected, exception rate and duplicates are ``leadroute.measures``' definitions,
  the same a run's summary prints.
* Medians average the two middle values; p90 is the nearest-rank 90th percentile (the
  smallest value with at least 90% of values at or below it).
* A share is ``None`` when nothing qualified for it (no division by zero shown as 0%).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from leadroute.measures import headline
from leadroute.models import InputProblem, Rep, RouteStep
from leadroute.pipeline import pool_members
from leadroute.policy import Policy, Strategy
from leadroute.reporting.facts import LeadFacts, build_facts
from leadroute.reporting.history import History

__all__ = [
    "OWNER_BUCKETS",
    "DayRow",
    "FairShare",
    "MetricRow",
    "RepLoad",
    "Report",
    "Summary",
    "Target",
    "compute_report",
    "median",
    "p90",
    "summarize",
]

# Time-to-owner histogram buckets (upper bounds), the way RevOps talks about speed.
OWNER_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 min", timedelta(minutes=1)),
    ("1-5 min", timedelta(minutes=5)),
    ("5-30 min", timedelta(minutes=30)),
    ("30 min-1 h", timedelta(hours=1)),
    ("1-4 h", timedelta(hours=4)),
    ("4-24 h", timedelta(hours=24)),
    ("> 1 day", None),
)


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count); ``None`` when empty."""
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen(kw_only=True)
class MetricRow:
    """The standard metrics for one group of leads (a route path, pool, rep, type, source).

    Attributes:
        key: The group's value (``rule na-smb``, ``rep-004``, ``demo``); ``all`` for everyone.
        leads: Leads with a decision in the window.
        owner_median_s: Median seconds from creation to owner.
        owner_p90_s: 90th percentile of the same.
        owner_within_share: Share of timed leads that got an owner within ``owner_within``.
        touch_median_s: Median seconds from assignment to first touch (touched leads).
        touch_p90_s: 90th percentile of the same.
        idle: Leads with no touch within ``no_activity_after`` of assignment.
        idle_share: ``idle`` over the leads whose ``no_activity_after`` has passed.
        sla_met: Leads touched within their SLA.
        sla_breached: Leads touched late, untouched past the deadline, or reported breached.
        sla_open: Untouched leads still inside their SLA.
        sla_compliance: ``sla_met / (sla_met + sla_breached)``.
        exceptions: Leads in the fallback queue or flagged for review.
        exception_rate: ``exceptions / leads`` (the summary adds rejected leads).
        meetings: Leads with a meeting booked.
        meeting_rate: ``meetings / leads``.
        conversions: Leads converted to an opportunity.
        accepted: Accept outcomes.
        rejected: Reject (decline) outcomes.
        acceptance_rate: ``accepted / (accepted + rejected)``.
        reassigned: Leads reassigned at least once.
    """

    key: str
    leads: int
    owner_median_s: float | None
    owner_p90_s: float | None
    owner_within_share: float | None
    touch_median_s: float | None
    touch_p90_s: float | None
    idle: int
    idle_share: float | None
    sla_met: int
    sla_breached: int
    sla_open: int
    sla_compliance: float | None
    exceptions: int
    exception_rate: float | None
    meetings: int
    meeting_rate: float | None
    conversions: int
    accepted: int
    rejected: int
    acceptance_rate: float | None
    reassigned: int


def summarize(key: str, facts: Sequence[LeadFacts], policy: Policy, as_of: datetime) -> MetricRow:
    """The standard metrics of a group of leads."""
    settings = policy.reporting
    owner = [f.time_to_owner.total_seconds() for f in facts if f.time_to_owner is not None]
    within = settings.owner_within.total_seconds()
    touch = [t.total_seconds() for f in facts if (t := f.time_to_touch) is not None]
    idle_states = [f.idle(as_of, settings.no_activity_after) for f in facts]
    decided_idle = [s for s in idle_states if s is not None]
    sla = Counter(f.sla_state(as_of) for f in facts)
    exceptions = sum(1 for f in facts if f.fallback or f.review)
    accepted = sum(len(f.accepted_by) for f in facts)
    rejected = sum(len(f.rejected_by) for f in facts)
    meetings = sum(1 for f in facts if f.meeting)
    return MetricRow(
        key=key,
        leads=len(facts),
        owner_median_s=median(owner),
        owner_p90_s=p90(owner),
        owner_within_share=_share(sum(1 for s in owner if s <= within), len(owner)),
        touch_median_s=median(touch),
        touch_p90_s=p90(touch),
        idle=sum(decided_idle),
        idle_share=_share(sum(decided_idle), len(decided_idle)),
        sla_met=sla["met"],
        sla_breached=sla["breached"],
        sla_open=sla["open"],
        sla_compliance=_share(sla["met"], sla["met"] + sla["breached"]),
        exceptions=exceptions,
        exception_rate=_share(exceptions, len(facts)),
        meetings=meetings,
        meeting_rate=_share(meetings, len(facts)),
        conversions=sum(1 for f in facts if f.converted),
        accepted=accepted,
        rejected=rejected,
        acceptance_rate=_share(accepted, accepted + rejected),
        reassigned=sum(1 for f in facts if f.reassigned),
    )


@attrs.frozen(kw_only=True)
class Summary:
    """Headline numbers: everything in the window, rejected leads included.

    Attributes:
        overall: The standard metrics over every decided lead.
        input: Decided leads plus rejected leads.
        rejected: Leads that got no owner (exception report), by distinct lead.
        fallback: Decided leads in the fallback queue.
        review: Decided leads flagged for a human.
        exception_rate: ``(rejected + fallback + review) / input``.
        exceptions_by_reason: Exception counts by reason code.
        duplicates: Leads the data marks as duplicates.
        duplicate_rate: ``duplicates / input``.
    """

    overall: MetricRow
    input: int
    rejected: int
    fallback: int
    review: int
    exception_rate: float | None
    exceptions_by_reason: Mapping[str, int]
    duplicates: int
    duplicate_rate: float | None


@attrs.frozen(kw_only=True)
class DayRow:
    """One day of the window (UTC), by assignment day.

    Attributes:
        day: ``YYYY-MM-DD``.
        assigned: Leads assigned that day.
        sla_met: Of those, touched within SLA.
        sla_breached: Of those, breached.
        sla_compliance: ``met / (met + breached)`` that day.
    """

    day: str
    assigned: int
    sla_met: int
    sla_breached: int
    sla_compliance: float | None


@attrs.frozen(kw_only=True)
class RepLoad:
    """A rep's open load against capacity.

    Attributes:
        rep_id: The rep.
        name: Display name.
        active: Whether the rep takes leads.
        open_leads: Open leads in the source system plus those leadroute assigned since.
        capacity: ``max_open``, ``None`` for no cap.
        utilisation: ``open_leads / capacity``.
        assigned: Leads leadroute assigned the rep in the window.
    """

    rep_id: str
    name: str
    active: bool
    open_leads: int
    capacity: int | None
    utilisation: float | None
    assigned: int


@attrs.frozen(kw_only=True)
class FairShare:
    """A pool member's share of the pool's leads against the share the policy intends.

    Attributes:
        pool: The pool.
        rep_id: The member.
        leads: Leads the pool gave the rep in the window.
        actual: ``leads`` over the pool's leads.
        intended: Equal split (round robin), weight share (weighted) or capacity share
            (least loaded, optimize) among active members.
    """

    pool: str
    rep_id: str
    leads: int
    actual: float | None
    intended: float


@attrs.frozen(kw_only=True)
class Target:
    """A headline metric against its target.

    Attributes:
        name: What is measured.
        value: The measured share, ``None`` without data.
        target: The target share.
        better: ``higher`` or ``lower``.
        ok: Whether it meets the target (``None`` without data).
    """

    name: str
    value: float | None
    target: float
    better: str
    ok: bool | None


@attrs.frozen(kw_only=True)
class Report:
    """Everything ``leadroute report`` shows, as data (rendered to HTML, JSON or CSV).

    Attributes:
        as_of: The report time.
        window: The window length.
        policy_version: The policy the settings came from.
        summary: Headline numbers.
        targets: Headline metrics against their targets.
        by_route: Metrics by route path of the first decision.
        by_pool: By pool (leads routed by a pool only).
        by_rep: By current owner.
        by_type: By lead type.
        by_source: By acquisition source.
        days: Assignments and SLA by day.
        owner_histogram: Time-to-owner bucket to lead count.
        loads: Load against capacity per rep (empty without reps).
        fairness: Share against intended share per pool member (empty without reps).
        stale_mqls: MQLs untouched ``stale_after`` past assignment.
        unworked_sqls: SQLs untouched past their SLA.
        facts: The per-lead facts in the window (for the tables of leads needing a human).
    """

    as_of: datetime
    window: timedelta
    policy_version: str
    summary: Summary
    targets: tuple[Target, ...]
    by_route: tuple[MetricRow, ...]
    by_pool: tuple[MetricRow, ...]
    by_rep: tuple[MetricRow, ...]
    by_type: tuple[MetricRow, ...]
    by_source: tuple[MetricRow, ...]
    days: tuple[DayRow, ...]
    owner_histogram: Mapping[str, int]
    loads: tuple[RepLoad, ...]
    fairness: tuple[FairShare, ...]
    stale_mqls: tuple[str, ...]
    unworked_sqls: tuple[str, ...]
    facts: tuple[LeadFacts, ...]


def _grouped(
    facts: Sequence[LeadFacts],
    key: Callable[[LeadFacts], str],
    policy: Policy,
    as_of: datetime,
) -> tuple[MetricRow, ...]:
    groups: dict[str, list[LeadFacts]] = defaultdict(list)
    for fact in facts:
        groups[key(fact) or "(none)"].append(fact)
    rows = [summarize(k, g, policy, as_of) for k, g in groups.items()]
    return tuple(sorted(rows, key=lambda r: (-r.leads, r.key)))


def _by_rep(facts: Sequence[LeadFacts], policy: Policy, as_of: datetime) -> tuple[MetricRow, ...]:
    """By current owner; accept/reject counts are each rep's own, wherever the lead went."""
    accepted = Counter(r for f in facts for r in f.accepted_by)
    rejected = Counter(r for f in facts for r in f.rejected_by)
    rows = []
    for row in _grouped(facts, lambda f: f.owner_id, policy, as_of):
        a, r = accepted[row.key], rejected[row.key]
        rows.append(attrs.evolve(row, accepted=a, rejected=r, acceptance_rate=_share(a, a + r)))
    return tuple(rows)


def _summary(
    facts: Sequence[LeadFacts], problems: Sequence[InputProblem], policy: Policy, as_of: datetime
) -> Summary:
    # The run summary's definitions (leadroute.measures), over each lead's current decision.
    head = headline([f.current for f in facts], problems)
    return Summary(
        overall=summarize("all", facts, policy, as_of),
        input=head.input,
        rejected=head.rejected,
        fallback=head.fallback,
        review=head.review,
        exception_rate=head.exception_rate,
        exceptions_by_reason=head.reasons,
        duplicates=head.duplicates,
        duplicate_rate=head.duplicate_rate,
    )


def _days(facts: Sequence[LeadFacts], as_of: datetime) -> tuple[DayRow, ...]:
    by_day: dict[str, list[LeadFacts]] = defaultdict(list)
    for f in facts:
        by_day[f.assigned_at.date().isoformat()].append(f)
    rows = []
    for day in sorted(by_day):
        states = Counter(f.sla_state(as_of) for f in by_day[day])
        rows.append(
            DayRow(
                day=day,
                assigned=len(by_day[day]),
                sla_met=states["met"],
                sla_breached=states["breached"],
                sla_compliance=_share(states["met"], states["met"] + states["breached"]),
            )
        )
    return tuple(rows)


def _histogram(facts: Sequence[LeadFacts]) -> dict[str, int]:
    counts = dict.fromkeys((label for label, _ in OWNER_BUCKETS), 0)
    for f in facts:
        if f.time_to_owner is None:
            continue
        label = next(lb for lb, upper in OWNER_BUCKETS if upper is None or f.time_to_owner < upper)
        counts[label] += 1
    return counts


def _loads(
    facts: Sequence[LeadFacts], all_facts: Sequence[LeadFacts], reps: Sequence[Rep]
) -> tuple[RepLoad, ...]:
    # Open load: the source's count plus every lead leadroute gave the rep and still holds
    # (kept current owners are already in the source's count).
    added = Counter(
        f.owner_id for f in all_facts if RouteStep(f.current.step) != RouteStep.CURRENT_OWNER
    )
    in_window = Counter(f.owner_id for f in facts)
    rows = []
    for rep in reps:
        if not rep.active and not added[rep.id]:
            continue
        load = rep.open_leads + added[rep.id]
        cap = rep.capacity.max_open
        rows.append(
            RepLoad(
                rep_id=rep.id,
                name=rep.name,
                active=rep.active,
                open_leads=load,
                capacity=cap,
                utilisation=load / cap if cap else None,
                assigned=in_window[rep.id],
            )
        )
    return tuple(sorted(rows, key=lambda r: r.rep_id))


def _fairness(
    facts: Sequence[LeadFacts], reps: Sequence[Rep], policy: Policy
) -> tuple[FairShare, ...]:
    by_id = {r.id: r for r in reps}
    members = pool_members(policy, by_id)
    pooled = Counter(
        (f.pool, f.owner_id)
        for f in facts
        if f.pool and RouteStep(f.current.step) == RouteStep.POOL and f.reassigned == 0
    )
    rows = []
    for pool in policy.pools:
        active = [by_id[m] for m in members.get(pool.name, ()) if m in by_id and by_id[m].active]
        if not active:
            continue
        if pool.strategy == Strategy.WEIGHTED:
            basis = {r.id: r.weight for r in active}
        elif pool.strategy in (Strategy.LEAST_LOADED, Strategy.OPTIMIZE) and all(
            r.capacity.max_open for r in active
        ):
            basis = {r.id: float(r.capacity.max_open or 0) for r in active}
        else:
            basis = {r.id: 1.0 for r in active}
        total_basis = sum(basis.values())
        pool_total = sum(n for (p, _), n in pooled.items() if p == pool.name)
        for rep in active:
            n = pooled[(pool.name, rep.id)]
            rows.append(
                FairShare(
                    pool=pool.name,
                    rep_id=rep.id,
                    leads=n,
                    actual=_share(n, pool_total),
                    intended=basis[rep.id] / total_basis,
                )
            )
    return tuple(rows)


def _targets(summary: Summary, policy: Policy) -> tuple[Target, ...]:
    s = policy.reporting
    minutes = int(s.owner_within.total_seconds() // 60) or 1
    idle_minutes = int(s.no_activity_after.total_seconds() // 60)

    def target(name: str, value: float | None, goal: float, better: str) -> Target:
        ok = None if value is None else (value >= goal if better == "higher" else value < goal)
        return Target(name=name, value=value, target=goal, better=better, ok=ok)

    return (
        target(
            f"owner within {minutes} min",
            summary.overall.owner_within_share,
            s.owner_within_target,
            "higher",
        ),
        target("exception rate", summary.exception_rate, s.exception_target, "lower"),
        target(
            f"no activity after {idle_minutes} min",
            summary.overall.idle_share,
            s.no_activity_target,
            "lower",
        ),
    )


def compute_report(
    history: History,
    policy: Policy,
    *,
    as_of: datetime,
    window: timedelta,
    reps: Sequence[Rep] = (),
) -> Report:
    """Every metric over the leads first decided in ``(as_of - window, as_of]``."""
    settings = policy.reporting
    # As of a time, only what had happened by then counts (a report for last Monday must not
    # see Tuesday's first touches).
    all_facts = build_facts(
        [d for d in history.decisions if d.decided_at <= as_of],
        [o for o in history.outcomes if o.at <= as_of],
        settings,
    )
    start = as_of - window
    facts = [f for f in all_facts if start < f.assigned_at <= as_of]
    summary = _summary(facts, history.problems_in(start, as_of), policy, as_of)
    stale = tuple(
        f.lead_id
        for f in facts
        if f.stage == "mql"
        and f.first_touch_at is None
        and as_of - f.assigned_at > settings.stale_after
    )
    unworked = tuple(
        f.lead_id
        for f in facts
        if f.stage == "sql" and f.first_touch_at is None and as_of > f.sla_due_at
    )
    return Report(
        as_of=as_of,
        window=window,
        policy_version=policy.version_tag,
        summary=summary,
        targets=_targets(summary, policy),
        by_route=_grouped(facts, lambda f: f.route, policy, as_of),
        by_pool=_grouped([f for f in facts if f.pool], lambda f: f.pool, policy, as_of),
        by_rep=_by_rep(facts, policy, as_of),
        by_type=_grouped(facts, lambda f: f.lead_type, policy, as_of),
        by_source=_grouped(facts, lambda f: f.source, policy, as_of),
        days=_days(facts, as_of),
        owner_histogram=_histogram(facts),
        loads=_loads(facts, all_facts, reps),
        fairness=_fairness(facts, reps, policy),
        stale_mqls=stale,
        unworked_sqls=unworked,
        facts=tuple(facts),
    )
