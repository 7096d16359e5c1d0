"""events.csv and the phone column: behaviour events attach to their leads, bad rows are reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadroute.errors import InputFileError

LEADS = "id,email,phone,country\nL1,a@acme.com,+44 (0)20 7946 0958,UK\nL2,b@acme.com,,\n"


def test_phone_column_is_read_as_given(folder, adapter_for):
    """The phone cell reaches the lead untouched; normalizing it is the core's job."""
    [first, second] = adapter_for(folder(LEADS)).read().leads
    assert (first.phone, second.phone) == ("+44 (0)20 7946 0958", "")


def test_events_attach_to_their_leads_with_origin(folder, adapter_for):
    """Each events.csv row becomes a LeadEvent on its lead, in file order, with its line."""
    path = folder(LEADS)
    (path / "events.csv").write_text(
        "lead_id,kind,at,count\n"
        "L1,Pricing_Page,2026-11-01T10:00:00Z,3\n"
        "L1,demo_request,2026-11-02,\n"
        "L2,page_visit,2026-11-01T10:00:00+01:00,1\n",
        encoding="utf-8",
    )
    snapshot = adapter_for(path).read()
    by_id = {lead.id: lead for lead in snapshot.leads}
    assert [(e.kind, e.count, e.origin) for e in by_id["L1"].events] == [
        ("pricing_page", 3, "events.csv:2"),
        ("demo_request", 1, "events.csv:3"),
    ]
    assert by_id["L2"].events[0].at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert snapshot.problems == ()


def test_no_events_file_means_no_events(folder, adapter_for):
    """events.csv is optional."""
    assert all(lead.events == () for lead in adapter_for(folder(LEADS)).read().leads)


@pytest.mark.parametrize(
    ("row", "record_id", "field", "code"),
    [
        (",page_visit,2026-11-01,1", "", "lead_id", "MISSING_LEAD_ID"),
        ("L9,page_visit,2026-11-01,1", "L9", "lead_id", "UNKNOWN_LEAD"),
        ("L1,,2026-11-01,1", "L1", "kind", "MISSING_KIND"),
        ("L1,page_visit,,1", "L1", "at", "BAD_DATE"),
        ("L1,page_visit,last week,1", "L1", "at", "BAD_DATE"),
        ("L1,page_visit,2026-11-01,0", "L1", "count", "BAD_NUMBER"),
        ("L1,page_visit,2026-11-01,many", "L1", "count", "BAD_NUMBER"),
        ("L1,page_visit,2026-11-01,1,extra", "L1", "", "WRONG_COLUMN_COUNT"),
    ],
)
def test_each_bad_event_row_is_reported_with_its_line(
    folder, adapter_for, row, record_id, field, code
):
    """A bad event row is left out and reported as an 'event' problem with line and code."""
    path = folder(LEADS)
    (path / "events.csv").write_text(
        "lead_id,kind,at,count\nL1,page_visit,2026-11-01,1\n" + row + "\n", encoding="utf-8"
    )
    snapshot = adapter_for(path).read()
    assert len(next(lead for lead in snapshot.leads if lead.id == "L1").events) == 1
    assert [(p.kind, p.file, p.line, p.record_id, p.field, p.code) for p in snapshot.problems] == [
        ("event", "events.csv", 3, record_id, field, code)
    ]


def test_events_file_without_lead_id_column_stops(folder, adapter_for):
    """An events.csv without its key column is one clear file error."""
    path = folder(LEADS)
    (path / "events.csv").write_text("id,kind,at\nL1,x,2026-11-01\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"events\.csv.*no 'lead_id' column"):
        adapter_for(path).read()


def test_events_columns_can_be_mapped(folder, adapter_for):
    """A tracking export's own headers map onto lead_id, kind, at and count."""
    path = folder(LEADS)
    (path / "activity.csv").write_text(
        "Contact,Activity,When\nL2,webinar,2026-11-01\n", encoding="utf-8"
    )
    adapter = adapter_for(
        path,
        files={"events": "activity.csv"},
        columns={"events": {"lead_id": "Contact", "kind": "Activity", "at": "When"}},
    )
    by_id = {lead.id: lead for lead in adapter.read().leads}
    assert [e.kind for e in by_id["L2"].events] == ["webinar"]
