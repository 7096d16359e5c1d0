"""Reading CSV files: every bad row is reported with its line, every unusable file stops."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadroute.errors import InputFileError, PolicyError

HEADER = "id,email,company,country,employees,language,created_at,owner\n"


def problems(snapshot):
    return [(p.kind, p.line, p.record_id, p.field, p.code) for p in snapshot.problems]


def test_rows_become_normalized_leads(folder, adapter_for):
    """Cells are normalized: country upper, language lower, sizes with commas, ISO times to UTC."""
    path = folder(HEADER + 'L1,a@acme.com,Acme,de,"1,200",DE,2026-11-02T10:15:00+01:00,r1\n')
    [lead] = adapter_for(path).read().leads
    assert (lead.country, lead.language, lead.employees) == ("DE", "de", 1200)
    assert lead.created_at == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert (lead.owner_id, lead.origin) == ("r1", "leads.csv:2")


def test_extra_columns_become_attributes(folder, adapter_for):
    """Columns leadroute does not know are kept as lead attributes for rules and plugins."""
    path = folder("id,email,utm_campaign\nL1,a@b.com,spring\n")
    [lead] = adapter_for(path).read().leads
    assert lead.attributes == {"utm_campaign": "spring"}


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        (",a@b.com,,,,,,", "id", "MISSING_ID"),
        ("L9,a@b.com,,,12x,,,", "employees", "BAD_NUMBER"),
        ("L9,a@b.com,,,-5,,,", "employees", "BAD_NUMBER"),
        ("L9,a@b.com,,,,,yesterday,", "created_at", "BAD_DATE"),
        ("L9,a@b.com,,,,,,rep-999", "owner", "UNKNOWN_OWNER"),
        ("L9,a@b.com,,,,,,,extra", "", "WRONG_COLUMN_COUNT"),
    ],
)
def test_each_bad_lead_row_is_reported_not_lost(folder, row, field, code, adapter_for):
    """A bad lead row is left out of the leads and reported with its line, field and code."""
    path = folder(HEADER + "L1,a@b.com,,,,,,\n" + row + "\n")
    snapshot = adapter_for(path).read()
    assert [lead.id for lead in snapshot.leads] == ["L1"]
    [(kind, line, _, got_field, got_code)] = problems(snapshot)
    assert (kind, line, got_field, got_code) == ("lead", 3, field, code)


def test_duplicate_ids_keep_the_first(folder, adapter_for):
    """A second row with the same id is reported as DUPLICATE_ID; the first is used."""
    path = folder(HEADER + "L1,a@b.com,,,,,,\nL1,c@d.com,,,,,,\n")
    snapshot = adapter_for(path).read()
    assert [lead.email for lead in snapshot.leads] == ["a@b.com"]
    assert problems(snapshot) == [("lead", 3, "L1", "id", "DUPLICATE_ID")]


def test_counts_add_up_and_line_numbers_survive_multiline_cells(folder, adapter_for):
    """Rows in the file = leads read + rejected rows, and a quoted multi-line cell shifts line numbers."""
    body = 'L1,a@b.com,"Acme\nHoldings",,,,,\nL2,a@b.com,,,lots,,,\n\nL3,c@d.com,,,,,,\n'
    snapshot = adapter_for(folder(HEADER + body)).read()
    assert [lead.id for lead in snapshot.leads] == ["L1", "L3"]
    assert problems(snapshot) == [("lead", 4, "L2", "employees", "BAD_NUMBER")]
    assert [lead.origin for lead in snapshot.leads] == ["leads.csv:2", "leads.csv:6"]


def test_bom_and_crlf(folder, adapter_for):
    """A UTF-8 BOM and Windows line endings are read like any other file."""
    path = folder(b"\xef\xbb\xbfid,email\r\nL1,a@b.com\r\nL2,c@d.com\r\n")
    assert [lead.id for lead in adapter_for(path).read().leads] == ["L1", "L2"]


def test_column_mapping_for_a_crm_export(folder, adapter_for):
    """A HubSpot-style export is read through the policy's column mapping."""
    path = folder("Record ID,Email,Country/Region,Contact owner\n101,a@b.com,gb,r1\n")
    adapter = adapter_for(
        path,
        columns={
            "leads": {
                "id": "Record ID",
                "email": "Email",
                "country": "Country/Region",
                "owner_id": "Contact owner",
            }
        },
    )
    [lead] = adapter.read().leads
    assert (lead.id, lead.country, lead.owner_id) == ("101", "GB", "r1")


