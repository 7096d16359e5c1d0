"""The routing policy (``leadroute.yaml``): routing as code.

The file is read with ``yaml.safe_load`` and structured into frozen attrs classes by
cattrs. Every error names where it is (``routing[2].when.country: unknown operator
'equals'``), and ``json_schema()`` publishes the same structure for editors.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.v import transform_error

from leadroute.errors import PolicyError
from leadroute.models import Lead
from leadroute.numbers import RangePolicy
from leadroute.policy_checks import check_unique_keys
from leadroute.policy_files import MAX_POLICY_BYTES, MAX_TABLE_BYTES, load_yaml, read_bounded
from leadroute.policy_service import (
    EscalationPolicy,
    NotificationPolicy,
    ServicePolicy,
    check_service,
)
from leadroute.policy_values import ValueProblem, install_value_hooks
from leadroute.territories import Territory, check_key, merge_territories, territory_table
from leadroute.worktime import WorkingHours, WorktimeError

__all__ = [
    "AccountMatchingPolicy",
    "AccountOwnerPolicy",
    "BatchPolicy",
    "CapacityPolicy",
    "Condition",
    "DuplicatePolicy",
    "FallbackPolicy",
    "FitPolicy",
    "LeadTypePolicy",
    "LeadTypesPolicy",
    "LearnedFitPolicy",
    "NurturePolicy",
    "Policy",
    "PoolPolicy",
    "RebalancePolicy",
    "ReportingPolicy",
    "Rule",
    "ScoreRule",
    "ScoringPolicy",
    "Segment",
    "SkillRequirement",
    "SlaCalendarPolicy",
    "Strategy",
    "ValidationPolicy",
    "deferring_hours",
    "json_schema",
    "load_policy",
    "parse_policy",
    "sla_calendar",
]

CONSTRAINTS: tuple[Literal["territory", "language", "segment", "product", "skill"], ...] = (
    "territory",
    "language",
    "segment",
    "product",
    "skill",
)
Constraint = Literal["territory", "language", "segment", "product", "skill"]
Action = Literal["reject", "fallback", "nurture", "flag"]
OutOfHours = Literal["exclude", "follow_the_sun", "defer"]
Deferral = Literal["strategy", "earliest_available"]
ShareBasis = Literal["weight", "weight_x_daily_cap"]
DuplicateAction = Literal["reassign", "notify_owner", "append"]
IdentityKind = Literal["email", "phone", "name_domain"]


class Strategy(enum.StrEnum):
    """How a pool picks among its eligible reps."""

    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    LEAST_LOADED = "least_loaded"
    OPTIMIZE = "optimize"


# --------------------------------------------------------------------------- conditions

_NUMERIC_OPS = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
_LIST_OPS = ("in", "not_in", "prefix")
_SCALAR_OPS = ("eq", "ne")
OPERATORS = (*_LIST_OPS, *_SCALAR_OPS, *_NUMERIC_OPS, "exists")


class ConditionError(ValueError):
    """A condition in ``when`` is malformed; the message is shown as is."""


@attrs.frozen(kw_only=True)
class Condition:
    """One test on one lead field.

    Written in YAML as a scalar (equality), a list (membership) or a mapping of operators
    (``{gte: 200, lt: 1000}``: every operator must hold). String comparisons ignore case.

    Attributes:
        op: One of ``in``, ``not_in``, ``prefix``, ``eq``, ``ne``, ``gte``, ``gt``, ``lte``,
            ``lt``, ``exists``.
        values: Lower-cased operands for the string operators.
        number: Operand for the numeric operators.
        flag: Operand for ``exists``.
    """

    op: str
    values: tuple[str, ...] = ()
    number: float = 0.0
    flag: bool = True

    def matches(self, raw: str) -> bool:
        """Whether a field value (as text, ``""`` when absent) satisfies this test."""
        value = raw.strip().lower()
        if self.op == "exists":
            return bool(value) == self.flag
        if self.op in _NUMERIC_OPS:
            try:
                number = float(value)
            except ValueError:
                return False  # an unknown size never satisfies a size band
            return bool(_NUMERIC_OPS[self.op](number, self.number))
        if self.op in ("in", "eq"):
            return value in self.values
        if self.op in ("not_in", "ne"):
            return value not in self.values
        return any(value.startswith(p) for p in self.values)  # prefix


BOOL_HINT = "YAML reads unquoted yes/no/on/off (and the country code NO) as booleans: quote it"


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        raise ConditionError(f"got {str(value).lower()}; {BOOL_HINT}")
    if value is None or isinstance(value, dict | list):
        raise ConditionError(f"expected a text or number value, got {value!r}")
    return str(value).strip().lower()


def _make_condition(op: str, operand: Any) -> Condition:
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator {op!r} (expected one of: {', '.join(OPERATORS)})")
    if op in _LIST_OPS:
        items = operand if isinstance(operand, list) else [operand]
        return Condition(op=op, values=tuple(_scalar_text(v) for v in items))
    if op in _SCALAR_OPS:
        return Condition(op=op, values=(_scalar_text(operand),))
    if op == "exists":
        if not isinstance(operand, bool):
            raise ConditionError(f"'exists' takes true or false, got {operand!r}")
        return Condition(op=op, flag=operand)
    if isinstance(operand, bool) or not isinstance(operand, int | float):
        raise ConditionError(f"{op!r} takes a number, got {operand!r}")
    return Condition(op=op, number=float(operand))


def _structure_conditions(spec: Any, _: Any) -> tuple[Condition, ...]:
    if isinstance(spec, dict):
        if not spec:
            raise ConditionError("empty condition")
        return tuple(_make_condition(str(op), operand) for op, operand in spec.items())
    if isinstance(spec, list):
        return (_make_condition("in", spec),)
    return (_make_condition("eq", spec),)


# --------------------------------------------------------------------------- durations

_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: Any) -> timedelta:
    """Parse ``4h``, ``90m``, ``1d12h`` or a number of seconds into a timedelta."""
    if isinstance(text, int) and not isinstance(text, bool):
        return timedelta(seconds=text)
    match = _DURATION_RE.match(str(text).strip().lower()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ConditionError(f"expected a duration like '4h', '90m' or '1d12h', got {text!r}")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way the policy file writes it (``1d4h``)."""
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


# --------------------------------------------------------------------------- sections


