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
from leadroute.logs import get_logger
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
    CellReader,
    parse_bool,
    parse_cap,
    parse_datetime,
    parse_float,
    parse_hours,
    parse_int,
    parse_leave,
    parse_pauses,
    parse_skills,
    parse_start,
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

log = get_logger(__name__)

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
    "pauses",
    "start_date",
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


@attrs.frozen(kw_only=True)
class Row:
    """One data row: its first physical line, known fields by name, and the other columns.

    Attributes:
        line: 1-based line where the record starts (the header is line 1).
        values: leadroute field name -> cell text (``""`` when the column is absent).
        extras: Other columns, by their header as written.
        problem: A structural problem with the row itself (too many cells, a stray quote).
        code: The exception-report code of ``problem``.
    """

    line: int
    values: Mapping[str, str]
    extras: Mapping[str, str]
    problem: str = ""
    code: str = "WRONG_COLUMN_COUNT"


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


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
    # Excel's "Unicode text" and some CRM exports are UTF-16 with a byte-order mark: the
    # mark says exactly how to decode them, so they are read rather than refused.
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _nonempty(data.decode(encoding), name)
            except UnicodeDecodeError:
                raise InputFileError(
                    f"starts with a {encoding.upper()} byte-order mark but is not {encoding.upper()}",
                    file=name,
                ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputFileError(_nul_reason(data), file=name, line=data.count(b"\n", 0, nul) + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            "is not UTF-8 (export as CSV UTF-8)",
            file=name,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    return _nonempty(text, name)


def _nonempty(text: str, name: str) -> str:
    if not text.strip():
        raise InputFileError("is empty (expected a header row)", file=name)
    return text


def _nul_reason(data: bytes) -> str:
    """Why a file holds NUL bytes: UTF-16 text without its mark, or not text at all."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    if head.startswith(b"PK\x03\x04"):
        return "is a zip archive (an .xlsx workbook?), not a CSV: save it as CSV UTF-8"
    # ASCII text in UTF-16 has a NUL in every other byte (the high byte of each character).
    if odd and (odd.count(0) > 0.9 * len(odd) or even.count(0) > 0.9 * len(even)):
        return "looks like UTF-16 text without a byte-order mark: save it as CSV UTF-8"
    return "contains a NUL byte (is this a spreadsheet, not a CSV?)"


_DELIMITERS = (";", "\t", "|")


def _delimiter(header_line: str, key: str) -> str:
    """The file's delimiter: ``,`` unless only another one makes a header naming ``key``.

    European spreadsheets save "CSV" with semicolons; reading such a header with commas
    gives one column named ``id;email;...``. ``csv.Sniffer`` guesses from the data, which
    can be anything; the key column is what the file must have, so it decides.
    """
    if key in _names(header_line, ","):
        return ","
    for candidate in _DELIMITERS:
        if key in _names(header_line, candidate):
            log.info("csv.delimiter_detected", delimiter=candidate)
            return candidate
    return ","


def _names(line: str, delimiter: str) -> list[str]:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return [c.strip().lower() for c in cells]


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
        hint = ""
        if len(header) == 1 and any(d in header[0] for d in _DELIMITERS):
            hint = (
                f" (the header reads as one column {header[0].strip()[:40]!r}: "
                "is the file delimited with something other than commas?)"
            )
        raise InputFileError(
            f"no {mapping.get(key, key)!r} column in the header{hint}", file=name, line=1
        )
    return index


UNBALANCED_QUOTE = "UNBALANCED_QUOTE"


def _from(lines: Sequence[str], index: int) -> Iterator[str]:
    """The physical lines from ``index`` (0-based) on, without copying the list."""
    for i in range(index, len(lines)):
        yield lines[i]


def _cell_count(line: str, delimiter: str) -> int:
    """Cells in a line read with quotes ignored: how many a row there would have."""
    return len(line.split(delimiter)) if line.strip() else 0


def _sound(
    lines: Sequence[str],
    start: int,
    end: int,
    cells: Sequence[str],
    width: int,
    delimiter: str,
    *,
    after_break: bool,
) -> bool:
    """Whether a well-formed record at ``start..end`` (1-based lines) is a row, not a swallow.

    A record may span lines legitimately (an address with a line break), but then it has
    the header's cell count and none of its later lines is a whole row. A short line with
    a lone quote is the tail of a row a quote broke, not a row with its last cells left
    out. Right after a broken row, a line is taken as a row again only with at least the
    header's cells.
    """
    if end == start:
        if after_break:
            return len(cells) >= width
        return len(cells) >= width or not lines[start - 1].count('"') % 2
    if len(cells) != width:
        return False
    return all(
        _cell_count(lines[n - 1], delimiter) < max(width, 2) for n in range(start + 1, end + 1)
    )


def _records(
    lines: Sequence[str], width: int, delimiter: str
) -> Iterator[tuple[int, list[str] | None, int]]:
    """``(start, cells, broken_since)`` per data record; ``cells`` is None for a line
    that cannot be read as a row, ``broken_since`` the line where the trouble began.

    Quotes are read strictly: a quoted cell must close right before a delimiter or the end
    of a line. A stray quote breaks the record it opens in; reading then resumes at the
    next line that is a whole row by itself, so the rows a runaway quote would have merged
    into one cell are read as rows, and each line in between is reported, never dropped.
    """
    line, since = 2, 0
    while line <= len(lines):
        first = line
        reader = csv.reader(_from(lines, first - 1), delimiter=delimiter, strict=True)
        try:
            for cells in reader:
                end = first - 1 + reader.line_num
                if any(c.strip() for c in cells):
                    if not _sound(
                        lines, line, end, cells, width, delimiter, after_break=bool(since)
                    ):
                        break
                    yield line, cells, 0
                    since = 0
                line = end + 1
            else:
                return
        except csv.Error:
            pass
        since = since or line
        if lines[line - 1].strip():
            yield line, None, since
        line += 1


def _row_id(line: str, index: Mapping[str, int], key: str, delimiter: str) -> str:
    """The id a broken row would have had, read from its own line with quotes ignored."""
    cells = line.rstrip("\r\n").split(delimiter)
    position = index[key]
    return cells[position].strip().strip('"').strip() if position < len(cells) else ""


def read_rows(path: Path, kind: str, mapping: Mapping[str, str], max_bytes: int) -> Iterator[Row]:
    """Rows of one file, with their first line numbers; blank lines are skipped.

    Every physical data line is accounted for: it starts a row, continues a quoted cell
    that legitimately spans lines, or comes back as a row with an ``UNBALANCED_QUOTE``
    problem when a stray quote keeps it from being read.
    """
    text = _decode(path, max_bytes)
    lines = io.StringIO(text, newline="").readlines()
    name = path.name
    fields = FIELDS[kind]
    key = fields[0]
    delimiter = _delimiter(lines[0], mapping.get(key, key).strip().lower())
    # The whole file fits within the size limit, so no one cell is refused for its size; a
    # runaway quote is found by _records instead of as "field larger than field limit".
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        header = next(csv.reader(lines[:1], delimiter=delimiter))
    except csv.Error as exc:
        raise InputFileError(f"unreadable CSV header: {exc}", file=name, line=1) from None
    except StopIteration:
        header = []
    index = _column_index(header, fields, mapping, name)
    used = set(index.values())
    width = len(header)
    for start, cells, since in _records(lines, width, delimiter):
        if cells is None:
            yield _broken(lines[start - 1], start, since, index, fields, name, delimiter)
            continue
        padded = cells + [""] * (width - len(cells))
        values = {field: padded[i].strip() for field, i in index.items()}
        extras = {
            header[i].strip(): padded[i].strip()
            for i in range(width)
            if i not in used and header[i].strip()
        }
        problem = (
            f"row has {len(cells)} cells but the header has {width}" if len(cells) > width else ""
        )
        yield Row(line=start, values=values, extras=extras, problem=problem)


def _broken(
    text: str,
    line: int,
    since: int,
    index: Mapping[str, int],
    fields: Sequence[str],
    name: str,
    delimiter: str,
) -> Row:
    """A line a stray quote kept from being read, as a problem row with the id it names."""
    if line == since:
        log.warning("csv.unbalanced_quote", file=name, line=line)
        message = (
            "a quote in this row does not close before a comma or the end of a line "
            "(a stray quote?): the row is not read; fix the quote and run again"
        )
    else:
        message = (
            f"not a whole row after the stray quote at line {since}: "
            "not read; fix that quote and run again"
        )
    record_id = _row_id(text, index, fields[0], delimiter)
    values = dict.fromkeys(fields, "") | {fields[0]: record_id}
    return Row(line=line, values=values, extras={}, problem=message, code=UNBALANCED_QUOTE)


# --------------------------------------------------------------------------- records


def _lead(row: Row, sep: str, cells: CellReader) -> Lead:
    v = row.values
    return Lead(
        id=v["id"],
        email=v.get("email", ""),
        name=v.get("name", ""),
        company=v.get("company", ""),
        website=v.get("website", ""),
        country=v.get("country", "").upper(),
        state=v.get("state", "").upper(),
        employees=cells.read(parse_int, "employees", v.get("employees", ""), default=None),
        language=v.get("language", "").lower(),
        product=v.get("product", ""),
        lead_type=v.get("lead_type", ""),
        source=v.get("source", ""),
        created_at=cells.read(parse_datetime, "created_at", v.get("created_at", ""), default=None),
        owner_id=v.get("owner", ""),
        last_activity_at=cells.read(
            parse_datetime, "last_activity_at", v.get("last_activity_at", ""), default=None
        ),
        attributes=row.extras,
        phone=v.get("phone", ""),
    )


_NO_HOURS: Mapping[str, str] = {}
_NO_SKILLS: Mapping[str, int] = {}


def _rep(row: Row, sep: str, cells: CellReader) -> Rep:
    """A rep with every bad cell noted.

    Cells that decide who may take a lead (active, caps, leave, pause, hours) must be
    right, or the rep is not used: a guess could hand leads to someone away or full. The
    weight and skills only tune the choice, and the time zone of a rep with no hours and no
    leave only sets the day for daily caps: those are ignored when bad, and flagged.
    """
    v = row.values
    read = cells.read
    holidays_in = v.get("holidays", "").strip().upper()
    calendar = any(v.get(c, "").strip() for c in ("hours", "leave", "pauses", "start_date"))
    timezone = read(
        parse_timezone,
        "timezone",
        v.get("timezone", ""),
        default="UTC",
        instead="" if calendar else "UTC",
    )
    return Rep(
        id=v["id"],
        name=v.get("name", ""),
        email=v.get("email", ""),
        active=read(parse_bool, "active", v.get("active", ""), default=False),
        territories=tuple(t.upper() for t in split_list(v.get("territories", ""), sep)),
        languages=tuple(x.lower() for x in split_list(v.get("languages", ""), sep)),
        segments=tuple(split_list(v.get("segments", ""), sep)),
        products=tuple(split_list(v.get("products", ""), sep)),
        pools=tuple(split_list(v.get("pools", ""), sep)),
        capacity=Capacity(
            max_open=read(parse_int, "capacity", v.get("capacity", ""), default=None),
            per_day=read(parse_cap, "max_per_day", v.get("max_per_day", ""), default=None),
            per_week=read(parse_cap, "max_per_week", v.get("max_per_week", ""), default=None),
            per_type=read(parse_type_caps, "type_caps", v.get("type_caps", ""), sep, default={}),
        ),
        weight=read(
            lambda raw: parse_float("weight", raw, default=1.0),
            v.get("weight", ""),
            default=1.0,
            instead="weight 1",
        ),
        backup_id=v.get("backup", ""),
        open_leads=read(parse_int, "open_leads", v.get("open_leads", ""), default=None) or 0,
        availability=Availability(
            timezone=timezone,
            leave=read(parse_leave, "leave", v.get("leave", ""), sep, timezone, default=()),
            paused_until=read(
                parse_datetime, "paused_until", v.get("paused_until", ""), default=None
            ),
            paused=read(parse_bool, "paused", v.get("paused", "") or "false", default=False),
            pauses=read(parse_pauses, "pauses", v.get("pauses", ""), sep, timezone, default=()),
            starts_at=read(
                parse_start, "start_date", v.get("start_date", ""), timezone, default=None
            ),
            hours=read(
                parse_hours,
                "hours",
                v.get("hours", ""),
                sep,
                timezone,
                holidays_in,
                default=_NO_HOURS,
            ),
            holidays=holidays_in,
        ),
        skills=read(
            parse_skills,
            "skills",
            v.get("skills", ""),
            sep,
            default=_NO_SKILLS,
            instead="no skills",
        ),
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


def _account(row: Row, sep: str, cells: CellReader) -> Account:
    v = row.values
    return Account(
        id=v["id"],
        name=v.get("name", ""),
        domain=_domain(v.get("domain", "")),
        owner_id=v.get("owner", ""),
        status=v.get("status", "").lower(),
        last_activity_at=cells.read(
            parse_datetime, "last_activity_at", v.get("last_activity_at", ""), default=None
        ),
    )


BUILDERS: Mapping[str, Callable[[Row, str, CellReader], Any]] = {
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
                self._problem(kind, row, record_id, "", row.code, row.problem)
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
                cells = CellReader()
                record = BUILDERS[kind](row, self.separator, cells)
                # Every bad cell of the row is reported, not only the first.
                for exc in (*cells.errors, *cells.ignored):
                    self._problem(kind, row, record_id, exc.field, exc.code, str(exc))
                if cells.errors:
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
                self._problem("events", row, lead_id, "", row.code, row.problem)
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
