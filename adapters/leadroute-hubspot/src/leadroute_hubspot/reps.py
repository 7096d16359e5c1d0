"""Reps from a portal, fully: owners, plus each user's time zone, hours, leave and more.

An owner record (``/crm/v3/owners``) says who can own records and whether they are
active. Everything else routing needs comes, later winning field by field, from:

1. HubSpot's users object (``/crm/v3/objects/users``, with ``users: true``; scope
   ``crm.objects.users.read``): ``hs_standard_time_zone``, ``hs_working_hours`` (a JSON
   list of ``{days, startMinute, endMinute}``), ``hs_out_of_office_hours`` (a JSON list
   of ``{startTimestamp, endTimestamp}`` in ms), ``hs_availability_status`` (``away``
   pauses the rep), the main and secondary language skills and ``hs_additional_phone``
   (developers.hubspot.com/docs/api/crm/users, "User properties"). A user is matched to
   its owner by ``hs_internal_user_id`` (the owner's ``userId``) or by email;
2. custom properties of the users object (``user_properties``), in the reps.csv grammar;
3. the policy's inline ``reps`` table, by owner id or email;
4. a ``reps_file`` overlay (``leadroute.profiles``), by owner id or email.

Owners' HubSpot teams are added to their pools (``teams_as_pools``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from leadroute.models import InputProblem, LeaveWindow, Rep
from leadroute.profiles import (
    Overlay,
    ProfileError,
    RepProfile,
    check_hours,
    merge_profiles,
    profile_from_text,
    read_overlay,
)
from leadroute_hubspot.mapping import HubSpotSettings, owner_teams, rep_from_owner

__all__ = ["USER_PROPERTIES", "build_reps", "hours_from_hubspot", "profile_from_user"]

# The users object's properties read for every user (besides ``user_properties``).
USER_PROPERTIES = (
    "hs_internal_user_id",
    "hs_email",
    "hs_standard_time_zone",
    "hs_working_hours",
    "hs_out_of_office_hours",
    "hs_availability_status",
    "hs_main_user_language_skill",
    "hs_secondary_user_language_skill",
    "hs_additional_phone",
)
_DAYS = {
    "MONDAY": ("mon",),
    "TUESDAY": ("tue",),
    "WEDNESDAY": ("wed",),
    "THURSDAY": ("thu",),
    "FRIDAY": ("fri",),
    "SATURDAY": ("sat",),
    "SUNDAY": ("sun",),
    "MONDAY_TO_FRIDAY": ("mon", "tue", "wed", "thu", "fri"),
    "SATURDAY_SUNDAY": ("sat", "sun"),
    "EVERY_DAY": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
}


def _json_list(field: str, text: str) -> list[Mapping[str, Any]]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ProfileError("BAD_HOURS", field, f"{field} is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ProfileError("BAD_HOURS", field, f"{field} is not a JSON list of objects")
    return value


def _clock(field: str, minute: Any) -> str:
    if isinstance(minute, bool) or not isinstance(minute, int) or not 0 <= minute <= 1440:
        raise ProfileError("BAD_HOURS", field, f"{field}: {minute!r} is not a minute of the day")
    return f"{minute // 60:02d}:{minute % 60:02d}"


def hours_from_hubspot(text: str) -> dict[str, str]:
    """``hs_working_hours`` as leadroute working hours, one entry per weekday.

    ``[{"days":"MONDAY_TO_FRIDAY","startMinute":540,"endMinute":1020}]`` ->
    ``{"mon": "09:00-17:00", ..., "fri": "09:00-17:00"}``; several ranges on one day are
    joined (``09:00-12:00, 13:00-17:00``).
    """
    field = "hs_working_hours"
    by_day: dict[str, list[str]] = {}
    for entry in _json_list(field, text):
        days = _DAYS.get(str(entry.get("days", "")).upper())
        if days is None:
            raise ProfileError("BAD_HOURS", field, f"{field}: unknown days {entry.get('days')!r}")
        window = (
            f"{_clock(field, entry.get('startMinute'))}-{_clock(field, entry.get('endMinute'))}"
        )
        for day in days:
            by_day.setdefault(day, []).append(window)
    return {day: ", ".join(sorted(windows)) for day, windows in by_day.items()}


def _leave_from_hubspot(text: str) -> tuple[LeaveWindow, ...]:
    field = "hs_out_of_office_hours"
    windows = []
    for entry in _json_list(field, text):
        start, end = entry.get("startTimestamp"), entry.get("endTimestamp")
        if not isinstance(start, int) or not isinstance(end, int) or end <= start:
            raise ProfileError(
                "BAD_LEAVE", field, f"{field}: {dict(entry)!r} is not a start and a later end (ms)"
            )
        windows.append(
            LeaveWindow(
                start=datetime.fromtimestamp(start / 1000, tz=UTC),
                end=datetime.fromtimestamp(end / 1000, tz=UTC),
            )
        )
    return tuple(windows)


def profile_from_user(
    user: Mapping[str, Any], settings: HubSpotSettings
) -> tuple[RepProfile, list[ProfileError]]:
    """A rep profile from one user record: HubSpot's own properties, then ``user_properties``."""
    props: Mapping[str, Any] = user.get("properties") or {}

    def text(name: str) -> str:
        return str(props.get(name) or "").strip()

    errors: list[ProfileError] = []
    given: dict[str, Any] = {}
    own, own_errors = profile_from_text({"timezone": text("hs_standard_time_zone")})
    errors += own_errors
    zone = own.timezone or "UTC"
    if text("hs_working_hours"):
        try:
            hours = hours_from_hubspot(text("hs_working_hours"))
            check_hours(hours, zone, "")
            given["hours"] = hours
        except ProfileError as exc:
            errors.append(exc)
    if text("hs_out_of_office_hours"):
        try:
            given["leave"] = _leave_from_hubspot(text("hs_out_of_office_hours"))
        except ProfileError as exc:
            errors.append(exc)
    status = text("hs_availability_status").lower()
    if status in ("available", "away"):
        given["paused"] = status == "away"
    languages = [
        text(p).lower() for p in ("hs_main_user_language_skill", "hs_secondary_user_language_skill")
    ]
    if any(languages):
        given["languages"] = tuple(dict.fromkeys(lang for lang in languages if lang))
    if text("hs_additional_phone"):
        given["phone"] = text("hs_additional_phone")
    custom, custom_errors = profile_from_text(
        {field: props.get(name) for field, name in settings.user_properties.items()},
        timezone=zone,
    )
    errors += custom_errors
    return merge_profiles(own, RepProfile(**given), custom), errors