def _number(raw: str) -> float | None:
    try:
        return float(raw.strip().replace(",", ""))
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class Segment:
    """A named band of company size, revenue and/or lead score; the first that holds a lead wins.

    Attributes:
        name: Segment name, as listed in reps' ``segments``.
        min_employees: Smallest size in the band (inclusive), if bounded.
        max_employees: Largest size in the band (inclusive), if bounded.
        min_revenue: Smallest annual revenue (the lead's ``revenue`` field), inclusive.
        max_revenue: Largest annual revenue, inclusive.
        min_score: Lowest lead score (the lead's ``score`` field), inclusive.
        max_score: Highest lead score, inclusive.
    """

    name: str
    min_employees: int | None = None
    max_employees: int | None = None
    min_revenue: float | None = None
    max_revenue: float | None = None
    min_score: float | None = None
    max_score: float | None = None

    def holds(self, employees: int) -> bool:
        """Whether a company of this size is in the band."""
        low = self.min_employees if self.min_employees is not None else employees
        high = self.max_employees if self.max_employees is not None else employees
        return low <= employees <= high

    def bands(self) -> dict[str, tuple[float | None, float | None]]:
        """The bounded dimensions (``employees``, ``revenue``, ``score``) and their bounds."""
        bounds = {
            "employees": (self.min_employees, self.max_employees),
            "revenue": (self.min_revenue, self.max_revenue),
            "score": (self.min_score, self.max_score),
        }
        return {dim: b for dim, b in bounds.items() if b != (None, None)}

    def holds_lead(self, lead: Lead) -> bool:
        """Whether every bounded dimension holds for the lead; an unknown value never holds.

        A segment with no bounds at all holds every lead of known size (a catch-all band).
        """
        values = {
            "employees": None if lead.employees is None else float(lead.employees),
            "revenue": _number(lead.get("revenue")),
            "score": _number(lead.get("score")),
        }
        for dim, (low, high) in (self.bands() or {"employees": (None, None)}).items():
            value = values[dim]
            if value is None:
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True


@attrs.frozen(kw_only=True)
class PoolPolicy:
    """A pool (team) and how it shares leads.

    Attributes:
        name: Pool name, referenced by ``routing[].pool`` and reps' ``pools``.
        strategy: ``round_robin``, ``weighted`` or ``least_loaded``.
        members: Rep ids; reps may also join by listing the pool in their own ``pools``.
        backup: A rep who takes the lead when no member is eligible.
        out_of_hours: What working hours do to members: ``exclude`` (off-shift members are
            excluded with ``OUT_OF_HOURS`` or ``HOLIDAY``), ``follow_the_sun`` (as exclude,
            and when no member is on shift with room the lead goes to ``on_shift_pool``,
            then on to that pool's own ``on_shift_pool`` while it is off shift or full
            too) or ``defer`` (off-shift members stay eligible; the owner's SLA clock
            starts at their next working hour, ``Decision.sla_starts_at``).
        on_shift_pool: The partner pool that takes leads when no member is on shift with
            room (``follow_the_sun`` only).
        defer: Who takes a lead when nobody is on shift with room (in this pool, nor along
            its follow-the-sun chain): ``strategy`` (with ``out_of_hours: defer``, the
            pool's strategy among every member, on shift or not; otherwise nobody: the
            backup, then the fallback queue) or ``earliest_available`` (the member who
            starts work soonest and has room on that day; the SLA clock starts then;
            members starting at the same instant are ranked by the strategy). With
            ``earliest_available``, members on shift always come first.
        share: What a rep's share of the pool's leads follows: ``weight`` (weights 2:1
            split 2:1) or ``weight_x_daily_cap`` (weight times the rep's daily cap, or
            weekly cap / 5: weights 2:1 with caps 16 and 10 split 3.2:1).
        half_life: How fast the fairness ledger forgets: a lead received this long ago
            counts half as much as one received now.
        max_per_batch: Most leads the pool takes in one joint solve (``route --batch``,
            ``rebalance``); leads beyond it go to the fallback queue with the reason
            "pool NAME cap reached". None (default): no pool cap, only reps' capacity.
    """

    name: str
    strategy: Strategy = Strategy.ROUND_ROBIN
    members: tuple[str, ...] = ()
    backup: str = ""
    out_of_hours: OutOfHours = "exclude"
    on_shift_pool: str = ""
    defer: Deferral = "strategy"
    share: ShareBasis = "weight"
    half_life: timedelta = timedelta(days=14)
    max_per_batch: int | None = None


@attrs.frozen(kw_only=True)
class Rule:
    """One ordered routing rule: the first rule whose ``when`` holds sends the lead to its pool.

    Attributes:
        name: Unique rule name, recorded in every decision's route path.
        when: Field name to condition; all must hold. Empty means "always" (a catch-all).
        pool: The pool to route to.
        constraints: Which rep attributes are hard constraints for this rule (defaults to
            the policy's ``constraints``).
        skills: Skill levels a rep needs to take this rule's leads (``{fintech: 2}``).
    """

    name: str
    pool: str
    when: Mapping[str, tuple[Condition, ...]] = attrs.field(factory=dict)
    constraints: tuple[Constraint, ...] | None = None
    skills: Mapping[str, int] = attrs.field(factory=dict)

    def matches(self, lead: Lead) -> bool:
        """Whether every condition holds for the lead."""
        return all(
            all(c.matches(lead.get(field)) for c in tests) for field, tests in self.when.items()
        )


@attrs.frozen(kw_only=True)
class SkillRequirement:
    """Skill levels required of a rep for leads whose fields match ``when``.

    Attributes:
        require: Skill name to minimum level (``{fintech: 2}``).
        when: Field name to condition, as in routing rules; empty means every lead.
        name: A label for the requirement, for reading the policy.
    """

    require: Mapping[str, int]
    when: Mapping[str, tuple[Condition, ...]] = attrs.field(factory=dict)
    name: str = ""

    def matches(self, lead: Lead) -> bool:
        """Whether every condition holds for the lead."""
        return all(
            all(c.matches(lead.get(field)) for c in tests) for field, tests in self.when.items()
        )


@attrs.frozen(kw_only=True)
class AccountOwnerPolicy:
    """Step 1 of the hierarchy: a lead from a known account goes to the account owner.

    Attributes:
        enabled: Whether account ownership is honoured at all.
        statuses: Account statuses that keep their owner; empty means every status.
        use_backup: When the owner cannot take the lead, try the owner's backup rep.
    """

    enabled: bool = True
    statuses: tuple[str, ...] = ()
    use_backup: bool = True


