"""Human-readable output for the command line (rich); ``--json`` bypasses all of this."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from rich.console import Console
from rich.table import Table

from leadroute.deadlines import calendar_zone
from leadroute.host import PluginFailure, PluginInfo
from leadroute.models import Candidate, Decision, Lead, Rep, SolveSummary

__all__ = ["explain_lines", "intake_lines", "render_explain", "render_plugins", "render_summary"]


def render_summary(
    console: Console,
    counts: Mapping[str, Any],
    decisions: Sequence[Decision],
    reps: Sequence[Rep],
    outputs: Mapping[str, str],
) -> None:
    """Totals, the route-step breakdown and the per-rep breakdown of a run."""
    c = counts
    console.print(
        f"[bold]{c['input']}[/] leads: [green]{c['routed']} routed[/], "
        f"[yellow]{c['fallback']} to fallback[/], [red]{c['exceptions']} rejected[/]"
        f"  ·  {c['new']} new decisions, {c['replayed']} replayed"
    )
    if c.get("waiting"):
        console.print(
            f"{c['waiting']} lead(s) created after the run's time wait for a later run "
            "(a lead is never decided before it was created)"
        )
    if "duplicates" in c:
        actions = ", ".join(f"{n} {a}" for a, n in c["duplicates_by_action"].items())
        followed = (
            f"; {c['followed']} earlier record(s) moved to their new owner" if c["followed"] else ""
        )
        console.print(
            f"{c['duplicates']} duplicates ({c['duplicate_rate'] * 100:.1f}%)"
            + (f": {actions}" if actions else "")
            + followed
        )
    steps = Table(title="By route step", title_justify="left")
    steps.add_column("step")
    steps.add_column("leads", justify="right")
    # One row per lead: the fallback step is shown by cause, rejected leads by their first
    # problem, so the rows add up to the input.
    for step, n in c["by_step"].items():
        if step != "fallback":
            steps.add_row(step, str(n))
    for code, n in c.get("fallback_by_code", {}).items():
        steps.add_row(f"[yellow]fallback: {code}[/]", str(n))
    for code, n in c["exceptions_by_code"].items():
        steps.add_row(f"[red]rejected: {code}[/]", str(n))
    steps.add_row("[bold]total[/]", f"[bold]{c['input']}[/]")
    console.print(steps)
    render_intake(console, c)

    by_id = {r.id: r for r in reps}
    # A kept current owner already counted the lead in open_leads; everything else adds one.
    added = Counter(d.owner_id for d in decisions if str(d.step) != "current_owner")
    table = Table(title="By rep", title_justify="left")
    for col, justify in (
        ("rep", "left"),
        ("name", "left"),
        ("active", "left"),
        ("leads", "right"),
        ("open / cap", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for rep_id, n in sorted(c["by_owner"].items(), key=lambda kv: (-kv[1], kv[0])):
        rep = by_id.get(rep_id)
        cap = rep.capacity.max_open if rep and rep.capacity.max_open is not None else "-"
        table.add_row(
            rep_id,
            rep.name if rep else "?",
            "yes" if rep and rep.active else "no",
            str(n),
            f"{(rep.open_leads if rep else 0) + added[rep_id]} / {cap}",
        )
    console.print(table)
    if c["data_problems"]:
        console.print(
            f"[yellow]{c['data_problems']} rep/account data problem(s)[/] "
            "listed in the exception report"
        )
    for label, path in outputs.items():
        console.print(f"{label}: {path}")


def render_rebalance(
    console: Console, counts: Mapping[str, Any], rows: Sequence[Sequence[object]], dry_run: bool
) -> None:
    """Totals and the diff of a rebalance."""
    verb = "would move" if dry_run else "moved"
    reasons = ", ".join(f"{n} {r}" for r, n in counts["movable_by_reason"].items()) or "none"
    console.print(
        f"{counts['considered']} owned leads considered, {counts['movable']} movable "
        f"({reasons}); {verb} [bold]{counts['moves']}[/], kept {counts['kept']}"
    )
    if counts.get("held"):
        why = ", ".join(f"{n} {r}" for r, n in counts["held_by_reason"].items())
        console.print(f"held with their owner although movable: {counts['held']} ({why})")
    if counts.get("followers"):
        console.print(
            f"{counts['followers']} other record(s) of the same people follow their moves "
            "(rows marked FOLLOWS in the diff)"
        )
    if not rows:
        return
    table = Table(
        title="Moves" + (" (dry run: nothing written)" if dry_run else ""), title_justify="left"
    )
    for col in ("lead", "from", "to", "reasons", "fit before", "fit after"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)


_LEAD_FIELDS = frozenset(a.name for a in attrs.fields(Lead))


def explain_lines(decision: Decision, observed_owner: str = "") -> list[str]:
    """The explanation as plain lines: the owner, the path, every rep considered, and why.

    ``observed_owner`` is the owner the target reported after the write, when it differs.
    """
    d = decision
    lines = [
        f"Lead {d.lead_id} -> {d.owner_id}"
        + (f" (fallback queue {d.queue})" if d.queue else "")
        + f"  [{d.status}, step {d.step}]",
        f"Reason: {d.reason}",
        f"Route path: {' -> '.join(d.route_path) or '(none)'}",
        f"Policy {d.policy_version}, decided {d.decided_at.isoformat(timespec='seconds')}, "
        f"epoch {d.epoch}",
    ]
    if d.account_id:
        lines.append(
            f"Account: {d.account_id} (matched by {d.account_method}, "
            f"confidence {d.account_confidence:.2f})"
        )
    if d.duplicate is not None:
        lines.append(_duplicate_line(d))
    lines.extend(_clock_lines(d))
    if d.rule and d.rule_inputs:
        own = _LEAD_FIELDS
        used = ", ".join(
            f"{k}={v}" + ("" if k in own else " (enriched)")
            for k, v in sorted(d.rule_inputs.items())
        )
        lines.append(f"Rule {d.rule} matched on {used}")
    for p in d.problems:
        lines.append(f"Problem: {p.code} on {p.field}: {p.message} ({p.action})")
    lines.extend(intake_lines(d))
    if d.candidates:
        lines.append(f"Candidates in pool {d.pool} ({d.strategy}):")
        for c in d.candidates:
            cap = f"/{c.capacity}" if c.capacity is not None else ""
            parts = ", ".join(f"{f.name} {f.value:.2f}" for f in c.contributions)
            lines.append(
                f"  #{c.rank} {c.rep_id}: fit {c.fit:.2f} ({parts}), load {c.load}{cap}; {c.reason}"
            )
            details = "; ".join(f"{f.name}: {f.detail}" for f in c.contributions if f.detail)
            if details:
                lines.append(f"      {details}")
    excluded = d.all_exclusions()
    if excluded:
        lines.append("Excluded:")
        lines.extend(f"  {e.rep_id}: {e.code} {e.detail}".rstrip() for e in excluded)
    lines.append(_why_winner(d))
    if d.solve is not None:
        lines.append(_solve_line(d.solve))
    if d.pool:
        lines.append(f"Reps outside pool {d.pool} were not considered (NOT_IN_POOL).")
    if observed_owner:
        lines.append(f"Owner changed to {observed_owner} after the write (by the target system).")
    return lines


def _solve_line(s: SolveSummary) -> str:
    bound = f"bound {s.bound:.2f}, gap {s.gap:.2%}" if s.bound is not None else "no bound"
    penalty = f", fairness cost {s.penalty:.2f}" if s.penalty else ""
    return (
        f"Joint solve: {s.status}, total fit {s.objective:.2f} ({bound}{penalty}) over "
        f"{s.leads} leads and {s.pairs} eligible pairs, {s.unassigned} left out; "
        f"{s.build_seconds:.3f} s build, {s.solve_seconds:.3f} s solve, "
        f"{s.extract_seconds:.3f} s read back."
    )


_DUPLICATE_ACTIONS = {
    "reassign": "the new intent was routed and the person's earlier records follow its owner",
    "notify_owner": "kept with the known owner, who is notified",
    "append": "appended to the known record (no new owner)",
}


def _duplicate_line(d: Decision) -> str:
    dup = d.duplicate
    assert dup is not None
    on = ", ".join(dup.matched_on) or "identity"
    if dup.role == "follower":
        return (
            f"Duplicate: follows lead {dup.lead_id} of the same person (matched on {on}): "
            f"moved from {dup.previous_owner} to {d.owner_id}"
        )
    owner = f", owned by {dup.previous_owner}" if dup.previous_owner else ""
    return (
        f"Duplicate: same person as lead {dup.lead_id}{owner} (matched on {on}); "
        f"{dup.action}: {_DUPLICATE_ACTIONS.get(dup.action, dup.action)}"
    )


def _why_winner(d: Decision) -> str:
    if len(d.candidates) >= 2:
        a, b = d.candidates[0], d.candidates[1]
        return (
            f"Why {a.rep_id} and not {b.rep_id}: under {d.strategy}, {a.rep_id} "
            f"({a.reason}) ranks before {b.rep_id} ({b.reason}); "
            f"fit {a.fit:.2f} vs {b.fit:.2f}, load {_load(a)} vs {_load(b)}."
        )
    if len(d.candidates) == 1:
        return f"Why {d.owner_id}: the only eligible rep in pool {d.pool}."
    codes = Counter(e.code for e in d.all_exclusions())
    summary = ", ".join(f"{n} {code}" for code, n in codes.most_common()) or "no candidates"
    return f"Why {d.owner_id}: decided at step {d.step} ({summary} among reps considered)."


def _load(c: Candidate) -> str:
    return f"{c.load}/{c.capacity}" if c.capacity is not None else str(c.load)


def render_explain(console: Console, decision: Decision, observed_owner: str = "") -> None:
    """Print the explanation."""
    for line in explain_lines(decision, observed_owner):
        # soft_wrap: one explanation line stays one line when piped or grepped.
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def render_plugins(
    console: Console,
    plugins: Sequence[PluginInfo],
    failures: Sequence[PluginFailure],
    adapters: Sequence[str],
) -> None:
    """Loaded plugins with their hooks, failed plugins with their error, adapters by name."""
    table = Table(title="Plugins", title_justify="left")
    for col in ("plugin", "source", "hooks"):
        table.add_column(col)
    for p in plugins:
        table.add_row(p.name, p.source, ", ".join(p.hooks))
    console.print(table)
    console.print(f"Adapters: {', '.join(adapters) or '(none)'}")
    for f in failures:
        console.print(f"[red]failed[/] {f.name}: {f.error}", highlight=False)


def _clock_lines(d: Decision) -> list[str]:
    lines = []
    if d.escalate_at:
        lines.append(f"Escalates at {d.escalate_at.isoformat(timespec='minutes')}")
    if d.sla_calendar:
        lines.append(f"Clock: {clock_line(d)}")
    return lines


def clock_line(d: Decision) -> str:
    """Whose calendar set the deadlines, and the deadlines on the owner's local clock."""
    zone = calendar_zone(d.sla_calendar)
    parts = [f"counted in {d.sla_calendar}"]
    for label, when in (
        ("starts", d.sla_starts_at),
        ("first touch due", d.sla_due_at),
        ("escalates", d.escalate_at),
    ):
        if when is not None and zone is not None:
            parts.append(f"{label} {when.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}")
    return "; ".join(parts)