def test_reps_are_parsed_with_lists_caps_leave_and_zones(folder, adapter_for):
    """Rep rows carry lists, caps, weights, time zones, leave windows and pauses."""
    reps = (
        "id,active,timezone,territories,languages,capacity,weight,open_leads,leave,paused_until\n"
        "r1,yes,Europe/Berlin,de; at ;,DE;EN,20,1.5,3,2026-12-01/2026-12-02,2026-11-03T12:00Z\n"
    )
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    [rep] = snapshot.reps
    assert rep.territories == ("DE", "AT") and rep.languages == ("de", "en")
    assert (rep.capacity.max_open, rep.weight, rep.open_leads) == (20, 1.5, 3)
    assert rep.availability.timezone == "Europe/Berlin"
    [window] = rep.availability.leave
    # Leave dates are the rep's own: Berlin's midnight is 23:00 UTC in winter.
    assert window.start == datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 2, 23, tzinfo=UTC)
    assert rep.availability.paused_until == datetime(2026, 11, 3, 12, tzinfo=UTC)


def test_reps_carry_hours_holidays_pause_and_stacked_caps(folder, adapter_for):
    """Working hours, a holiday region, an open-ended pause and day/week/type caps are read."""
    reps = (
        "id,timezone,hours,holidays,paused,capacity,max_per_day,max_per_week,type_caps\n"
        "r1,Europe/London,mon-fri=09:00-17:30;sat=10:00-12:00,gb-eng,yes,25,10,40,Demo=5;quote=2\n"
        "r2,,,,,,,,\n"
    )
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    r1, r2 = snapshot.reps
    assert r1.availability.hours == {"mon-fri": "09:00-17:30", "sat": "10:00-12:00"}
    assert (r1.availability.holidays, r1.availability.paused) == ("GB-ENG", True)
    cap = r1.capacity
    assert (cap.max_open, cap.per_day, cap.per_week) == (25, 10, 40)
    assert cap.per_type == {"demo": 5, "quote": 2}
    assert not r2.availability.has_calendar and not r2.availability.paused
    assert (r2.capacity.per_day, r2.capacity.per_week, r2.capacity.per_type) == (None, None, {})


