"""Read leads.csv, reps.csv, accounts.csv and events.csv into leadroute models.

A file that cannot be used at all raises ``InputFileError`` naming the file and line. A
row that cannot be used becomes an ``InputProblem`` with its line: it never disappears.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from leadroute.errors import InputFileError
from leadroute.models import (
    Account,
    Availability,
    Capacity,
    InputProblem,
    Lead,
    LeadEvent,
    Rep,
    Snapshot,
)
from leadroute_csv.cells import (
    BadValue,
    parse_bool,
    parse_cap,
    parse_datetime,
    parse_float,
    parse_hours,
    parse_int,
    parse_leave,
    parse_skills,
    parse_timezone,
    parse_type_caps,
    split_list,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "EVENT_FIELDS",
    "LEAD_FIELDS",
    "REP_FIELDS",
    "CsvReader",
    "Row",
    "read_rows",
]

LEAD_FIELDS = (
    "id",
    "email",
    "name",
    "company",
    "website",
    "country",
    "state",
    "employees",
    "language",
    "product",
    "lead_type",
    "source",
    "created_at",
    "owner",
    "last_activity_at",
    "phone",
)
REP_FIELDS = (
    "id",
    "name",
    "email",
    "active",
    "timezone",
    "territories",
    "languages",
    "segments",
    "products",
    "capacity",
    "weight",
    "backup",
    "pools",
    "open_leads",
    "leave",
    "paused_until",
    "paused",
    "hours",
    "holidays",
    "max_per_day",
    "max_per_week",
    "type_caps",
    "skills",
    "accounts",
    "slack_id",
    "booking_url",
    "manager",
)
ACCOUNT_FIELDS = ("id", "name", "domain", "owner", "status", "last_activity_at")
# Behaviour events for scoring; the first field of each kind is its required key column.
EVENT_FIELDS = ("lead_id", "kind", "at", "count")
# What reps did after routing (outcomes), read by leadroute_csv.activity.
ACTIVITY_FIELDS = ("lead_id", "rep_id", "kind", "at", "detail")
FIELDS = {
    "leads": LEAD_FIELDS,
    "reps": REP_FIELDS,
    "accounts": ACCOUNT_FIELDS,
    "events": EVENT_FIELDS,
    "activity": ACTIVITY_FIELDS,
}
FIELD_SIZE_LIMIT = 1024 * 1024


@attrs.frozen(kw_only=True)
class Row:
    """One data row: its first physical line, known fields by name, and the other columns.

    Attributes:
        line: 1-based line where the record starts (the header is line 1).
        values: leadroute field name -> cell text (``""`` when the column is absent).
        extras: Other columns, by their header as written.
        problem: A structural problem with the row itself (too many cells).
    """

    line: int
    values: Mapping[str, str]
    extras: Mapping[str, str]
    problem: str = ""


def _decode(path: Path, max_bytes: int) -> str:
    name = path.name
    if not path.exists():
        raise InputFileError("file not found", file=str(path))
    if not path.is_file():
        raise InputFileError("not a regular file", file=str(path))
    size = path.stat().st_size
    if size > max_bytes:
        raise InputFileError(
            f"file is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB limit "
            "(raise adapters.csv.max_file_mb)",
            file=name,
        )
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputFileError(
            "contains a NUL byte (is this a spreadsheet, not a CSV?)",
            file=name,
            line=data.count(b"\n", 0, nul) + 1,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            "is not UTF-8 (export as CSV UTF-8)",
            file=name,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    if not text.strip():
        raise InputFileError("is empty (expected a header row)", file=name)
    return text


def _column_index(
    header: Sequence[str], fields: Sequence[str], mapping: Mapping[str, str], name: str
) -> dict[str, int]:
    normalized = [h.strip().lower() for h in header]
    seen: dict[str, int] = {}
    for i, h in enumerate(normalized):
        if h and h in seen:
            raise InputFileError(
                f"header names column {header[i].strip()!r} twice", file=name, line=1
            )
        seen[h] = i
    index: dict[str, int] = {}
    for field in fields:
        wanted = mapping.get(field, field).strip().lower()
        if wanted in seen:
            index[field] = seen[wanted]
        elif field in mapping:
            raise InputFileError(
                f"mapped column {mapping[field]!r} (for {field}) is not in the header",
                file=name,
                line=1,
            )
    key = fields[0]
    if key not in index:
        raise InputFileError(
            f"no {mapping.get(key, key)!r} column in the header", file=name, line=1
        )
    return index


def read_rows(path: Path, kind: str, mapping: Mapping[str, str], max_bytes: int) -> Iterator[Row]:
    """Rows of one file, with their first line numbers; blank lines are skipped."""
    text = _decode(path, max_bytes)
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""))
    name = path.name
    try:
        header = next(reader)
        index = _column_index(header, FIELDS[kind], mapping, name)
        used = set(index.values())
        previous_end = reader.line_num
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            padded = cells + [""] * (len(header) - len(cells))
            values = {field: padded[i].strip() for field, i in index.items()}
            extras = {
                header[i].strip(): padded[i].strip()
                for i in range(len(header))
                if i not in used and header[i].strip()
            }
            problem = (
                f"row has {len(cells)} cells but the header has {len(header)}"
                if len(cells) > len(header)
                else ""
            )
            yield Row(line=start, values=values, extras=extras, problem=problem)
    except csv.Error as exc:
        raise InputFileError(f"unreadable CSV: {exc}", file=name, line=reader.line_num) from None


# --------------------------------------------------------------------------- records


def _lead(row: Row, sep: str) -> Lead:
    v = row.values
    return Lead(
        id=v["id"],
        email=v.get("email", ""),
        name=v.get("name", ""),
        company=v.get("company", ""),
        website=v.get("website", ""),
        country=v.get("country", "").upper(),
        state=v.get("state", "").upper(),
        employees=parse_int("employees", v.get("employees", "")),
        language=v.get("language", "").lower(),
        product=v.get("product", ""),
        lead_type=v.get("lead_type", ""),
        source=v.get("source", ""),
        created_at=parse_datetime("created_at", v.get("created_at", "")),
        owner_id=v.get("owner", ""),
        last_activity_at=parse_datetime("last_activity_at", v.get("last_activity_at", "")),
        attributes=row.extras,
        phone=v.get("phone", ""),
    )


def _rep(row: Row, sep: str) -> Rep:
    v = row.values
    timezone = parse_timezone("timezone", v.get("timezone", ""))
    holidays_in = v.get("holidays", "").strip().upper()
    return Rep(
        id=v["id"],
        name=v.get("name", ""),
        email=v.get("email", ""),
        active=parse_bool("active", v.get("active", "")),
        territories=tuple(t.upper() for t in split_list(v.get("territories", ""), sep)),
        languages=tuple(x.lower() for x in split_list(v.get("languages", ""), sep)),
        segments=tuple(split_list(v.get("segments", ""), sep)),
        products=tuple(split_list(v.get("products", ""), sep)),
        pools=tuple(split_list(v.get("pools", ""), sep)),
        capacity=Capacity(
            max_open=parse_int("capacity", v.get("capacity", "")),
            per_day=parse_cap("max_per_day", v.get("max_per_day", "")),
            per_week=parse_cap("max_per_week", v.get("max_per_week", "")),
            per_type=parse_type_caps("type_caps", v.get("type_caps", ""), sep),
        ),
        weight=parse_float("weight", v.get("weight", ""), default=1.0),
        backup_id=v.get("backup", ""),
        open_leads=parse_int("open_leads", v.get("open_leads", "")) or 0,
        availability=Availability(
            timezone=timezone,
            leave=parse_leave("leave", v.get("leave", ""), sep, timezone),
            paused_until=parse_datetime("paused_until", v.get("paused_until", "")),
            paused=parse_bool("paused", v.get("paused", "") or "false"),
            hours=parse_hours("hours", v.get("hours", ""), sep, timezone, holidays_in),
            holidays=holidays_in,
        ),
        skills=parse_skills("skills", v.get("skills", ""), sep),
        accounts=tuple(x.lower() for x in split_list(v.get("accounts", ""), sep)),
        slack_id=v.get("slack_id", "").strip(),
        booking_url=v.get("booking_url", "").strip(),
        manager_id=v.get("manager", "").strip(),
    )


def _domain(raw: str) -> str:
    text = raw.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.split("/", 1)[0].removeprefix("www.")


def _account(row: Row, sep: str) -> Account:
    v = row.values
    return Account(
        id=v["id"],
        name=v.get("name", ""),
        domain=_domain(v.get("domain", "")),
        owner_id=v.get("owner", ""),
        status=v.get("status", "").lower(),
        last_activity_at=parse_datetime("last_activity_at", v.get("last_activity_at", "")),
    )


BUILDERS: Mapping[str, Callable[[Row, str], Any]] = {
    "leads": _lead,
    "reps": _rep,
    "accounts": _account,
}
KIND = {"leads": "lead", "reps": "rep", "accounts": "account", "events": "event"}


def _event(row: Row) -> LeadEvent:
    v = row.values
    if not v.get("kind", ""):
        raise BadValue("MISSING_KIND", "kind", "event has no kind")
    at = parse_datetime("at", v.get("at", ""))
    if at is None:
        raise BadValue("BAD_DATE", "at", "event has no time ('at' is empty)")
    count = parse_int("count", v.get("count", ""), minimum=1)
    return LeadEvent(kind=v["kind"].lower(), at=at, count=1 if count is None else count)


@attrs.define
class CsvReader:
    """Reads the three files of one input folder into a ``Snapshot``."""

    files: Mapping[str, Path]
    columns: Mapping[str, Mapping[str, str]]
    separator: str
    max_bytes: int
    problems: list[InputProblem] = attrs.field(factory=list)

    def _problem(
        self, kind: str, row: Row, record_id: str, field: str, code: str, message: str
    ) -> None:
        self.problems.append(
            InputProblem(
                file=self.files[kind].name,
                line=row.line,
                record_id=record_id,
                kind=KIND[kind],
                field=field,
                code=code,
                message=message,
            )
        )

    def _records(self, kind: str) -> list[tuple[Row, Any]]:
        """Parsed records of one file; rows with problems are reported, not returned."""
        path = self.files[kind]
        if kind == "accounts" and not path.exists():
            return []
        records: list[tuple[Row, Any]] = []
        seen: set[str] = set()
        for row in read_rows(path, kind, self.columns.get(kind, {}), self.max_bytes):
            record_id = row.values.get("id", "")
            if row.problem:
                self._problem(kind, row, record_id, "", "WRONG_COLUMN_COUNT", row.problem)
            elif not record_id:
                self._problem(kind, row, "", "id", "MISSING_ID", "row has no id")
            elif record_id in seen:
                self._problem(
                    kind,
                    row,
                    record_id,
                    "id",
                    "DUPLICATE_ID",
                    f"id {record_id!r} already appeared earlier in the file",
                )
            else:
                try:
                    record = BUILDERS[kind](row, self.separator)
                except BadValue as exc:
                    self._problem(kind, row, record_id, exc.field, exc.code, str(exc))
                    continue
                seen.add(record_id)
                records.append((row, attrs.evolve(record, origin=f"{path.name}:{row.line}")))
        return records

    def _check_references(
        self,
        kind: str,
        records: list[tuple[Row, Any]],
        rep_ids: set[str],
        attr: str,
        column: str,
        *,
        keep: str | None,
    ) -> list[Any]:
        """Report records whose ``attr`` names no rep; keep them with it cleared, or drop them."""
        checked = []
        for row, record in records:
            ref = getattr(record, attr)
            if not ref or ref in rep_ids:
                checked.append(record)
                continue
            suffix = f"; {keep}" if keep else ""
            code = "UNKNOWN_BACKUP" if column == "backup" else "UNKNOWN_OWNER"
            self._problem(
                kind, row, record.id, column, code, f"{column} {ref!r} is not a rep{suffix}"
            )
            if keep:
                checked.append(attrs.evolve(record, **{attr: ""}))
        return checked

    def _with_events(self, leads: list[Lead]) -> list[Lead]:
        """Attach ``events.csv`` rows (optional) to their leads; bad rows are reported."""
        path = self.files.get("events")
        if path is None or not path.exists():
            return leads
        known = {lead.id for lead in leads}
        found: dict[str, list[LeadEvent]] = {}
        for row in read_rows(path, "events", self.columns.get("events", {}), self.max_bytes):
            lead_id = row.values.get("lead_id", "")
            if row.problem:
                self._problem("events", row, lead_id, "", "WRONG_COLUMN_COUNT", row.problem)
                continue
            if not lead_id:
                self._problem("events", row, "", "lead_id", "MISSING_LEAD_ID", "row has no lead_id")
                continue
            if lead_id not in known:
                self._problem(
                    "events",
                    row,
                    lead_id,
                    "lead_id",
                    "UNKNOWN_LEAD",
                    f"lead_id {lead_id!r} is not a lead read from {self.files['leads'].name}",
                )
                continue
            try:
                event = _event(row)
            except BadValue as exc:
                self._problem("events", row, lead_id, exc.field, exc.code, str(exc))
                continue
            found.setdefault(lead_id, []).append(
                attrs.evolve(event, origin=f"{path.name}:{row.line}")
            )
        return [
            attrs.evolve(lead, events=lead.events + tuple(found[lead.id]))
            if lead.id in found
            else lead
            for lead in leads
        ]

    def read(self) -> Snapshot:
        """Reps first (other files refer to them), then accounts and leads."""
        self.problems = []
        rep_rows = self._records("reps")
        rep_ids = {rep.id for _, rep in rep_rows}
        # A typo in a backup or account owner must not cost a rep or an account: keep the
        # record without the reference. A lead owned by a stranger is not routable as is.
        reps = self._check_references(
            "reps", rep_rows, rep_ids, "backup_id", "backup", keep="rep kept without a backup"
        )
        accounts = self._check_references(
            "accounts",
            self._records("accounts"),
            rep_ids,
            "owner_id",
            "owner",
            keep="account kept without an owner",
        )
        leads = self._check_references(
            "leads", self._records("leads"), rep_ids, "owner_id", "owner", keep=None
        )
        leads = self._with_events(leads)
        return Snapshot(
            leads=tuple(leads),
            reps=tuple(reps),
            accounts=tuple(accounts),
            problems=tuple(self.problems),
        )
