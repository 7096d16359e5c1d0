"""Rep profiles for CRM users: text values, a reps.csv overlay merged by id or email, precedence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadroute.errors import InputFileError
from leadroute.models import Capacity, Rep
from leadroute.profiles import RepProfile, merge_profiles, profile_from_text, read_overlay

CRM_REPS = [
    Rep(id="101", name="Ana Silva", email="ana@seller.example", pools=("na",)),
    Rep(id="201", name="Dora Klein", email="dora@seller.example", capacity=Capacity(max_open=9)),
    Rep(id="104", name="Former", email="former@seller.example", active=False),
]


def overlay(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reps.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_policy_feature_can_come_from_text():
    """Hours, holidays, leave, skills, accounts, caps, phone and the rest read from reps.csv text."""
    profile, errors = profile_from_text(
        {
            "timezone": "Europe/Berlin",
            "hours": "mon-fri=09:00-17:00",
            "holidays": "de-by",
            "leave": "2026-12-24/2026-12-26",
            "skills": "fintech:2;payments",
            "accounts": "Acme.com;5001",
            "territories": "de;at",
            "languages": ["DE", "en"],
            "capacity": 30,
            "max_per_day": "5",
            "type_caps": "demo=2",
            "phone": "+49 89 1234",
            "paused": "no",
            "weight": "1.5",
            "slack_id": "U024BE7LH",
        }
    )
    assert errors == []
    rep = profile.apply(CRM_REPS[1])
    a = rep.availability
    assert (a.timezone, a.hours, a.holidays, a.paused) == (
        "Europe/Berlin",
        {"mon-fri": "09:00-17:00"},
        "DE-BY",
        False,
    )
    assert a.leave[0].start == datetime(2026, 12, 23, 23, 0, tzinfo=UTC)  # Berlin's midnight
    assert rep.skills == {"fintech": 2, "payments": 1} and rep.accounts == ("acme.com", "5001")
    assert rep.territories == ("DE", "AT") and rep.languages == ("de", "en")
    assert rep.capacity == Capacity(max_open=30, per_day=5.0, per_type={"demo": 2})
    assert (rep.phone, rep.weight, rep.slack_id) == ("+49 89 1234", 1.5, "U024BE7LH")
    assert rep.pools == () and rep.email == "dora@seller.example"  # not given: the CRM's


def test_pause_windows_and_a_start_date_read_in_the_reps_zone():
    """Pauses take local times (end exclusive) or whole days; a start date is local midnight."""
    profile, errors = profile_from_text(
        {
            "timezone": "Asia/Tokyo",
            "pauses": "2026-11-04T13:00/2026-11-04T15:30;2026-11-06",
            "start_date": "2026-11-02",
        }
    )
    assert errors == []
    a = profile.apply(CRM_REPS[0]).availability
    assert [(w.start, w.end) for w in a.pauses] == [
        (datetime(2026, 11, 4, 4, 0, tzinfo=UTC), datetime(2026, 11, 4, 6, 30, tzinfo=UTC)),
        (datetime(2026, 11, 5, 15, 0, tzinfo=UTC), datetime(2026, 11, 6, 15, 0, tzinfo=UTC)),
    ]
    assert a.starts_at == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # Tokyo's midnight


@pytest.mark.parametrize(
    ("field", "value", "code", "says"),
    [
        ("pauses", "2026-11-04T13:00", "BAD_PAUSE", "needs an end"),
        ("pauses", "2026-11-04/2026-11-02", "BAD_PAUSE", "ends before it starts"),
        ("pauses", "wednesday/thursday", "BAD_PAUSE", "is not YYYY-MM-DD/YYYY-MM-DD"),
        ("start_date", "soon", "BAD_DATE", "is not a date (YYYY-MM-DD) or local time"),
    ],
)
def test_a_bad_pause_or_start_date_is_named(field, value, code, says):
    """An unreadable pause window or start date is an error naming the field and the value."""
    profile, errors = profile_from_text({field: value})
    assert [(e.code, e.field) for e in errors] == [(code, field)]
    assert says in str(errors[0]) and value in str(errors[0])
    assert profile == RepProfile()


def test_unreadable_values_are_named_and_the_rest_still_read():
    """Each bad value is an error with its code and field; readable ones are kept."""
    profile, errors = profile_from_text(
        {"hours": "weekdays", "leave": "2026-13-01", "skills": "x:high", "weight": "0", "nope": "1"}
    )
    assert sorted((e.code, e.field) for e in errors) == [
        ("BAD_HOURS", "hours"),
        ("BAD_LEAVE", "leave"),
        ("BAD_NUMBER", "weight"),
        ("BAD_SKILL", "skills"),
        ("UNKNOWN_FIELD", "nope"),
    ]
    assert profile == RepProfile()


def test_later_profiles_win_field_by_field_and_never_reactivate():
    """A later profile overrides the fields it gives; active=true cannot revive a CRM-inactive rep."""
    crm = RepProfile(timezone="America/New_York", paused=True, languages=("en",))
    mine = RepProfile(paused=False, active=True)
    merged = merge_profiles(crm, mine)
    assert (merged.timezone, merged.paused, merged.languages) == (
        "America/New_York",
        False,
        ("en",),
    )
    assert not merged.apply(CRM_REPS[2]).active


def test_overlay_merges_by_id_or_email_and_reports_strangers(tmp_path: Path):
    """Rows match CRM reps by id or email; an unknown row is UNKNOWN_REP with its line."""
    path = overlay(
        tmp_path,
        "id,timezone,skills,leave\n"
        "101,America/Chicago,fintech:3,\n"
        "DORA@seller.example,,,2026-12-01\n"
        "999,UTC,,\n",
    )
    reps, problems = read_overlay(path).apply(CRM_REPS)
    by_id = {r.id: r for r in reps}
    assert by_id["101"].availability.timezone == "America/Chicago"
    assert by_id["101"].skills == {"fintech": 3} and by_id["101"].pools == ("na",)
    assert len(by_id["201"].availability.leave) == 1
    assert by_id["201"].capacity.max_open == 9  # the overlay said nothing about it
    assert [(p.file, p.line, p.record_id, p.code) for p in problems] == [
        ("reps.csv", 4, "999", "UNKNOWN_REP")
    ]


def test_a_bad_overlay_value_takes_the_rep_out_of_routing(tmp_path: Path):
    """A rep whose row cannot be read takes no leads, and the report names file, line and field."""
    path = overlay(tmp_path, 'id,hours\n101,"mon-fri=9-5"\n')
    reps, [problem] = read_overlay(path).apply(CRM_REPS)
    assert not reps[0].active and reps[1].active
    assert (problem.line, problem.field, problem.code, problem.kind) == (
        2,
        "hours",
        "BAD_HOURS",
        "rep",
    )
    assert "takes no leads until it is fixed" in problem.message


def test_base_profiles_apply_under_the_file(tmp_path: Path):
    """CRM-side profiles (users object, custom fields) apply first; the file's cells win."""
    path = overlay(tmp_path, "id,timezone\n101,Asia/Tokyo\n")
    base = {"101": RepProfile(timezone="UTC", phone="+1 555"), "201": RepProfile(paused=True)}
    reps, problems = read_overlay(path).apply(CRM_REPS, base)
    assert problems == []
    assert (reps[0].availability.timezone, reps[0].phone) == ("Asia/Tokyo", "+1 555")
    assert reps[1].availability.paused