def test_reps_carry_dated_pauses_and_a_start_date(folder, adapter_for):
    """Pause windows (local times or whole days) and a new hire's start date are read in the
    rep's own zone, so one export describes the whole week."""
    reps = (
        "id,timezone,pauses,start_date\n"
        "r1,Europe/Berlin,2026-11-04T12:00/2026-11-05T09:00;2026-11-06,\n"
        "r2,America/New_York,,2026-11-04\n"
    )
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    r1, r2 = snapshot.reps
    assert snapshot.problems == ()
    assert [(w.start, w.end) for w in r1.availability.pauses] == [
        (datetime(2026, 11, 4, 11, tzinfo=UTC), datetime(2026, 11, 5, 8, tzinfo=UTC)),
        (datetime(2026, 11, 5, 23, tzinfo=UTC), datetime(2026, 11, 6, 23, tzinfo=UTC)),
    ]
    assert r2.availability.starts_at == datetime(2026, 11, 4, 5, tzinfo=UTC)  # EST midnight


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("active", "maybe", "BAD_BOOLEAN"),
        ("capacity", "ten", "BAD_NUMBER"),
        ("leave", "2026-12-05/2026-12-01", "BAD_LEAVE"),
        ("leave", "next week", "BAD_LEAVE"),
        ("paused_until", "soon", "BAD_DATE"),
        ("paused", "later", "BAD_BOOLEAN"),
        ("pauses", "2026-11-05T12:00", "BAD_PAUSE"),
        ("pauses", "2026-11-05T12:00/2026-11-05T09:00", "BAD_PAUSE"),
        ("start_date", "next monday", "BAD_DATE"),
        ("hours", "weekdays=9-5", "BAD_HOURS"),
        ("hours", "mon-fri 09:00-17:00", "BAD_HOURS"),
        ("holidays", "XX", "BAD_HOURS"),
        ("max_per_day", "lots", "BAD_NUMBER"),
        ("max_per_week", "-1", "BAD_NUMBER"),
        ("type_caps", "demo", "BAD_NUMBER"),
        ("type_caps", "demo=many", "BAD_NUMBER"),
        ("open_leads", "many", "BAD_NUMBER"),
    ],
)
def test_a_rep_row_with_a_bad_required_cell_is_reported(folder, column, value, code, adapter_for):
    """A rep whose availability or caps cannot be read is not used, and the row is reported."""
    reps = f"id,{column}\nr1,\nr9,{value}\n"
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    assert [r.id for r in snapshot.reps] == ["r1"]
    assert problems(snapshot) == [("rep", 3, "r9", column, code)]
    assert snapshot.problems[0].file == "reps.csv"


@pytest.mark.parametrize(
    ("column", "value", "code", "kept"),
    [
        ("timezone", "Mars/Olympus", "BAD_TIMEZONE", "UTC used instead"),
        ("weight", "0", "BAD_NUMBER", "weight 1 used instead"),
        ("skills", "fintech:two", "BAD_SKILL", "no skills used instead"),
        ("skills", ":2", "BAD_SKILL", "no skills used instead"),
    ],
)
def test_a_rep_row_with_a_bad_optional_cell_is_kept_and_flagged(
    folder, column, value, code, kept, adapter_for
):
    """A bad weight, skill list or (for a rep without hours or leave) time zone is ignored, and said."""
    reps = f"id,{column}\nr1,\nr9,{value}\n"
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    r9 = next(r for r in snapshot.reps if r.id == "r9")
    assert (r9.weight, dict(r9.skills), r9.availability.timezone) == (1.0, {}, "UTC")
    assert problems(snapshot) == [("rep", 3, "r9", column, code)]
    assert snapshot.problems[0].message.endswith(f"ignored, {kept}")


def test_a_bad_time_zone_matters_when_the_rep_has_hours(folder, adapter_for):
    """A rep with working hours needs its time zone: a bad one keeps the rep out."""
    reps = "id,timezone,hours\nr1,,\nr9,Mars/Olympus,mon-fri=09:00-17:00\n"
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    assert [r.id for r in snapshot.reps] == ["r1"]
    assert problems(snapshot) == [("rep", 3, "r9", "timezone", "BAD_TIMEZONE")]


def test_every_bad_cell_of_a_row_is_reported(folder, adapter_for):
    """Two bad cells in one rep row (and in one lead row) are two problems, not the first only."""
    reps = "id,active,capacity,weight\nr1,,,\nr9,maybe,ten,0\n"
    leads = "id,email,employees,created_at\nL1,a@b.com,lots,yesterday\n"
    snapshot = adapter_for(folder(leads, reps=reps)).read()
    assert [r.id for r in snapshot.reps] == ["r1"]
    assert problems(snapshot) == [
        ("rep", 3, "r9", "active", "BAD_BOOLEAN"),
        ("rep", 3, "r9", "capacity", "BAD_NUMBER"),
        ("rep", 3, "r9", "weight", "BAD_NUMBER"),
        ("lead", 2, "L1", "employees", "BAD_NUMBER"),
        ("lead", 2, "L1", "created_at", "BAD_DATE"),
    ]