@attrs.frozen(kw_only=True)
class FallbackPolicy:
    """The last step: a queue with a named human owner and an escalation clock.

    Attributes:
        queue: Queue name recorded on the decision.
        owner: The rep who owns the queue (must be an active rep).
        escalate_after: How long the queue owner has before escalation.
    """

    owner: str
    queue: str = "unrouted"
    escalate_after: timedelta = timedelta(hours=4)


@attrs.frozen(kw_only=True)
class ValidationPolicy:
    """Which lead fields must be present, and what happens when one is missing.

    Attributes:
        required: Lead fields that must be non-empty (``id`` is always required).
        missing_action: ``reject`` (exception report), ``fallback``, ``nurture`` or ``flag``.
        sources: The known ``source`` values (case-insensitive); empty accepts any source.
        actions: Problem code -> action, for every code but ``MISSING_FIELD`` (which
            ``missing_action`` decides); applies to plugins' problems too.
        number_ranges: How adapters read a range where a number belongs (a CRM's
            ``25-50`` or ``10,001+`` company size): ``low`` end or ``midpoint``
            (``leadroute.numbers``). A range never rejects a lead.
    """

    required: tuple[str, ...] = ("email",)
    missing_action: Action = "reject"
    sources: tuple[str, ...] = ()
    actions: Mapping[str, Action] = attrs.field(factory=dict)
    number_ranges: RangePolicy = "low"


@attrs.frozen(kw_only=True)
class LearnedFitPolicy:
    """The learned fit: per-rep conversion rates trained from outcomes (the
    ``leadroute-learned-fit`` plugin; ``leadroute fit train`` writes the model).

    Attributes:
        model: The model file, relative to the policy file. Its content is part of the
            policy's digest, so decisions record which model scored them.
        weight: Weight of the ``learned`` contribution (its value is a conversion
            probability, so 10 makes a 0.1 better chance worth one listed language).
        min_evidence: Leads a rep needs in the model's history before their own rate
            counts; below it the rep scores the team's rate for the lead.
        path: The model file's resolved path (set by the loader).
        digest: SHA-256 of the model file (set by the loader).
    """

    model: str
    weight: float = 1.0
    min_evidence: int = 20
    path: str = attrs.field(default="", metadata={"internal": True})
    digest: str = attrs.field(default="", metadata={"internal": True})


@attrs.frozen(kw_only=True)
class FitPolicy:
    """How fit contributions combine.

    Attributes:
        weights: Contribution name to weight; contributions not listed weigh 1.0.
        learned: The learned fit from outcomes, ``None`` for none.
    """

    weights: Mapping[str, float] = attrs.field(factory=dict)
    learned: LearnedFitPolicy | None = None


@attrs.frozen(kw_only=True)
class BatchPolicy:
    """How the joint optimizer (``route --batch``, ``rebalance``) weighs load against fit.

    Attributes:
        fairness: Convex cost of filling a rep, in fit units per lead: each quarter of a
            rep's capacity costs this much more per lead than the one before. 0 (default)
            maximises fit alone.
        same_owner_per_account: All leads of one account in a batch go to one rep.
        max_type_share: Lead type -> most of a rep's remaining capacity that type may
            take in one batch (``{demo: 0.5}``).
        time_limit: Time limit of the exact solver used when one of these rules binds.
    """

    fairness: float = 0.0
    same_owner_per_account: bool = False
    max_type_share: Mapping[str, float] = attrs.field(factory=dict)
    time_limit: timedelta = timedelta(seconds=10)


@attrs.frozen(kw_only=True)
class CapacityPolicy:
    """How load is measured against reps' daily and weekly caps.

    Attributes:
        load: ``count`` (each lead is 1) or the name of a numeric lead field
            (``deal_size``) whose values are summed against ``per_day``/``per_week``.
        missing_load: The load of a lead whose ``load`` field is empty or not a number.
    """

    load: str = "count"
    missing_load: float = 1.0


@attrs.frozen(kw_only=True)
class RebalancePolicy:
    """Which owned leads the nightly rebalance may move, and how reluctantly.

    Attributes:
        unworked_after: An owned lead with no activity this long after assignment may move.
        leave_longer_than: Leads of an owner on leave for longer than this from now may move.
        stay_bonus: Fit added to the current owner, so a lead moves only for a real gain.
        max_moves_per_rep: Most leads moved away from any one rep per run (none: no cap).
        max_moves: Most leads moved per run (none: no cap).
        keep_account_owned: Leads their account's owner holds stay with that owner (unless
            the owner is inactive or on a long leave).
        hold_after_move: A lead a rebalance moved (or that followed its person's move)
            stays with its new owner this long, unless that owner becomes unavailable.
        min_interval: A rebalance within this time of the last finished one makes forced
            moves only (owner inactive or on a long leave): one plan per night.
        time_limit: No longer used (move caps are solved in the network); accepted so
            older policy files still load.
    """

    unworked_after: timedelta = timedelta(hours=48)
    leave_longer_than: timedelta = timedelta(days=2)
    stay_bonus: float = 0.5
    max_moves_per_rep: int | None = None
    max_moves: int | None = None
    keep_account_owned: bool = True
    hold_after_move: timedelta = timedelta(days=7)
    min_interval: timedelta = timedelta(hours=20)
    time_limit: timedelta = timedelta(seconds=10)


@attrs.frozen(kw_only=True)
class NurturePolicy:
    """Where leads go that sales should not work yet, with a named human owner.

    Attributes:
        owner: The rep (or marketing user) who owns the nurture queue.
        queue: Queue name recorded on the decision.
    """

    owner: str
    queue: str = "nurture"