def test_quoted_cells_spanning_lines_keep_the_line_numbers_right(tmp_path: Path):
    """A row after a quoted multi-line cell is reported at the line where it starts."""
    path = overlay(tmp_path, 'id,leave\n101,"2026-12-01;\n2026-12-02"\n999,\n')
    _, [problem] = read_overlay(path).apply(CRM_REPS)
    assert problem.line == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,timezone\nAna,UTC\n", "needs an 'id' column"),
        ("id,favourite_colour\n101,blue\n", "column 'favourite_colour' is not a rep field"),
        ("id,timezone\n,UTC\n", "reps.csv:2: a row without an id"),
        ("id,timezone\n101,UTC,extra\n", "reps.csv:2: 3 cells for 2 columns"),
    ],
)
def test_an_unusable_overlay_is_one_line_naming_file_and_line(tmp_path: Path, text, message):
    """A file that cannot be used at all raises InputFileError (exit 2) naming where."""
    with pytest.raises(InputFileError, match=message):
        read_overlay(overlay(tmp_path, text))


def test_a_missing_overlay_names_the_path(tmp_path: Path):
    """A reps_file that does not exist is one clear error."""
    with pytest.raises(InputFileError, match="cannot read the reps overlay"):
        read_overlay(tmp_path / "nope.csv")
