"""Read ``activity.csv``: what happened to leads after routing, as ``Outcome`` records.

The file is optional. Each row is one event (``first_touch``, ``meeting_booked``...); a
row that cannot be used becomes an ``InputProblem`` with its line, like every other file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import attrs

from leadroute.models import InputProblem, Outcome, OutcomeKind
from leadroute_csv.cells import BadValue, parse_datetime
from leadroute_csv.reader import ACTIVITY_FIELDS, Row, read_rows

__all__ = ["ACTIVITY_FIELDS", "read_activity"]

KINDS = ", ".join(k.value for k in OutcomeKind)


def _kind(raw: str) -> OutcomeKind:
    text = raw.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return OutcomeKind(text)
    except ValueError:
        raise BadValue("BAD_KIND", "kind", f"kind {raw!r} is not one of: {KINDS}") from None


def _outcome(row: Row, lead_ids: Collection[str], rep_ids: Collection[str]) -> Outcome:
    v = row.values
    lead_id = v.get("lead_id", "")
    if not lead_id:
        raise BadValue("MISSING_LEAD_ID", "lead_id", "row has no lead_id")
    if lead_id not in lead_ids:
        raise BadValue("UNKNOWN_LEAD", "lead_id", f"lead_id {lead_id!r} is not in leads.csv")
    rep_id = v.get("rep_id", "")
    if rep_id and rep_id not in rep_ids:
        raise BadValue("UNKNOWN_REP", "rep_id", f"rep_id {rep_id!r} is not a rep")
    kind = _kind(v.get("kind", ""))
    at = parse_datetime("at", v.get("at", ""))
    if at is None:
        raise BadValue("MISSING_DATE", "at", "row has no 'at' time")
    return Outcome(
        kind=kind,
        lead_id=lead_id,
        rep_id=rep_id,
        at=at,
        source="csv",
        detail=v.get("detail", ""),
    )


def read_activity(
    path: Path,
    mapping: Mapping[str, str],
    max_bytes: int,
    *,
    lead_ids: Collection[str],
    rep_ids: Collection[str],
) -> tuple[list[Outcome], list[InputProblem]]:
    """Outcomes from ``activity.csv`` and the rows that could not be used (none if absent)."""
    outcomes: list[Outcome] = []
    problems: list[InputProblem] = []
    if not path.exists():
        return outcomes, problems
    for row in read_rows(path, "activity", mapping, max_bytes):
        lead_id = row.values.get("lead_id", "")
        try:
            if row.problem:
                raise BadValue(row.code, "", row.problem)
            outcome = _outcome(row, lead_ids, rep_ids)
        except BadValue as exc:
            problems.append(
                InputProblem(
                    file=path.name,
                    line=row.line,
                    record_id=lead_id,
                    kind="activity",
                    field=exc.field,
                    code=exc.code,
                    message=str(exc),
                )
            )
            continue
        outcomes.append(attrs.evolve(outcome, origin=f"{path.name}:{row.line}"))
    return outcomes, problems