@attrs.frozen(kw_only=True)
class LeadTypePolicy:
    """One lead type: how to recognise it and how fast it must be worked.

    Attributes:
        name: The type's name; it becomes the lead's ``lead_type``.
        when: Field name to condition, all must hold (as in routing rules); the first
            type whose ``when`` holds is the lead's type. Empty matches every lead.
        sla: Time to first touch; ``None`` for no SLA.
        priority: 1 is the most urgent.
        route: ``sales`` (the routing hierarchy) or ``nurture`` (the nurture queue, until
            the lead's score makes it an MQL).
        required: Fields this type needs on top of ``validation.required``.
        business_only: A free-mail address on this type is ``FREE_MAIL_ON_BUSINESS_FORM``.
        escalation: What the SLA clock does when nobody touches the lead (reminder, then
            notify, reassign or queue at the deadline); ``None`` keeps no clock.
    """

    name: str
    when: Mapping[str, tuple[Condition, ...]] = attrs.field(factory=dict)
    sla: timedelta | None = None
    priority: int = 3
    route: Literal["sales", "nurture"] = "sales"
    required: tuple[str, ...] = ()
    business_only: bool = False
    escalation: EscalationPolicy | None = None

    def matches(self, lead: Lead) -> bool:
        """Whether every condition holds for the lead."""
        return all(
            all(c.matches(lead.get(field)) for c in tests) for field, tests in self.when.items()
        )


@attrs.frozen(kw_only=True)
class SlaCalendarPolicy:
    """The working time SLA clocks count in.

    Attributes:
        timezone: IANA zone the hours are written in.
        days: Weekday spec to hours (``{mon-fri: "09:00-17:30"}``); unnamed days are closed.
        holidays: Country (``GB``) or country-subdivision (``DE-BY``) whose public holidays
            are closed, ``""`` for none.
    """

    timezone: str = "UTC"
    days: Mapping[str, str] = attrs.field(factory=lambda: {"mon-fri": "09:00-17:00"})
    holidays: str = ""


@attrs.frozen(kw_only=True)
class LeadTypesPolicy:
    """Lead types in classification order, and the calendar their SLAs count in.

    Attributes:
        types: Ordered types; the first whose ``when`` holds wins.
        default: The type of a lead no type matches (``""``: keep the input's value and
            report ``UNKNOWN_LEAD_TYPE``).
        calendar: Working hours for SLA deadlines; ``None`` counts SLAs in wall-clock time.
    """

    types: tuple[LeadTypePolicy, ...] = ()
    default: str = ""
    calendar: SlaCalendarPolicy | None = None

    def named(self, name: str) -> LeadTypePolicy | None:
        """The type of that name (case-insensitive), if the policy has one."""
        key = name.strip().lower()
        return next((t for t in self.types if t.name.lower() == key), None)


@attrs.frozen(kw_only=True)
class ScoreRule:
    """One scoring rule: points for a lead field condition or for behaviour events.

    Attributes:
        name: Unique rule name, shown in ``explain``.
        points: Points per match (per event with ``event``); may be negative.
        group: The group whose cap these points count against.
        when: Field name to condition, all must hold, as in routing rules.
        event: An event kind: the rule scores ``points`` per event (times its count),
            decayed by age; ``""`` scores the lead's fields once.
        cap: Most points this rule gives (``None``: no cap).
    """

    name: str
    points: float
    group: str = "default"
    when: Mapping[str, tuple[Condition, ...]] = attrs.field(factory=dict)
    event: str = ""
    cap: float | None = None

    def matches(self, lead: Lead) -> bool:
        """Whether every field condition holds for the lead."""
        return all(
            all(c.matches(lead.get(field)) for c in tests) for field, tests in self.when.items()
        )


@attrs.frozen(kw_only=True)
class ScoringPolicy:
    """Rule-based lead scoring and the thresholds that set the lifecycle stage.

    Attributes:
        rules: The scoring rules.
        caps: Group name -> most points the group adds.
        half_life: Event points halve every this long; ``None`` for no decay.
        mql: Score at which a lead is a marketing-qualified lead.
        sql: Score at which a lead is a sales-qualified lead.
    """

    rules: tuple[ScoreRule, ...] = ()
    caps: Mapping[str, float] = attrs.field(factory=dict)
    half_life: timedelta | None = None
    mql: float | None = None
    sql: float | None = None


@attrs.frozen(kw_only=True)
class ReportingPolicy:
    """What ``leadroute report`` measures against (targets from the field).

    Attributes:
        first_touch_sla: Time from assignment to first touch for leads whose lead type
            gives no SLA (and for every lead when the policy has no lead types).
        owner_within: An owner assigned within this long of the lead's creation is "instant".
        owner_within_target: Share of leads that should get an owner that fast.
        no_activity_after: A lead with no touch this long after assignment counts as idle.
        no_activity_target: Highest acceptable share of idle leads.
        exception_target: Highest acceptable share of leads in fallback, error or review.
        stale_after: An MQL untouched this long after assignment is stale.
    """

    first_touch_sla: timedelta = timedelta(hours=1)
    owner_within: timedelta = timedelta(minutes=1)
    owner_within_target: float = 0.95
    no_activity_after: timedelta = timedelta(minutes=30)
    no_activity_target: float = 0.10
    exception_target: float = 0.05
    stale_after: timedelta = timedelta(days=7)


@attrs.frozen(kw_only=True)
class DuplicatePolicy:
    """What new intent from a person already known does (``duplicates`` in the file).

    A lead matches a known person (an earlier lead in the same input, or one routed by an
    earlier run) on any of ``match_on``: the normalized email (case, ``+tags`` and Gmail
    dots ignored), the phone in E.164, or the person's name plus the registrable domain.

    Attributes:
        enabled: Whether duplicates are looked for at all.
        action: ``reassign`` (route the new intent; the earlier records follow its owner),
            ``notify_owner`` (keep the known owner and notify them) or ``append`` (attach
            the lead to the known record; no new owner).
        by_lead_type: Lead type -> action, overriding ``action`` (``{demo: reassign}``).
        match_on: Which identity keys count (``email``, ``phone``, ``name_domain``).
    """

    enabled: bool = True
    action: DuplicateAction = "notify_owner"
    by_lead_type: Mapping[str, DuplicateAction] = attrs.field(factory=dict)
    match_on: tuple[IdentityKind, ...] = ("email", "phone", "name_domain")

    def action_for(self, lead_type: str) -> str:
        """The action for a lead of this type (case ignored)."""
        types = {k.lower(): v for k, v in self.by_lead_type.items()}
        return types.get(lead_type.strip().lower(), self.action)