def test_reps_carry_skill_levels_and_named_accounts(folder, adapter_for):
    """The skills column gives levels (a bare skill is level 1); accounts are lower-cased."""
    reps = "id,territories,skills,accounts\nr1,NA-West;US:941,Fintech:2;payments,A-17;Acme.COM\n"
    [rep] = adapter_for(folder("id,email\n", reps=reps)).read().reps
    assert rep.skills == {"fintech": 2, "payments": 1}
    assert rep.accounts == ("a-17", "acme.com")
    assert rep.territories == ("NA-WEST", "US:941")


def test_unknown_backup_keeps_the_rep(folder, adapter_for):
    """A rep whose backup is not a rep is kept without the backup, and the typo is reported."""
    reps = "id,backup\nr1,r2\nr2,nobody\n"
    snapshot = adapter_for(folder("id,email\n", reps=reps)).read()
    assert {r.id: r.backup_id for r in snapshot.reps} == {"r1": "r2", "r2": ""}
    assert problems(snapshot) == [("rep", 3, "r2", "backup", "UNKNOWN_BACKUP")]
    assert "rep kept without a backup" in snapshot.problems[0].message


def test_accounts_are_read_and_unknown_owners_reported(folder, adapter_for):
    """Accounts keep a clean domain; one whose owner is not a rep is kept without an owner."""
    accounts = (
        "id,name,domain,owner,status\nA1,Acme,https://www.Acme.com/about,r1,Customer\n"
        "A2,Beta,beta.io,ghost,prospect\n"
    )
    snapshot = adapter_for(folder("id,email\n", accounts=accounts)).read()
    assert [(a.id, a.domain, a.owner_id, a.status) for a in snapshot.accounts] == [
        ("A1", "acme.com", "r1", "customer"),
        ("A2", "beta.io", "", "prospect"),
    ]
    assert problems(snapshot) == [("account", 3, "A2", "owner", "UNKNOWN_OWNER")]


def test_missing_accounts_file_means_no_accounts(folder, adapter_for):
    """accounts.csv is optional."""
    assert adapter_for(folder("id,email\n")).read().accounts == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email,company\na@b.com,B\n", "leads.csv:1: no 'id' column in the header"),
        (b"id,email,ID\n", "leads.csv:1: header names column 'ID' twice"),
        (b"id,email\nL1,a\x00b\n", "leads.csv:2: contains a NUL byte"),
        (b"PK\x03\x04\x14\x00\x06\x00", "leads.csv:1: is a zip archive (an .xlsx workbook?)"),
        ("id,email\n".encode("utf-16-le"), "leads.csv:1: looks like UTF-16 text without"),
        (b"name|mail\nx|y\n", "no 'id' column in the header (the header reads as one column"),
        (b"id,email\nL1,caf\xe9\n", "leads.csv:2: is not UTF-8"),
        (b"   \n", "leads.csv: is empty"),
    ],
)
def test_unusable_files_raise_one_line_errors(folder, content, message, adapter_for):
    """A file that cannot be used at all raises InputFileError naming the file and line."""
    with pytest.raises(InputFileError) as info:
        adapter_for(folder(content)).read()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_leads_file(tmp_path, adapter_for):
    """A folder without leads.csv is an input error naming the path."""
    (tmp_path / "reps.csv").write_text("id\nr1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"leads\.csv: file not found"):
        adapter_for(tmp_path).read()


def test_oversized_file(folder, adapter_for):
    """A file over the size limit is refused before it is parsed, naming the limit option."""
    path = folder("id,email\n" + "L1,a@b.com\n" * 200_000)
    with pytest.raises(InputFileError, match=r"file is 2\.1 MiB, over the 1 MiB limit"):
        adapter_for(path, max_file_mb=1).read()


def test_mapped_column_missing_from_header(folder, adapter_for):
    """A column mapping that names a header the file lacks is an input error."""
    with pytest.raises(InputFileError, match=r"mapped column 'E-mail' \(for email\)"):
        adapter_for(folder("id,email\n"), columns={"leads": {"email": "E-mail"}}).read()


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"colour": "blue"}, "adapters.csv.colour"),
        ({"columns": {"leads": {"favourite": "x"}}}, "adapters.csv.columns.leads.favourite"),
        ({"columns": {"deals": {}}}, "adapters.csv.columns.deals"),
        ({"list_separator": ","}, "adapters.csv.list_separator"),
        ({"max_file_mb": "big"}, "adapters.csv.max_file_mb"),
    ],
)
def test_bad_options_are_policy_errors(folder, options, path, adapter_for):
    """Adapter options are checked like the rest of the policy, naming their path."""
    with pytest.raises(PolicyError, match=path.replace(".", r"\.")):
        adapter_for(folder("id,email\n"), **options)


