"""activity.csv: outcomes read from the folder, bad rows reported with their lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadroute.errors import InputFileError
from leadroute.models import OutcomeKind

LEADS = "id,email\nL1,a@x.com\nL2,b@y.com\n"


def test_activity_rows_become_outcomes(folder, adapter_for):
    """Each row is an Outcome with its kind normalised, time in UTC and source 'csv'."""
    path = folder(LEADS)
    (path / "activity.csv").write_text(
        "lead_id,rep_id,kind,at,detail\n"
        "L1,r1,First Touch,2026-11-02T09:04:00Z,call\n"
        "L1,r1,meeting-booked,2026-11-03T10:00:00+01:00,\n"
        "L2,,sla_breached,2026-11-02T10:00:00,\n",
        encoding="utf-8",
    )
    snap = adapter_for(path).read()
    assert [(o.lead_id, o.rep_id, o.kind) for o in snap.outcomes] == [
        ("L1", "r1", OutcomeKind.FIRST_TOUCH),
        ("L1", "r1", OutcomeKind.MEETING_BOOKED),
        ("L2", "", OutcomeKind.SLA_BREACHED),
    ]
    assert snap.outcomes[1].at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert snap.outcomes[0].detail == "call"
    assert {o.source for o in snap.outcomes} == {"csv"}
    assert snap.problems == ()


def test_no_activity_file_means_no_outcomes(folder, adapter_for):
    """activity.csv is optional."""
    assert adapter_for(folder(LEADS)).read().outcomes == ()


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        (",r1,first_touch,2026-11-02T09:00:00Z", "lead_id", "MISSING_LEAD_ID"),
        ("L9,r1,first_touch,2026-11-02T09:00:00Z", "lead_id", "UNKNOWN_LEAD"),
        ("L1,r7,first_touch,2026-11-02T09:00:00Z", "rep_id", "UNKNOWN_REP"),
        ("L1,r1,phoned,2026-11-02T09:00:00Z", "kind", "BAD_KIND"),
        ("L1,r1,first_touch,yesterday", "at", "BAD_DATE"),
        ("L1,r1,first_touch,", "at", "MISSING_DATE"),
        ("L1,r1,first_touch,2026-11-02T09:00:00Z,x,extra", "", "WRONG_COLUMN_COUNT"),
    ],
)
def test_each_bad_activity_row_is_reported_with_its_line(folder, adapter_for, row, field, code):
    """A bad activity row is an exception-report row naming file, line, field and code."""
    path = folder(LEADS)
    (path / "activity.csv").write_text(
        "lead_id,rep_id,kind,at,detail\nL2,r1,accepted,2026-11-02T09:00:00Z,\n" + row + "\n",
        encoding="utf-8",
    )
    snap = adapter_for(path).read()
    assert len(snap.outcomes) == 1
    [problem] = snap.problems
    assert (problem.file, problem.line, problem.kind) == ("activity.csv", 3, "activity")
    assert (problem.field, problem.code) == (field, code)


def test_activity_about_a_rejected_lead_is_kept(folder, adapter_for):
    """A lead rejected for a bad cell is still in leads.csv, so its activity is not an error."""
    path = folder("id,employees\nL1,lots\n")
    (path / "activity.csv").write_text(
        "lead_id,kind,at\nL1,first_touch,2026-11-02T09:00:00Z\n", encoding="utf-8"
    )
    snap = adapter_for(path).read()
    assert [p.code for p in snap.problems] == ["BAD_NUMBER"]
    assert len(snap.outcomes) == 1


def test_activity_without_a_lead_column_is_a_file_error(folder, adapter_for):
    """An activity file with no lead_id column cannot be used at all: one line, line 1."""
    path = folder(LEADS)
    (path / "activity.csv").write_text("lead,kind,at\nL1,first_touch,2026\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"activity\.csv:1: no 'lead_id' column"):
        adapter_for(path).read()


def test_activity_columns_can_be_mapped(folder, adapter_for):
    """A CRM's activity export maps onto the fields through adapters.csv.columns.activity."""
    path = folder(LEADS)
    (path / "activity.csv").write_text(
        "Lead,Type,Date\nL2,converted,2026-11-05\n", encoding="utf-8"
    )
    adapter = adapter_for(
        path, columns={"activity": {"lead_id": "Lead", "kind": "Type", "at": "Date"}}
    )
    [outcome] = adapter.read().outcomes
    assert (outcome.lead_id, outcome.kind) == ("L2", OutcomeKind.CONVERTED)


def test_a_file_mapped_to_another_input_is_not_read_as_activity(folder, adapter_for):
    """files.events: activity.csv makes that file behaviour events, not outcomes."""
    path = folder(LEADS)
    (path / "activity.csv").write_text("lead_id,kind,at\nL2,webinar,2026-11-01\n", encoding="utf-8")
    snap = adapter_for(path, files={"events": "activity.csv"}).read()
    assert snap.outcomes == () and snap.problems == ()