@attrs.frozen(kw_only=True)
class AccountMatchingPolicy:
    """How the built-in matcher finds a lead's account (``account_matching`` in the file).

    An exact registrable domain (of the email, then the website) beats a company name;
    free-mail domains never match by domain. Among accounts that match equally well, the
    earlier status in ``status_order`` wins, then the most recent ``last_activity_at``,
    then the first listed.

    Attributes:
        by_domain: Match on the registrable domain of the email and the website.
        by_name: Match on the company name (legal suffixes, case and punctuation ignored).
        name_threshold: Least similarity (0..1, rapidfuzz token-sort ratio of normalized
            names) for a fuzzy name match; 1.0 accepts only identical normalized names.
        status_order: Account statuses, most preferred first; unlisted statuses come last.
    """

    by_domain: bool = True
    by_name: bool = True
    name_threshold: float = 0.9
    status_order: tuple[str, ...] = ("customer", "prospect")


@attrs.frozen(kw_only=True)
class Policy:
    """The whole routing policy.

    Attributes:
        version: Your version label; with the file's digest it is recorded on every decision.
        name: A display name.
        regions: Region name to the ISO country codes in it.
        segments: Ordered company-size bands.
        constraints: Rep attributes enforced as hard constraints by default.
        keep_current_owner: A lead that already has an active owner keeps it.
        account_owner: Account-ownership step settings.
        pools: The pools.
        routing: Ordered routing rules.
        fallback: The fallback queue and its owner.
        validation: Required fields.
        fit: Fit weights.
        batch: How the joint optimizer weighs load against fit.
        rebalance: What the nightly rebalance may move.
        capacity: How load is measured against daily and weekly caps.
        adapters: Per-adapter settings (``adapters.csv.columns``...), checked by each adapter.
        lead_types: Lead types with SLA, priority and route, and the SLA calendar.
        nurture: The nurture queue and its owner (needed when anything routes to nurture).
        scoring: Scoring rules and MQL/SQL thresholds; ``None`` scores nothing.
        territories: Named territories (geographic keys and named accounts) reps may list;
            after loading, this includes the rows of ``territory_files``.
        territory_files: CSV territory tables, relative to the policy file.
        skills: Skill levels required for leads whose fields match.
        reporting: SLA defaults and targets for ``leadroute report``.
        duplicates: What new intent from a known person does.
        account_matching: How leads are matched to accounts.
        plugins: Per-plugin settings (``plugins.<name>``), each checked against the schema
            its plugin declares (``leadroute_declare_config``) when a run starts.
        notifications: Channels that tell owners about their leads, per lead type or pool.
        service: Settings of ``leadroute serve`` (CORS origins, body limit, public URL).
        digest: Content hash of the file (set by the loader, not written in YAML).
        plugin_settings: Each declared plugin's settings as its schema object (set by
            ``PluginHost.configure``; read them with ``plugin_config``).
    """

    version: str
    fallback: FallbackPolicy
    name: str = ""
    regions: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    segments: tuple[Segment, ...] = ()
    constraints: tuple[Constraint, ...] = CONSTRAINTS
    keep_current_owner: bool = True
    account_owner: AccountOwnerPolicy = attrs.field(factory=AccountOwnerPolicy)
    pools: tuple[PoolPolicy, ...] = ()
    routing: tuple[Rule, ...] = ()
    validation: ValidationPolicy = attrs.field(factory=ValidationPolicy)
    fit: FitPolicy = attrs.field(factory=FitPolicy)
    batch: BatchPolicy = attrs.field(factory=BatchPolicy)
    rebalance: RebalancePolicy = attrs.field(factory=RebalancePolicy)
    capacity: CapacityPolicy = attrs.field(factory=CapacityPolicy)
    adapters: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    lead_types: LeadTypesPolicy = attrs.field(factory=LeadTypesPolicy)
    nurture: NurturePolicy | None = None
    scoring: ScoringPolicy | None = None
    territories: Mapping[str, Territory] = attrs.field(factory=dict)
    territory_files: tuple[str, ...] = ()
    skills: tuple[SkillRequirement, ...] = ()
    reporting: ReportingPolicy = attrs.field(factory=ReportingPolicy)
    duplicates: DuplicatePolicy = attrs.field(factory=DuplicatePolicy)
    account_matching: AccountMatchingPolicy = attrs.field(factory=AccountMatchingPolicy)
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    notifications: NotificationPolicy = attrs.field(factory=NotificationPolicy)
    service: ServicePolicy = attrs.field(factory=ServicePolicy)
    digest: str = attrs.field(default="", metadata={"internal": True})
    plugin_settings: Mapping[str, Any] = attrs.field(
        factory=dict, eq=False, repr=False, metadata={"internal": True}
    )
    _country_region: Mapping[str, str] = attrs.field(init=False, repr=False, eq=False)
    _territory_by_name: Mapping[str, Territory] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        index = {c.upper(): region for region, cs in self.regions.items() for c in cs}
        object.__setattr__(self, "_country_region", index)
        named = {name.upper(): t for name, t in self.territories.items()}
        object.__setattr__(self, "_territory_by_name", named)

    def territory(self, name: str) -> Territory | None:
        """The named territory (names compare case-insensitively), ``None`` when not named."""
        return self._territory_by_name.get(name.strip().upper())

    def segment_for(self, lead: Lead) -> str:
        """The first segment whose bands (size, revenue, score) hold the lead, ``""`` for none."""
        return next((s.name for s in self.segments if s.holds_lead(lead)), "")

    def skills_required(self, lead: Lead, rule: Rule | None) -> dict[str, int]:
        """Skill -> minimum level for this lead under this rule (the highest level asked wins)."""
        needed: dict[str, int] = {}
        sources = [r.require for r in self.skills if r.matches(lead)]
        if rule is not None:
            sources.append(rule.skills)
        for require in sources:
            for skill, level in require.items():
                key = skill.strip().lower()
                needed[key] = max(level, needed.get(key, 0))
        return needed

    @property
    def version_tag(self) -> str:
        """``version@digest8``: what every decision records, so edits without a bump still show."""
        return f"{self.version}@{self.digest[:8]}" if self.digest else self.version

    def region_of(self, country: str) -> str:
        """The region a country code belongs to, ``""`` when none."""
        return self._country_region.get(country.upper(), "")

    def segment_of(self, employees: int | None) -> str:
        """The first segment whose band holds a company size, ``""`` when unknown or none."""
        if employees is None:
            return ""
        return next((s.name for s in self.segments if s.holds(employees)), "")

    def pool(self, name: str) -> PoolPolicy:
        """The pool of that name (names are checked at load time)."""
        return next(p for p in self.pools if p.name == name)

    def rule_for(self, lead: Lead) -> Rule | None:
        """The first routing rule whose conditions hold, or ``None``."""
        return next((r for r in self.routing if r.matches(lead)), None)

    def constraints_for(self, rule: Rule | None) -> tuple[str, ...]:
        """Hard constraints in force under a rule."""
        return rule.constraints if rule and rule.constraints is not None else self.constraints

    def adapter_options(self, name: str) -> Mapping[str, Any]:
        """The ``adapters.<name>`` table, empty when absent."""
        return self.adapters.get(name, {})

    def plugin_config(self, name: str) -> Any:
        """The plugin's settings as its declared schema object, ``None`` when it has none
        (not declared, or a section it requires is absent)."""
        return self.plugin_settings.get(name)


