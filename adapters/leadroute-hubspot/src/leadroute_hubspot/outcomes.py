"""What reps did after routing, read back from the portal as ``Outcome`` records.

Every read (``route``, ``rebalance``, ``report --source hubspot``) looks back
``outcomes.since`` (30 days by default), so each costs the same however long the history,
and each ``Outcome`` is keyed by what happened, to which contact, by whom and when: the
same window read again records nothing twice.

* **Activities** logged on a contact (``calls``, ``emails``, ``meetings``, ``notes``; the
  CRM search of each object by ``hs_timestamp``, then each activity's contacts through
  the v4 association batch read): a call, an outgoing email (``hs_email_direction``
  ``EMAIL``) or a note is a ``first_touch`` at ``hs_timestamp`` by the activity's owner;
  a meeting is a ``meeting_booked`` when it was created (``hs_createdate``) by its owner.
* **Lead status and lifecycle stage changes** (``propertiesWithHistory`` on contacts
  modified in the window, 50 a batch read, HubSpot's limit): each new value named in
  ``outcomes.lead_statuses`` or ``outcomes.lifecycle_stages`` (by default
  ``ATTEMPTED_TO_CONTACT``/``CONNECTED`` are touches, ``IN_PROGRESS`` is the owner's
  acceptance, ``OPEN_DEAL`` and the ``opportunity``/``customer`` stages are conversions)
  at the time of the change, by the user who changed it (``updatedByUserId`` -> owner).
  leadroute's own writes of ``on_routed``/``on_fallback`` values are not outcomes.

Details name the kind of activity or the new value, never subjects or bodies (personal
data stays in HubSpot).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from leadroute.errors import PolicyError
from leadroute.logs import get_logger
from leadroute.models import Outcome, OutcomeKind
from leadroute.policy import parse_duration
from leadroute_hubspot.reading import PortalReader
from leadroute_hubspot.timestamps import parse_timestamp

__all__ = ["ACTIVITIES", "OutcomeSettings", "outcome_settings", "read_outcomes"]

log = get_logger(__name__)

SOURCE = "hubspot"
ACTIVITIES = ("calls", "emails", "meetings", "notes")
HISTORY_BATCH = 50  # HubSpot's limit for a batch read with propertiesWithHistory
KEYS = frozenset({"enabled", "since", "activities", "lead_statuses", "lifecycle_stages"})


@attrs.frozen(kw_only=True)
class OutcomeSettings:
    """Which activity and which property change becomes which outcome.

    Attributes:
        enabled: Whether reads bring outcomes back at all.
        since: How far back each read looks.
        activities: The activity objects read (any of ``calls, emails, meetings, notes``).
        lead_statuses: ``hs_lead_status`` value -> outcome kind.
        lifecycle_stages: ``lifecyclestage`` value -> outcome kind.
    """

    enabled: bool = True
    since: timedelta = timedelta(days=30)
    activities: tuple[str, ...] = ACTIVITIES
    lead_statuses: Mapping[str, OutcomeKind] = attrs.field(
        factory=lambda: {
            "ATTEMPTED_TO_CONTACT": OutcomeKind.FIRST_TOUCH,
            "CONNECTED": OutcomeKind.FIRST_TOUCH,
            "IN_PROGRESS": OutcomeKind.ACCEPTED,
            "OPEN_DEAL": OutcomeKind.CONVERTED,
        }
    )
    lifecycle_stages: Mapping[str, OutcomeKind] = attrs.field(
        factory=lambda: {
            "opportunity": OutcomeKind.CONVERTED,
            "customer": OutcomeKind.CONVERTED,
        }
    )

    def tracked(self) -> dict[str, Mapping[str, OutcomeKind]]:
        """Contact property -> value -> kind, for the properties whose history is read."""
        found = {"hs_lead_status": self.lead_statuses, "lifecyclestage": self.lifecycle_stages}
        return {name: values for name, values in found.items() if values}


def _kinds(value: Any, where: str) -> dict[str, OutcomeKind]:
    if not isinstance(value, Mapping):
        raise PolicyError("expected value: outcome kind", path=where)
    kinds = {}
    for key, kind in value.items():
        try:
            kinds[str(key)] = OutcomeKind(str(kind))
        except ValueError:
            raise PolicyError(
                f"{kind!r} is not an outcome kind ({', '.join(k.value for k in OutcomeKind)})",
                path=f"{where}.{key}",
            ) from None
    return kinds


def outcome_settings(value: Any) -> OutcomeSettings:
    """Check ``adapters.hubspot.outcomes``; errors name their path."""
    where = "adapters.hubspot.outcomes"
    if value is None:
        return OutcomeSettings()
    if not isinstance(value, Mapping):
        raise PolicyError("expected a mapping", path=where)
    for key in value:
        if key not in KEYS:
            raise PolicyError(
                f"unknown option (expected one of: {', '.join(sorted(KEYS))})",
                path=f"{where}.{key}",
            )
    defaults = OutcomeSettings()
    activities = value.get("activities", list(ACTIVITIES))
    if isinstance(activities, str) or not isinstance(activities, Sequence):
        raise PolicyError(f"expected a list of {', '.join(ACTIVITIES)}", path=f"{where}.activities")
    for name in activities:
        if name not in ACTIVITIES:
            raise PolicyError(
                f"{name!r} is not one of {', '.join(ACTIVITIES)}", path=f"{where}.activities"
            )
    try:
        since = parse_duration(str(value.get("since", "30d")))
    except (PolicyError, ValueError):
        raise PolicyError("expected a duration (e.g. 30d, 12h)", path=f"{where}.since") from None
    return OutcomeSettings(
        enabled=bool(value.get("enabled", True)),
        since=since,
        activities=tuple(str(a) for a in activities),
        lead_statuses=_kinds(
            value.get("lead_statuses", defaults.lead_statuses), f"{where}.lead_statuses"
        ),
        lifecycle_stages=_kinds(
            value.get("lifecycle_stages", defaults.lifecycle_stages),
            f"{where}.lifecycle_stages",
        ),
    )


def _ms(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))


def _activity_outcome(kind: str, props: Mapping[str, Any], contact: str) -> Outcome | None:
    owner = str(props.get("hubspot_owner_id") or "")
    if kind == "emails" and str(props.get("hs_email_direction") or "EMAIL") != "EMAIL":
        return None  # a reply or a forward from the contact is not the rep touching them
    if kind == "meetings":
        at = parse_timestamp(str(props.get("hs_createdate") or props.get("hs_timestamp") or ""))
        outcome_kind = OutcomeKind.MEETING_BOOKED
    else:
        at = parse_timestamp(str(props.get("hs_timestamp") or ""))
        outcome_kind = OutcomeKind.FIRST_TOUCH
    if at is None:
        return None
    return Outcome(
        kind=outcome_kind,
        lead_id=contact,
        rep_id=owner,
        at=at,
        source=SOURCE,
        detail=kind.removesuffix("s"),
        origin=f"hubspot:{kind}/{props.get('hs_object_id', '')}",
    )


def _activities(
    reader: PortalReader, settings: OutcomeSettings, since: datetime
) -> Iterable[Outcome]:
    for kind in settings.activities:
        props = ["hs_timestamp", "hubspot_owner_id", "hs_createdate"]
        if kind == "emails":
            props.append("hs_email_direction")
        found = reader.search_all(
            kind,
            [{"propertyName": "hs_timestamp", "operator": "GTE", "value": _ms(since)}],
            props,
        )
        if not found:
            continue
        by_id = {str(r["id"]): r.get("properties") or {} for r in found}
        links = reader.associated(kind, "contacts", list(by_id))
        for activity_id, contacts in links.items():
            for link in contacts:
                outcome = _activity_outcome(kind, by_id.get(activity_id, {}), link.to_id)
                if outcome is not None:
                    yield outcome


def _changes(
    reader: PortalReader,
    settings: OutcomeSettings,
    since: datetime,
    owner_of_user: Mapping[str, str],
    own_values: Mapping[str, set[str]],
) -> Iterable[Outcome]:
    tracked = settings.tracked()
    if not tracked:
        return
    changed = reader.search_all(
        "contacts",
        [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": _ms(since)},
            {"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"},
        ],
        [],
    )
    ids = [str(r["id"]) for r in changed]
    for start in range(0, len(ids), HISTORY_BATCH):
        body = reader.client.call(
            "POST",
            reader.client.objects("contacts") + "/batch/read",
            json={
                "inputs": [{"id": i} for i in ids[start : start + HISTORY_BATCH]],
                "properties": [],
                "propertiesWithHistory": list(tracked),
            },
        )
        for row in body.get("results", []):
            history = row.get("propertiesWithHistory") or {}
            for name, values in tracked.items():
                for version in history.get(name) or []:
                    value = str(version.get("value") or "")
                    kind = values.get(value)
                    at = parse_timestamp(str(version.get("timestamp") or ""))
                    if kind is None or at is None or at < since:
                        continue
                    ours = version.get("sourceType") == "INTEGRATION" and value in own_values.get(
                        name, set()
                    )
                    if ours:
                        continue  # leadroute's own on_routed/on_fallback write
                    user = str(version.get("updatedByUserId") or "")
                    yield Outcome(
                        kind=kind,
                        lead_id=str(row["id"]),
                        rep_id=owner_of_user.get(user, ""),
                        at=at,
                        source=SOURCE,
                        detail=f"{name} {value}",
                        origin=f"hubspot:contacts/{row['id']}",
                    )


def read_outcomes(
    reader: PortalReader,
    settings: OutcomeSettings,
    now: datetime,
    *,
    owners: Sequence[Mapping[str, Any]],
    own_values: Mapping[str, set[str]],
) -> list[Outcome]:
    """Every outcome in the window ending ``now``, in time order (see the module docstring)."""
    if not settings.enabled:
        return []
    since = now - settings.since
    owner_of_user = {str(o.get("userId")): str(o["id"]) for o in owners if o.get("userId")}
    outcomes = [
        *_activities(reader, settings, since),
        *_changes(reader, settings, since, owner_of_user, own_values),
    ]
    outcomes.sort(key=lambda o: (o.at, o.lead_id, str(o.kind)))
    log.info("hubspot.outcomes_read", outcomes=len(outcomes), since=since.isoformat())
    return outcomes