def test_demo_headers_are_columns_the_reader_knows():
    """The core's demo writes only columns this adapter reads (the two lists are kept apart),
    plus ``industry``, an extra column the reader keeps as a lead attribute."""
    from leadroute.demo.generate import ACCOUNT_HEADER, LEAD_HEADER, REP_HEADER
    from leadroute_csv.reader import ACCOUNT_FIELDS, LEAD_FIELDS, REP_FIELDS

    assert set(LEAD_HEADER) - set(LEAD_FIELDS) == {"industry"}
    assert set(REP_HEADER) <= set(REP_FIELDS)
    assert set(ACCOUNT_HEADER) <= set(ACCOUNT_FIELDS)


def test_accounts_last_activity_is_read_and_bad_times_reported(folder, adapter_for):
    """accounts.csv's optional last_activity_at becomes a UTC time; a bad one is a row problem."""
    accounts = (
        "id,name,domain,owner,status,last_activity_at\n"
        "A1,Acme,acme.com,r1,customer,2026-10-01T12:00:00+02:00\n"
        "A2,Beta,beta.io,r1,prospect,\n"
        "A3,Gamma,gamma.io,r1,prospect,last tuesday\n"
    )
    snapshot = adapter_for(folder("id,email\n", accounts=accounts)).read()
    assert [(a.id, a.last_activity_at) for a in snapshot.accounts] == [
        ("A1", datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("A2", None),
    ]
    assert [(p.record_id, p.field) for p in snapshot.problems] == [("A3", "last_activity_at")]


def test_phone_column_is_kept_as_written(folder, adapter_for):
    """A lead's phone is read as written, for duplicate detection to normalize."""
    snapshot = adapter_for(
        folder("id,email,phone\nL1,a@b.io,+44 (0)20 7946 0958\nL2,c@d.io,\n")
    ).read()
    assert [lead.get("phone") for lead in snapshot.leads] == ["+44 (0)20 7946 0958", ""]


# --------------------------------------------------------------------------- stray quotes


def _lines(snapshot):
    """Lines accounted for: where each lead starts, and each lead row in the exception report."""
    starts = {int(lead.origin.rpartition(":")[2]) for lead in snapshot.leads}
    return starts | {p.line for p in snapshot.problems if p.kind == "lead"}


def test_a_stray_quote_costs_only_its_own_row(folder, adapter_for):
    """A quote that opens and never closes: its row is reported, the rows after it are read."""
    rows = [f"L{i},a{i}@b.com,Acme {i},DE,5,de,," for i in range(1, 9)]
    rows[2] = 'L3,a3@b.com,"Acme 3,DE,5,de,,'
    snapshot = adapter_for(folder(HEADER + "\n".join(rows) + "\n")).read()
    assert [lead.id for lead in snapshot.leads] == ["L1", "L2", "L4", "L5", "L6", "L7", "L8"]
    assert [(p.line, p.record_id, p.code) for p in snapshot.problems] == [
        (4, "L3", "UNBALANCED_QUOTE")
    ]
    assert "stray quote" in snapshot.problems[0].message


def test_two_stray_quotes_do_not_merge_the_rows_between_them(folder, adapter_for):
    """A quote opened in one row and closed in a later one merges nothing: each row is read."""
    rows = [f"L{i},a{i}@b.com,Acme {i},DE,5,de,," for i in range(1, 9)]
    rows[1] = 'L2,a2@b.com,"Acme 2,DE,5,de,,'
    rows[4] = 'L5,a5@b.com,Acme 5",DE,5,de,,'
    snapshot = adapter_for(folder(HEADER + "\n".join(rows) + "\n")).read()
    assert [lead.id for lead in snapshot.leads] == ["L1", "L3", "L4", "L5", "L6", "L7", "L8"]
    assert [(p.line, p.record_id) for p in snapshot.problems] == [(3, "L2")]


def test_a_stray_quote_in_the_last_row_is_reported(folder, adapter_for):
    """A quote left open at the end of the file makes its row a problem, not a garbled lead."""
    snapshot = adapter_for(folder(HEADER + 'L1,a@b.com,,,,,,\nL2,c@d.com,"Acme,DE,,,,\n')).read()
    assert [lead.id for lead in snapshot.leads] == ["L1"]
    assert [(p.line, p.record_id, p.code) for p in snapshot.problems] == [
        (3, "L2", "UNBALANCED_QUOTE")
    ]


def test_a_huge_runaway_quote_is_reported_like_a_small_one(folder, adapter_for):
    """A swallow past the old 1 MiB cell limit costs one row, not the file."""
    rows = [f"L{i},a{i}@b.com,{'x' * 200},DE,5,de,," for i in range(1, 6001)]
    rows[0] = rows[0].replace(",x", ',"x', 1)
    snapshot = adapter_for(folder(HEADER + "\n".join(rows) + "\n")).read()
    assert len(snapshot.leads) == 5999
    assert [p.record_id for p in snapshot.problems] == ["L1"]


def test_a_legitimately_quoted_cell_may_hold_a_long_text(folder, adapter_for):
    """A closed quoted cell over 1 MiB is a cell like any other (the file size limit bounds it)."""
    path = folder(b'id,email,notes\nL1,a@b.com,"' + b"x" * (1024 * 1024 + 10) + b'"\n')
    [lead] = adapter_for(path).read().leads
    assert len(lead.attributes["notes"]) == 1024 * 1024 + 10


def test_a_well_formed_quote_that_swallows_rows_is_still_a_stray_quote(folder, adapter_for):
    """A quoted cell that closes properly but holds whole rows is not a multi-line cell."""
    body = (
        'L1,a@b.com,"Acme,DE,5,de,,\nL2,c@d.com,Beta,DE,5,de,,\n'
        'L3,e@f.com,Gamma",DE,5,de,,\nL4,g@h.com,Delta,DE,5,de,,\n'
    )
    snapshot = adapter_for(folder(HEADER + body)).read()
    assert [lead.id for lead in snapshot.leads] == ["L2", "L3", "L4"]
    assert [p.record_id for p in snapshot.problems] == ["L1"]


def test_a_stray_quote_in_the_demo_loses_no_lead(tmp_path):
    """The demo's leads with one stray quote: every one of the 300 is routed or reported."""
    from leadroute.adapters import AdapterConfig
    from leadroute.demo import write_demo
    from leadroute.policy import load_policy
    from leadroute_csv.adapter import CsvAdapter

    files = write_demo(tmp_path, seed=7, now=datetime(2026, 11, 2, 9, tzinfo=UTC))
    leads = tmp_path / "leads.csv"
    lines = leads.read_text(encoding="utf-8").split("\n")
    lines[50] = lines[50].replace(",", ',"', 3)
    leads.write_text("\n".join(lines), encoding="utf-8")
    config = AdapterConfig(
        policy=load_policy(files.policy), options={"input_dir": str(tmp_path)}, workdir=tmp_path
    )
    snapshot = CsvAdapter.from_config(config).read()
    rejected = {p.line for p in snapshot.problems if p.kind == "lead"}
    assert len(snapshot.leads) + len(rejected) == 300
    assert {p.line for p in snapshot.problems if p.code == "UNBALANCED_QUOTE"} == {51}


WIDTH_HEADER = "id,email,company,country,employees\n"
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .-", min_size=1, max_size=8)


@st.composite
def files_with_stray_quotes(draw):
    """Rows of plain cells, some with a legitimate multi-line company, then stray quotes."""
    n = draw(st.integers(min_value=1, max_value=25))
    rows = []
    for i in range(n):
        company = draw(_WORD)
        if draw(st.integers(0, 6)) == 0:
            company = f'"{company}\n{draw(_WORD)}"'
        rows.append([f"L{i}", f"a{i}@b.com", company, draw(_WORD), str(draw(st.integers(1, 999)))])
    touched = set()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        row = draw(st.integers(0, n - 1))
        cell = draw(st.integers(0, 4))
        text = rows[row][cell]
        at = draw(st.integers(0, len(text)))
        rows[row][cell] = text[:at] + '"' + text[at:]
        touched.add(row)
    return rows, touched


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=files_with_stray_quotes(), crlf=st.booleans())
def test_every_physical_row_is_accounted_for_whatever_the_quotes(drawn, crlf):
    """Wherever stray quotes fall, each data row is a lead or an exception row; none vanish."""
    from leadroute.adapters import AdapterConfig
    from leadroute.policy import parse_policy
    from leadroute_csv.adapter import CsvAdapter

    rows, touched = drawn
    newline = "\r\n" if crlf else "\n"
    starts, line = [], 2
    for row in rows:
        starts.append(line)
        line += sum(cell.count("\n") for cell in row) + 1
    body = "".join(",".join(row).replace("\n", newline) + newline for row in rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "leads.csv").write_text(WIDTH_HEADER + body, encoding="utf-8", newline="")
        (folder / "reps.csv").write_text("id\nr1\n", encoding="utf-8")
        config = AdapterConfig(
            policy=parse_policy("version: '1'\nfallback: {owner: r1}\n"),
            options={"input_dir": tmp},
            workdir=folder,
        )
        snapshot = CsvAdapter.from_config(config).read()
    assert set(starts) <= _lines(snapshot)
    by_line = {line: (i, row) for i, (line, row) in enumerate(zip(starts, rows, strict=True))}
    for lead in snapshot.leads:
        # No lead is made of the pieces of a broken row ...
        i, row = by_line[int(lead.origin.rpartition(":")[2])]
        if i not in touched:
            # ... and a lead read from a row without a stray quote is that row, exactly.
            assert (lead.id, lead.email) == (row[0], row[1])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_with_a_byte_order_mark_is_read(folder, adapter_for, encoding):
    """Excel's "Unicode text" (UTF-16 with a byte-order mark) is decoded, not called a spreadsheet."""
    text = "id,email,company\nL1,a@b.com,Müller GmbH\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    [lead] = adapter_for(folder(data)).read().leads
    assert (lead.id, lead.company) == ("L1", "Müller GmbH")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_semicolon_or_tab_delimited_file_is_read(folder, adapter_for, delimiter):
    """A European "CSV" with semicolons (or a tab-separated export) is read by its delimiter."""
    d = delimiter
    text = f'id{d}email{d}employees{d}country\nL1{d}a@b.com{d}"1,200"{d}DE\nL2{d}c@d.com{d}5{d}AT\n'
    leads = adapter_for(folder(text)).read().leads
    assert [(lead.id, lead.employees, lead.country) for lead in leads] == [
        ("L1", 1200, "DE"),
        ("L2", 5, "AT"),
    ]