def deferring_hours(policy: Policy) -> Policy:
    """The policy with every pool's ``out_of_hours`` set to ``defer``.

    Moves made by an operator or a nightly job (``reassign``, ``rebalance``) are for the
    next working day: an off-shift rep may receive them, and their SLA clock starts when
    they come on shift, rather than every lead going to the fallback queue at night.
    """
    return attrs.evolve(
        policy,
        pools=tuple(attrs.evolve(p, out_of_hours="defer", on_shift_pool="") for p in policy.pools),
    )


# --------------------------------------------------------------------------- loading


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    install_value_hooks(converter, except_types=(tuple[Condition, ...],))
    converter.register_structure_hook_func(
        lambda t: t == tuple[Condition, ...], _structure_conditions
    )
    converter.register_structure_hook(timedelta, lambda v, _: parse_duration(v))
    converter.register_unstructure_hook(timedelta, format_duration)

    def structure_str(value: Any, _: Any) -> str:
        # YAML turns `version: 1.0` and `country: NO` into float/bool; only plain scalars
        # may become text, never mappings or lists.
        if isinstance(value, bool):
            raise ConditionError(f"got {str(value).lower()}; {BOOL_HINT}")
        if isinstance(value, dict | list) or value is None:
            raise ConditionError(f"expected text, got {value!r}")
        return str(value)

    converter.register_structure_hook(str, structure_str)
    # StrEnum is a str subclass, so the hook above would swallow it: enums get their own.
    converter.register_structure_hook(Strategy, lambda v, _: Strategy(v))
    return converter


_CONVERTER = _make_converter()


def policy_converter() -> cattrs.Converter:
    """The converter that structures policy sections (and plugins' declared settings)."""
    return _CONVERTER


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ConditionError | ValueProblem):
        return str(exc)
    if isinstance(exc, AttributeError | TypeError) and type_ is not None and attrs.has(type_):
        # A section (an attrs class) given as text or a list: cattrs asks it for .keys().
        found = re.search(r"'(\w+)' object", str(exc))
        kinds = {"str": "text", "list": "a list", "int": "a number", "float": "a number"}
        got = kinds.get(found.group(1), found.group(1)) if found else "something else"
        return f"expected a mapping (key: value), got {got}"
    if isinstance(exc, ForbiddenExtraKeysError):
        # A key with a line break or blank edges is quoted, so the message stays one line.
        keys = sorted(map(str, exc.extra_fields))
        return "unknown key(s): " + ", ".join(
            k if k.isprintable() and k.strip() == k and k else repr(k) for k in keys
        )
    if isinstance(exc, KeyError):
        return "required key missing"
    if (
        isinstance(exc, ValueError)
        and type_ is not None
        and isinstance(type_, type)
        and issubclass(type_, enum.Enum)
    ):
        return f"expected one of: {', '.join(str(m.value) for m in type_)}"
    if typing.get_origin(type_) is Literal:
        return f"expected one of: {', '.join(map(str, typing.get_args(type_)))}"
    return cattrs.v.format_exception(exc, type_)


def _path(cattrs_path: str) -> str:
    path = cattrs_path.removeprefix("$").removeprefix(".")
    return re.sub(r"\['([^']*)'\]", r".\1", path).lstrip(".")


def parse_policy(
    text: str, *, source: str = "leadroute.yaml", base_dir: Path | None = None
) -> Policy:
    """Parse policy text; raise ``PolicyError`` naming the first problem's path.

    ``territory_files`` are read relative to ``base_dir`` (default: the working directory);
    their content is part of the digest, so a territory change shows in the version tag.
    """
    # Bounded: depth, alias expansion and key types are checked before anything is built.
    data = load_yaml(text, source=source)
    if not isinstance(data, dict):
        raise PolicyError("expected a mapping at the top of the file", source=source)
    check_unique_keys(text, source)
    for computed in ("digest", "plugin_settings"):
        if computed in data:
            raise PolicyError(
                f"'{computed}' is computed by leadroute, remove it", path=computed, source=source
            )
    try:
        policy = _CONVERTER.structure(data, Policy)
    except (ClassValidationError, IterableValidationError) as exc:
        messages = transform_error(exc, format_exception=_format_exception)
        first = messages[0]
        message, _, at = first.rpartition(" @ ")
        more = f" (and {len(messages) - 1} more problem(s))" if len(messages) > 1 else ""
        raise PolicyError(message + more, path=_path(at), source=source) from None
    hasher = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    policy = _with_territory_files(policy, source, base_dir or Path.cwd(), hasher)
    policy = _with_learned_model(policy, source, base_dir or Path.cwd(), hasher)
    policy = attrs.evolve(policy, digest=hasher.hexdigest())
    if policy.notifications.templates:
        # Template overrides are found next to the policy file, wherever the service runs.
        folder = str((base_dir or Path.cwd()) / policy.notifications.templates)
        policy = attrs.evolve(
            policy, notifications=attrs.evolve(policy.notifications, templates=folder)
        )
    _check_references(policy, source)
    return policy


def _with_territory_files(policy: Policy, source: str, base_dir: Path, hasher: Any) -> Policy:
    """Merge the CSV territory tables into ``territories``; check every key."""
    regions = {r.upper() for r in policy.regions}
    for name, territory in policy.territories.items():
        for key in territory.keys:
            problem = check_key(key, regions)
            if problem:
                raise PolicyError(problem, path=f"territories.{name}.keys", source=source)
    tables = []
    for i, relative in enumerate(policy.territory_files):
        if not relative.strip():
            raise PolicyError("must name a file", path=f"territory_files[{i}]", source=source)
        data = read_bounded(
            base_dir / relative, MAX_TABLE_BYTES, what="territory table", source=relative
        )
        tables.append(territory_table(data, relative, regions))
        hasher.update(data)
    return attrs.evolve(policy, territories=merge_territories([policy.territories, *tables]))


