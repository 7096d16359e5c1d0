"""assignments.csv (upserted per lead, idempotent), notifications.csv and appends.csv
(upserted per effect), and exceptions.csv, all written atomically."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from leadroute.models import Effect, InputProblem
from leadroute.spreadsheet import safe_cell, write_csv_atomic

__all__ = [
    "APPEND_COLUMNS",
    "ASSIGNMENT_COLUMNS",
    "EXCEPTION_COLUMNS",
    "NOTIFICATION_COLUMNS",
    "upsert_assignments",
    "upsert_effects",
    "write_exceptions",
]

ASSIGNMENT_COLUMNS = (
    "lead_id",
    "owner_id",
    "owner_name",
    "status",
    "step",
    "queue",
    "rule",
    "pool",
    "reason",
    "policy_version",
    "decided_at",
    "decision_id",
    "epoch",
    "idem_key",
    "lead_type",
    "priority",
    "sla_due_at",
    "lifecycle_stage",
    "score",
)
EXCEPTION_COLUMNS = ("file", "line", "kind", "record_id", "field", "code", "message")
NOTIFICATION_COLUMNS = (
    "owner_id",
    "lead_id",
    "about_lead_id",
    "matched_on",
    "message",
    "decision_id",
    "idem_key",
)
APPEND_COLUMNS = ("lead_id", "into_lead_id", "owner_id", "matched_on", "decision_id", "idem_key")


def _existing(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["lead_id"]: row for row in csv.DictReader(fh)}


def upsert_assignments(path: Path, effects: Sequence[Effect]) -> None:
    """Merge owner writes into assignments.csv: one row per lead, the highest epoch wins."""
    rows = _existing(path)
    for effect in effects:
        payload: Mapping[str, object] = {**effect.payload, "idem_key": effect.idem_key}
        # Rows are keyed as they are written (escaped), so re-applying matches the same row.
        key = str(safe_cell(payload["lead_id"]))
        old = rows.get(key)
        if old is not None and int(old.get("epoch") or 0) > int(str(payload["epoch"])):
            continue
        rows[key] = {c: str(safe_cell(payload.get(c, ""))) for c in ASSIGNMENT_COLUMNS}
    write_csv_atomic(
        path,
        ASSIGNMENT_COLUMNS,
        ([row.get(c, "") for c in ASSIGNMENT_COLUMNS] for _, row in sorted(rows.items())),
    )


def upsert_effects(path: Path, columns: Sequence[str], effects: Sequence[Effect]) -> None:
    """Merge effects into a file with one row per effect, keyed by idempotency key."""
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            rows = {row["idem_key"]: row for row in csv.DictReader(fh)}
    for effect in effects:
        payload = {**effect.payload, "idem_key": effect.idem_key}
        matched = payload.get("matched_on", "")
        if isinstance(matched, list):
            payload["matched_on"] = ";".join(str(m) for m in matched)
        rows[str(safe_cell(effect.idem_key))] = {
            c: str(safe_cell(payload.get(c, ""))) for c in columns
        }
    write_csv_atomic(
        path,
        columns,
        (
            [row.get(c, "") for c in columns]
            for _, row in sorted(rows.items(), key=lambda kv: (kv[1].get("lead_id", ""), kv[0]))
        ),
    )


def write_exceptions(path: Path, problems: Sequence[InputProblem]) -> None:
    """Replace exceptions.csv with this run's problems."""
    write_csv_atomic(
        path,
        EXCEPTION_COLUMNS,
        (
            [
                p.file,
                p.line if p.line is not None else "",
                p.kind,
                p.record_id,
                p.field,
                p.code,
                p.message,
            ]
            for p in problems
        ),
    )