def _owner_for_user(
    user: Mapping[str, Any], by_user_id: Mapping[str, str], by_email: Mapping[str, str]
) -> str:
    props: Mapping[str, Any] = user.get("properties") or {}
    internal = str(props.get("hs_internal_user_id") or "")
    email = str(props.get("hs_email") or "").lower()
    return by_user_id.get(internal) or by_email.get(email, "")


def build_reps(
    owners: Sequence[Mapping[str, Any]],
    users: Sequence[Mapping[str, Any]],
    settings: HubSpotSettings,
    *,
    workdir: Path,
    open_leads: Mapping[str, int] | None = None,
) -> tuple[list[Rep], list[InputProblem]]:
    """Every owner as a rep with its full profile, and every problem reading the profiles.

    A rep whose profile has an unreadable value takes no leads until it is fixed.
    """
    held = open_leads or {}
    reps = [rep_from_owner(o, held.get(str(o["id"]), 0)) for o in owners]
    by_user_id = {str(o.get("userId")): str(o["id"]) for o in owners if o.get("userId")}
    by_email = {str(o.get("email") or "").lower(): str(o["id"]) for o in owners if o.get("email")}
    base: dict[str, RepProfile] = {}
    problems: list[InputProblem] = []
    broken: set[str] = set()
    for user in users:
        owner_id = _owner_for_user(user, by_user_id, by_email)
        if not owner_id:
            continue  # a user who owns no records (no owner): nothing to route to
        profile, errors = profile_from_user(user, settings)
        base[owner_id] = profile
        if errors:
            broken.add(owner_id)
        problems += [
            _problem("hubspot:users", str(user.get("id", "")), owner_id, e) for e in errors
        ]
    for rep in reps:
        inline = settings.reps.get(rep.id) or settings.reps.get(rep.email) or RepProfile()
        base[rep.id] = merge_profiles(base.get(rep.id, RepProfile()), inline)
    overlay = read_overlay(workdir / settings.reps_file) if settings.reps_file else Overlay(file="")
    reps, overlay_problems = overlay.apply(reps, base)
    teams = {str(o["id"]): owner_teams(o) for o in owners} if settings.teams_as_pools else {}
    reps = [
        attrs.evolve(
            rep,
            pools=tuple(dict.fromkeys((*rep.pools, *teams.get(rep.id, ())))),
            active=rep.active and rep.id not in broken,
        )
        for rep in reps
    ]
    return reps, problems + overlay_problems


def _problem(file: str, user_id: str, owner_id: str, error: ProfileError) -> InputProblem:
    return InputProblem(
        file=f"{file}/{user_id}",
        line=None,
        record_id=owner_id,
        kind="rep",
        field=error.field,
        code=error.code,
        message=f"{error}; the rep takes no leads until it is fixed",
    )