def _with_learned_model(policy: Policy, source: str, base_dir: Path, hasher: Any) -> Policy:
    """Resolve ``fit.learned.model``, hash it into the digest and set its weight."""
    learned = policy.fit.learned
    if learned is None:
        return policy
    if "learned" in policy.fit.weights:
        raise PolicyError(
            "set the learned fit's weight in fit.learned.weight only",
            path="fit.weights.learned",
            source=source,
        )
    if learned.min_evidence < 0:
        raise PolicyError("must be 0 or more", path="fit.learned.min_evidence", source=source)
    path = base_dir / learned.model
    try:
        content = path.read_bytes()
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc}"
        raise PolicyError(
            f"{reason}: {path} (train one with `leadroute fit train --out {learned.model}`)",
            path="fit.learned.model",
            source=source,
        ) from None
    hasher.update(content)
    learned = attrs.evolve(
        learned, path=str(path.resolve()), digest=hashlib.sha256(content).hexdigest()
    )
    weights = {**policy.fit.weights, "learned": learned.weight}
    return attrs.evolve(policy, fit=attrs.evolve(policy.fit, learned=learned, weights=weights))


def load_policy(path: str | Path) -> Policy:
    """Load and check a policy file."""
    file = Path(path)
    data = read_bounded(file, MAX_POLICY_BYTES, what="file", source=str(file))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"not UTF-8 text (byte {exc.start + 1} cannot be decoded)", source=str(file)
        ) from None
    return parse_policy(text, source=str(file), base_dir=file.parent)