def intake_lines(d: Decision) -> list[str]:
    """The lead's type with its priority and SLA deadline, and its score with every part."""
    lines = []
    if d.lead_type:
        due = (
            f", first touch due {d.sla_due_at.isoformat(timespec='minutes')}"
            if d.sla_due_at
            else ", no SLA"
        )
        lines.append(f"Type: {d.lead_type} (priority {d.priority}){due}")
    if d.score is not None:
        stage = f" ({d.lifecycle_stage})" if d.lifecycle_stage else ""
        lines.append(f"Score: {d.score:g}{stage}")
        lines.extend(
            f"  {c.points:+g} {c.name} [{c.group}]" + (f": {c.detail}" if c.detail else "")
            for c in d.score_contributions
        )
    return lines


def render_intake(console: Console, counts: Mapping[str, Any]) -> None:
    """The intake-quality line: exception rate, and leads routed with a flagged problem."""
    flagged = ", ".join(f"{n} {code}" for code, n in counts.get("flagged_by_code", {}).items())
    console.print(
        f"Intake: exception rate {counts.get('exception_rate', 0.0) * 100:.1f}% "
        f"({counts.get('needs_human', counts['exceptions'])} of {counts['input']} need a "
        f"human: rejected, fallback or flagged), "
        f"{counts.get('flagged', 0)} routed with flags" + (f" ({flagged})" if flagged else "")
    )
    stages = counts.get("by_lifecycle_stage", {})
    if stages:
        console.print(
            "Lifecycle stages: " + ", ".join(f"{n} {stage}" for stage, n in stages.items())
        )
