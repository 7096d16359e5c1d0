"""``CsvAdapter``: leadroute's reference adapter over files on disk."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from leadroute.adapters import AdapterConfig
from leadroute.errors import OutputFileError, PolicyError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult, InputProblem, Snapshot
from leadroute_csv.activity import read_activity
from leadroute_csv.reader import FIELDS, CsvReader
from leadroute_csv.writer import (
    APPEND_COLUMNS,
    NOTIFICATION_COLUMNS,
    upsert_assignments,
    upsert_effects,
    write_exceptions,
)

__all__ = ["CsvAdapter"]

log = get_logger(__name__)

DEFAULT_FILES = {
    "leads": "leads.csv",
    "reps": "reps.csv",
    "accounts": "accounts.csv",
    "events": "events.csv",
    "activity": "activity.csv",
}
OPTIONS = frozenset(
    {"input_dir", "output_dir", "files", "columns", "list_separator", "max_file_mb"}
)
# The CSV vocabulary names the owner column "owner"; the model calls it owner_id.
OWNER_ALIASES = {"owner_id": "owner", "backup_id": "backup"}


def _check_options(options: Mapping[str, Any]) -> None:
    for key in options:
        if key not in OPTIONS:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(OPTIONS))})",
                path=f"adapters.csv.{key}",
            )
    for section in ("files", "columns"):
        value = options.get(section, {})
        if not isinstance(value, Mapping):
            raise PolicyError("expected a mapping", path=f"adapters.csv.{section}")
        for kind in value:
            if kind not in FIELDS:
                raise PolicyError(
                    f"expected one of: {', '.join(FIELDS)}", path=f"adapters.csv.{section}.{kind}"
                )
    for kind, mapping in options.get("columns", {}).items():
        if not isinstance(mapping, Mapping):
            raise PolicyError("expected field: column pairs", path=f"adapters.csv.columns.{kind}")
        for field in mapping:
            name = OWNER_ALIASES.get(field, field)
            if name not in FIELDS[kind]:
                raise PolicyError(
                    f"unknown field (expected one of: {', '.join(FIELDS[kind])})",
                    path=f"adapters.csv.columns.{kind}.{field}",
                )


@attrs.define
class CsvAdapter:
    """Reads leads.csv, reps.csv, accounts.csv; writes assignments.csv and exceptions.csv.

    Attributes:
        reader: The file reader (paths, column mapping, list separator, size limit).
        output_dir: Where outputs go.
    """

    reader: CsvReader
    output_dir: Path
    name: str = "csv"

    @classmethod
    def from_config(cls, config: AdapterConfig) -> CsvAdapter:
        """Build from the policy's ``adapters.csv`` table merged with command-line options."""
        options = dict(config.options)
        _check_options(options)
        input_dir = Path(options.get("input_dir") or config.workdir)
        output_dir = Path(options.get("output_dir") or input_dir)
        files = {
            kind: input_dir / name
            for kind, name in {**DEFAULT_FILES, **options.get("files", {})}.items()
        }
        columns = {
            kind: {OWNER_ALIASES.get(f, f): str(col) for f, col in mapping.items()}
            for kind, mapping in options.get("columns", {}).items()
        }
        try:
            max_mb = float(options.get("max_file_mb", 50))
        except (TypeError, ValueError):
            raise PolicyError("expected a number", path="adapters.csv.max_file_mb") from None
        separator = str(options.get("list_separator", ";"))
        if not separator or separator == ",":
            raise PolicyError(
                "must be a character other than ','", path="adapters.csv.list_separator"
            )
        reader = CsvReader(
            files=files, columns=columns, separator=separator, max_bytes=int(max_mb * 1024 * 1024)
        )
        return cls(reader=reader, output_dir=output_dir)

    @property
    def assignments_path(self) -> Path:
        """Where owner decisions are written."""
        return self.output_dir / "assignments.csv"

    @property
    def exceptions_path(self) -> Path:
        """Where the exception report is written."""
        return self.output_dir / "exceptions.csv"

    def read(self) -> Snapshot:
        """Read the input folder (and ``activity.csv`` when it exists)."""
        snapshot = self._with_activity(self.reader.read())
        log.info(
            "csv.read",
            leads=len(snapshot.leads),
            reps=len(snapshot.reps),
            accounts=len(snapshot.accounts),
            problems=len(snapshot.problems),
        )
        return snapshot

    def _with_activity(self, snapshot: Snapshot) -> Snapshot:
        path = self.reader.files["activity"]
        if any(p == path for kind, p in self.reader.files.items() if kind != "activity"):
            # The file is another input (files.events: activity.csv): it is not outcomes.
            log.info("csv.activity_skipped", file=path.name, reason="used by another input")
            return snapshot
        # Activity about a lead rejected for a bad cell is still about a lead in leads.csv.
        lead_ids = {lead.id for lead in snapshot.leads} | {
            p.record_id for p in snapshot.problems if p.kind == "lead" and p.record_id
        }
        outcomes, problems = read_activity(
            path,
            self.reader.columns.get("activity", {}),
            self.reader.max_bytes,
            lead_ids=lead_ids,
            rep_ids={rep.id for rep in snapshot.reps},
        )
        return attrs.evolve(
            snapshot, outcomes=tuple(outcomes), problems=(*snapshot.problems, *problems)
        )

    @property
    def notifications_path(self) -> Path:
        """Where ``notify`` effects (a known person's owner told of new intent) are written."""
        return self.output_dir / "notifications.csv"

    @property
    def appends_path(self) -> Path:
        """Where ``append`` effects (a duplicate attached to a known record) are written."""
        return self.output_dir / "appends.csv"

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Upsert owner writes, notifications and appends into their files.

        Other kinds are not for files: they fail without retry, naming the kind.
        """
        writers: dict[str, tuple[Path, Callable[[Path, Sequence[Effect]], None]]] = {
            "owner_write": (self.assignments_path, upsert_assignments),
            "notify": (
                self.notifications_path,
                lambda path, batch: upsert_effects(path, NOTIFICATION_COLUMNS, batch),
            ),
            "append": (
                self.appends_path,
                lambda path, batch: upsert_effects(path, APPEND_COLUMNS, batch),
            ),
        }
        results = {
            e.idem_key: EffectResult(
                idem_key=e.idem_key,
                ok=False,
                retryable=False,
                detail=f"csv adapter does not handle {e.kind!r} effects",
            )
            for e in effects
            if e.kind not in writers
        }
        for kind, (path, write) in writers.items():
            batch = [e for e in effects if e.kind == kind]
            if batch:
                results |= self._write(path, write, batch)
        return [results[e.idem_key] for e in effects]

    @staticmethod
    def _write(
        path: Path, write: Callable[[Path, Sequence[Effect]], None], batch: Sequence[Effect]
    ) -> dict[str, EffectResult]:
        try:
            write(path, batch)
        except (OSError, OutputFileError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            log.warning("csv.write_failed", file=str(path), error=reason)
            return {
                e.idem_key: EffectResult(
                    idem_key=e.idem_key, ok=False, retryable=True, detail=str(exc)
                )
                for e in batch
            }
        ok = EffectResult(idem_key="", ok=True)
        return {e.idem_key: attrs.evolve(ok, idem_key=e.idem_key) for e in batch}

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        """Replace exceptions.csv with this run's problems."""
        write_exceptions(self.exceptions_path, problems)
        log.info("csv.exceptions_written", rows=len(problems))