def _unique(names: list[str], section: str, source: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise PolicyError(
                f"duplicate name {name!r}", path=f"{section}[{i}].name", source=source
            )
        seen.add(name)


def _check_references(policy: Policy, source: str) -> None:
    """Cross-references that structure alone cannot check (rep ids are checked at run time)."""
    if not policy.version.strip():
        raise PolicyError("must not be empty", path="version", source=source)
    if not policy.fallback.owner.strip():
        raise PolicyError(
            "must name the rep who owns the fallback queue", path="fallback.owner", source=source
        )
    _unique([p.name for p in policy.pools], "pools", source)
    _unique([r.name for r in policy.routing], "routing", source)
    _unique([s.name for s in policy.segments], "segments", source)
    pools = {p.name for p in policy.pools}
    for i, rule in enumerate(policy.routing):
        if rule.pool not in pools:
            raise PolicyError(
                f"unknown pool {rule.pool!r}", path=f"routing[{i}].pool", source=source
            )
    _check_regions(policy, source)
    _check_rebalance(policy, source)
    _check_segments(policy, source)
    _check_intake(policy, source)
    _check_shifts(policy, source)
    _check_skills(policy, source)
    _check_matching(policy, source)
    check_service(policy, source)


def _check_shifts(policy: Policy, source: str) -> None:
    """Follow-the-sun pools name another pool; half-lives are positive; load is sane."""
    pools = {p.name for p in policy.pools}
    for i, pool in enumerate(policy.pools):
        if pool.out_of_hours == "follow_the_sun":
            if not pool.on_shift_pool:
                raise PolicyError(
                    "follow_the_sun needs on_shift_pool",
                    path=f"pools[{i}].on_shift_pool",
                    source=source,
                )
            if pool.on_shift_pool not in pools or pool.on_shift_pool == pool.name:
                raise PolicyError(
                    f"unknown pool {pool.on_shift_pool!r} (name another pool)",
                    path=f"pools[{i}].on_shift_pool",
                    source=source,
                )
        elif pool.on_shift_pool:
            raise PolicyError(
                "only used with out_of_hours: follow_the_sun",
                path=f"pools[{i}].on_shift_pool",
                source=source,
            )
        if pool.half_life <= timedelta(0):
            raise PolicyError("must be longer than 0", path=f"pools[{i}].half_life", source=source)
    if not policy.capacity.load.strip():
        raise PolicyError("name a lead field or 'count'", path="capacity.load", source=source)
    if policy.capacity.missing_load < 0:
        raise PolicyError("must be 0 or more", path="capacity.missing_load", source=source)


def _check_regions(policy: Policy, source: str) -> None:
    owner_of: dict[str, str] = {}
    for region, countries in policy.regions.items():
        for country in countries:
            code = country.upper()
            if len(code) != 2 or not code.isalpha():
                raise PolicyError(
                    f"{country!r} is not a two-letter ISO country code",
                    path=f"regions.{region}",
                    source=source,
                )
            if code in owner_of:
                raise PolicyError(
                    f"{code} is already in region {owner_of[code]!r}",
                    path=f"regions.{region}",
                    source=source,
                )
            owner_of[code] = region


def _check_rebalance(policy: Policy, source: str) -> None:
    if policy.batch.fairness < 0:
        raise PolicyError("must be 0 or more", path="batch.fairness", source=source)
    for kind, share in policy.batch.max_type_share.items():
        if not 0 < share <= 1:
            raise PolicyError(
                "must be a share between 0 (exclusive) and 1",
                path=f"batch.max_type_share.{kind}",
                source=source,
            )
    rebalance = policy.rebalance
    for key in ("max_moves_per_rep", "max_moves"):
        value = getattr(rebalance, key)
        if value is not None and value < 0:
            raise PolicyError("must be 0 or more", path=f"rebalance.{key}", source=source)
    if rebalance.stay_bonus < 0:
        raise PolicyError("must be 0 or more", path="rebalance.stay_bonus", source=source)
    for i, pool in enumerate(policy.pools):
        if pool.max_per_batch is not None and pool.max_per_batch < 0:
            raise PolicyError("must be 0 or more", path=f"pools[{i}].max_per_batch", source=source)


def _check_segments(policy: Policy, source: str) -> None:
    for i, segment in enumerate(policy.segments):
        for dim, (low, high) in segment.bands().items():
            if low is not None and high is not None and low > high:
                raise PolicyError(
                    f"min_{dim} is above max_{dim}", path=f"segments[{i}]", source=source
                )


def _check_skills(policy: Policy, source: str) -> None:
    tables = [(f"skills[{i}].require", r.require) for i, r in enumerate(policy.skills)]
    tables += [(f"routing[{i}].skills", r.skills) for i, r in enumerate(policy.routing)]
    for path, require in tables:
        for skill, level in require.items():
            if not skill.strip():
                raise PolicyError("empty skill name", path=path, source=source)
            if level < 1:
                raise PolicyError(
                    f"level of {skill!r} must be 1 or more", path=f"{path}.{skill}", source=source
                )


_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def sla_calendar(policy: Policy) -> WorkingHours | None:
    """The working hours SLA deadlines count in, ``None`` for wall-clock time."""
    spec = policy.lead_types.calendar
    if spec is None:
        return None
    return WorkingHours.from_spec(spec.days, timezone=spec.timezone, holidays_in=spec.holidays)


def _check_intake(policy: Policy, source: str) -> None:
    """Lead types, validation actions, nurture and scoring: what structure cannot check."""
    types = policy.lead_types
    _unique([t.name.lower() for t in types.types], "lead_types.types", source)
    if types.default and types.named(types.default) is None:
        raise PolicyError(
            f"unknown lead type {types.default!r}", path="lead_types.default", source=source
        )
    for i, kind in enumerate(types.types):
        if kind.priority < 1:
            raise PolicyError(
                "must be 1 or more", path=f"lead_types.types[{i}].priority", source=source
            )
        if kind.sla is not None and kind.sla <= timedelta(0):
            raise PolicyError(
                "must be longer than 0", path=f"lead_types.types[{i}].sla", source=source
            )
    try:
        sla_calendar(policy)
    except WorktimeError as exc:
        raise PolicyError(str(exc), path="lead_types.calendar", source=source) from None
    validation = policy.validation
    for code in validation.actions:
        if code == "MISSING_FIELD":
            raise PolicyError(
                "set it with validation.missing_action",
                path="validation.actions.MISSING_FIELD",
                source=source,
            )
        if not _CODE_RE.match(code):
            raise PolicyError(
                "problem codes are upper case (INVALID_EMAIL)",
                path=f"validation.actions.{code}",
                source=source,
            )
    wants_nurture = [
        f"validation.actions.{code}" for code, a in validation.actions.items() if a == "nurture"
    ]
    if validation.missing_action == "nurture":
        wants_nurture.append("validation.missing_action")
    wants_nurture += [
        f"lead_types.types[{i}].route" for i, t in enumerate(types.types) if t.route == "nurture"
    ]
    if wants_nurture and policy.nurture is None:
        raise PolicyError(
            "routes to nurture, but the policy has no 'nurture' section (queue and owner)",
            path=wants_nurture[0],
            source=source,
        )
    if policy.nurture is not None and not policy.nurture.owner.strip():
        raise PolicyError("must name the queue's owner", path="nurture.owner", source=source)
    _check_scoring(policy, source)


def _check_scoring(policy: Policy, source: str) -> None:
    scoring = policy.scoring
    if scoring is None:
        return
    _unique([r.name for r in scoring.rules], "scoring.rules", source)
    for i, rule in enumerate(scoring.rules):
        if rule.cap is not None and rule.cap < 0:
            raise PolicyError("must be 0 or more", path=f"scoring.rules[{i}].cap", source=source)
    for group, cap in scoring.caps.items():
        if cap < 0:
            raise PolicyError("must be 0 or more", path=f"scoring.caps.{group}", source=source)
    if scoring.half_life is not None and scoring.half_life <= timedelta(0):
        raise PolicyError("must be longer than 0", path="scoring.half_life", source=source)
    if scoring.mql is not None and scoring.sql is not None and scoring.mql > scoring.sql:
        raise PolicyError("mql is above sql", path="scoring.mql", source=source)


def _check_matching(policy: Policy, source: str) -> None:
    threshold = policy.account_matching.name_threshold
    if not 0 < threshold <= 1:
        raise PolicyError(
            "must be a similarity above 0 and at most 1",
            path="account_matching.name_threshold",
            source=source,
        )
    if not policy.duplicates.match_on and policy.duplicates.enabled:
        raise PolicyError(
            "must list at least one of email, phone, name_domain (or set enabled: false)",
            path="duplicates.match_on",
            source=source,
        )


# --------------------------------------------------------------------------- JSON Schema

_CONDITION_SCHEMA: dict[str, Any] = {
    "description": "A value (equality), a list (membership) or a mapping of operators.",
    "oneOf": [
        {"type": ["string", "number"]},
        {"type": "array", "items": {"type": ["string", "number"]}},
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                **{op: {"type": "number"} for op in _NUMERIC_OPS},
                **{op: {"type": ["string", "number"]} for op in _SCALAR_OPS},
                **{op: {"type": ["array", "string"]} for op in _LIST_OPS},
                "exists": {"type": "boolean"},
            },
        },
    ],
}


def _schema_for(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:  # noqa: PLR0912
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is str:
        return {"type": ["string", "number"]}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is Any:
        return {}
    if tp is timedelta:
        return {
            "type": ["string", "integer"],
            "pattern": _DURATION_RE.pattern,
            "description": "A duration such as 4h, 90m or 1d12h.",
        }
    if tp == tuple[Condition, ...]:
        return _CONDITION_SCHEMA
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [_schema_for(a, defs) for a in args if a is not type(None)]
        nullable = type(None) in args
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {"anyOf": [schema, {"type": "null"}]} if nullable else schema
    if origin is tuple:
        return {"type": "array", "items": _schema_for(args[0], defs)}
    if origin in (Mapping, dict, typing.Mapping):
        return {"type": "object", "additionalProperties": _schema_for(args[1], defs)}
    if attrs.has(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        if not field.init or field.metadata.get("internal"):
            continue
        properties[field.name] = _schema_for(hints[field.name], defs)
        if field.default is attrs.NOTHING:
            required.append(field.name)
    doc = (cls.__doc__ or "").strip().splitlines()
    schema: dict[str, Any] = {
        "type": "object",
        "description": doc[0] if doc else "",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``leadroute.yaml``."""
    defs: dict[str, Any] = {}
    root = _object_schema(Policy, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://leadroute.dev/schema/leadroute.schema.json",
        "title": "leadroute policy",
        **root,
        "$defs": defs,
    }
