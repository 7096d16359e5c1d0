"""Follow-up tasks for the new owner, created once even when a call is retried or the run restarts.

Each task carries leadroute's idempotency key in a custom task property
(``tasks.key_property``, default ``leadroute_key``). Before creating, the writer searches
for tasks already holding those keys and creates only the missing ones, so a retry
after a timeout, or a re-run after a crash, finds the first task instead of adding one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import structlog

from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.models import Effect
from leadroute_hubspot.client import HubSpotClient, Rejected
from leadroute_hubspot.mapping import TaskSettings, parse_timestamp

__all__ = ["TASK_TO_CONTACT", "TaskWriter"]

log = structlog.get_logger(__name__)

TASK_TO_CONTACT = 204  # HubSpot-defined association type: task -> contact
BATCH_LIMIT = 100
SEARCH_VALUES = 100  # keys per IN filter


def task_key(effect: Effect) -> str:
    """The task's idempotency key: one task per owner decision."""
    return f"task:{effect.decision_id}"


@attrs.define
class TaskWriter:
    """Creates follow-up tasks for owner writes that succeeded.

    Attributes:
        client: The HubSpot client.
        settings: Due time, subject, priorities and the key property.
        lead_types: Lead type by contact id, from this run's read (priority by type).
        names: Contact display names by id, for subjects.
    """

    client: HubSpotClient
    settings: TaskSettings
    lead_types: Mapping[str, str] = attrs.field(factory=dict)
    names: Mapping[str, str] = attrs.field(factory=dict)

    def properties(self, effect: Effect) -> dict[str, str]:
        """A task's properties: due time, subject, body naming the route, owner, priority, key."""
        p = effect.payload
        decided = parse_timestamp(str(p.get("decided_at", ""))) or datetime.now(UTC)
        due = (decided + self.settings.due_after).astimezone(UTC)
        lead_type = self.lead_types.get(effect.lead_id, "").strip().lower()
        priority = self.settings.priority.get(lead_type, self.settings.priority["default"])
        route = ", ".join(
            f"{label} {p[key]}"
            for label, key in (("rule", "rule"), ("pool", "pool"), ("queue", "queue"))
            if p.get(key)
        )
        name = self.names.get(effect.lead_id) or f"contact {effect.lead_id}"
        return {
            "hs_timestamp": due.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "hs_task_subject": self.settings.subject.format(
                lead_id=effect.lead_id, name=name, company=""
            ),
            "hs_task_body": (
                f"Routed by leadroute ({p.get('step', '')}{': ' + route if route else ''}). "
                f"{p.get('reason', '')} Policy {p.get('policy_version', '')}, "
                f"decision {p.get('decision_id', effect.decision_id)}."
            ),
            "hubspot_owner_id": str(p["owner_id"]),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": priority,
            "hs_task_type": "TODO",
            self.settings.key_property: task_key(effect),
        }

    def existing(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys already have a task."""
        found: set[str] = set()
        prop = self.settings.key_property
        path = self.client.objects("tasks") + "/search"
        for start in range(0, len(keys), SEARCH_VALUES):
            chunk = list(keys[start : start + SEARCH_VALUES])
            body = self.client.call(
                "POST",
                path,
                json={
                    "filterGroups": [
                        {"filters": [{"propertyName": prop, "operator": "IN", "values": chunk}]}
                    ],
                    "properties": [prop],
                    "limit": 200,
                },
                search=True,
            )
            found |= {str((r.get("properties") or {}).get(prop)) for r in body.get("results", [])}
        return found

    def create(self, effects: Sequence[Effect]) -> dict[str, str]:
        """Create the missing tasks; the failure reason by effect key for those that failed."""
        failed: dict[str, str] = {}
        have = self.existing([task_key(e) for e in effects])
        todo = [e for e in effects if task_key(e) not in have]
        for start in range(0, len(todo), BATCH_LIMIT):
            chunk = todo[start : start + BATCH_LIMIT]
            try:
                response = self.client.request(
                    "POST",
                    self.client.objects("tasks") + "/batch/create",
                    json={"inputs": [self._input(e) for e in chunk]},
                    idempotent=False,
                )
            except AdapterError as exc:
                # Maybe created, maybe not: the retry searches by key before creating again.
                failed |= {e.idem_key: str(exc) for e in chunk}
                if isinstance(exc, QuotaExhaustedError | RateLimitedError | AuthError):
                    raise
                continue
            if isinstance(response, Rejected):
                failed |= {e.idem_key: f"{response.category}: {response.message}" for e in chunk}
                continue
            body: Mapping[str, Any] = response.json()
            created = {
                str((r.get("properties") or {}).get(self.settings.key_property))
                for r in body.get("results", [])
            }
            for effect in chunk:
                if task_key(effect) not in created:
                    errors = body.get("errors") or [{}]
                    failed[effect.idem_key] = "task not created: " + str(
                        errors[0].get("message", "no result for this task")
                    )
        log.info("hubspot.tasks_created", created=len(todo) - len(failed), existing=len(have))
        return failed

    def _input(self, effect: Effect) -> dict[str, Any]:
        return {
            "properties": self.properties(effect),
            "associations": [
                {
                    "to": {"id": effect.lead_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": TASK_TO_CONTACT,
                        }
                    ],
                }
            ],
        }
