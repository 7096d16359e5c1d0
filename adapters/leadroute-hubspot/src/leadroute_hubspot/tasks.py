"""Follow-up tasks for the new owner, created once even when a call is retried or the run restarts.

Each task carries leadroute's idempotency key in a custom task property
(``tasks.key_property``, default ``leadroute_key``). Two ways to create them once:

* **Upsert** (when the key property requires unique values, which the run's property
  check reads): ``POST /crm/v3/objects/tasks/batch/upsert`` with ``idProperty`` set to
  the key property creates a task the first time and updates that same task on every
  retry (developers.hubspot.com "Create or update a batch of tasks by unique property
  values"). Upsert inputs carry no associations, so each task is then associated with
  its contact through the v4 default-association batch, which is harmless to repeat.
  The upsert never sends ``hs_task_status``: a retry must not reopen a task the rep has
  completed (HubSpot creates tasks as not started).
* **Search, then create** (a key property without unique values): search tasks by key
  and create the missing ones. HubSpot's search is eventually consistent (a task created
  a moment ago is not found yet), so the writer remembers the keys it created, and after
  a create whose outcome is unknown (a timeout) it waits ``index_lag`` seconds from that
  attempt before searching for those keys again; a restart long after finds them indexed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute.models import Effect
from leadroute_hubspot.client import HubSpotClient, Rejected
from leadroute_hubspot.mapping import TaskSettings, parse_timestamp

__all__ = ["TASK_TO_CONTACT", "TaskWriter", "task_key"]

log = get_logger(__name__)

TASK_TO_CONTACT = 204  # HubSpot-defined association type: task -> contact
BATCH_LIMIT = 100
SEARCH_VALUES = 100  # keys per IN filter
INDEX_LAG = 10.0  # seconds after a create before search is trusted to find it


def task_key(effect: Effect) -> str:
    """The task's idempotency key: one task per owner decision."""
    return f"task:{effect.decision_id}"


@attrs.define
class TaskWriter:
    """Creates follow-up tasks for owner writes that succeeded; lives as long as the adapter.

    Attributes:
        client: The HubSpot client.
        settings: Due time, subject, priorities and the key property.
        upsert: The key property holds unique values: upsert by it.
        lead_types: Lead type by contact id, from this run's read (priority by type).
        names: Contact display names by id, for subjects.
        index_lag: Seconds before a create is trusted to be searchable.
    """

    client: HubSpotClient
    settings: TaskSettings
    upsert: bool = False
    lead_types: Mapping[str, str] = attrs.field(factory=dict)
    names: Mapping[str, str] = attrs.field(factory=dict)
    index_lag: float = INDEX_LAG
    _created: set[str] = attrs.field(factory=set)
    _unsure: dict[str, float] = attrs.field(factory=dict)

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

    def create(self, effects: Sequence[Effect]) -> dict[str, str]:
        """Create (or find) each effect's task; the failure reason by effect key for those that failed.

        Raises ``QuotaExhaustedError``, ``RateLimitedError`` and ``AuthError``: the run stops.
        """
        if self.upsert:
            return self._upsert(effects)
        return self._search_then_create(effects)

    # ----------------------------------------------------------------- upsert

    def _upsert(self, effects: Sequence[Effect]) -> dict[str, str]:
        failed: dict[str, str] = {}
        prop = self.settings.key_property
        for start in range(0, len(effects), BATCH_LIMIT):
            chunk = effects[start : start + BATCH_LIMIT]
            inputs = [
                {
                    "id": task_key(e),
                    "idProperty": prop,
                    "properties": {
                        k: v
                        for k, v in self.properties(e).items()
                        if k not in (prop, "hs_task_status")
                    },
                }
                for e in chunk
            ]
            try:
                response = self.client.request(
                    "POST", self.client.objects("tasks") + "/batch/upsert", json={"inputs": inputs}
                )
            except (QuotaExhaustedError, RateLimitedError, AuthError):
                raise
            except AdapterError as exc:
                failed |= {e.idem_key: str(exc) for e in chunk}  # an upsert is safe to repeat
                continue
            if isinstance(response, Rejected):
                failed |= {e.idem_key: f"{response.category}: {response.message}" for e in chunk}
                continue
            ids = {
                str((r.get("properties") or {}).get(prop) or ""): str(r["id"])
                for r in response.json().get("results", [])
            }
            done = [e for e in chunk if task_key(e) in ids]
            failed |= {
                e.idem_key: "task not upserted: HubSpot's answer did not mention it"
                for e in chunk
                if task_key(e) not in ids
            }
            failed |= self._associate([(ids[task_key(e)], e) for e in done])
        log.info("hubspot.tasks_upserted", tasks=len(effects) - len(failed), failed=len(failed))
        return failed

    def _associate(self, pairs: Sequence[tuple[str, Effect]]) -> dict[str, str]:
        if not pairs:
            return {}
        inputs = [{"from": {"id": tid}, "to": {"id": e.lead_id}} for tid, e in pairs]
        try:
            response = self.client.request(
                "POST",
                self.client.associate_default("tasks", "contacts"),
                json={"inputs": inputs},
            )
        except (QuotaExhaustedError, RateLimitedError, AuthError):
            raise
        except AdapterError as exc:
            return {e.idem_key: f"task not associated with its contact: {exc}" for _, e in pairs}
        if isinstance(response, Rejected):
            why = f"task not associated with its contact: {response.category}: {response.message}"
            return {e.idem_key: why for _, e in pairs}
        return {}

    # ----------------------------------------------------------------- search then create

    def existing(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys already have a task, by search (eventually consistent)."""
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

    def _wait_for_index(self, keys: Sequence[str]) -> None:
        """Before searching for keys whose create was unsure, let the search index catch up."""
        since = [self._unsure[k] for k in keys if k in self._unsure]
        if since:
            wait = max(since) + self.index_lag - self.client.clock()
            if wait > 0:
                log.info("hubspot.tasks_wait_for_index", seconds=round(wait, 3))
                self.client.sleep(wait)

    def _search_then_create(self, effects: Sequence[Effect]) -> dict[str, str]:
        failed: dict[str, str] = {}
        keys = [task_key(e) for e in effects if task_key(e) not in self._created]
        self._wait_for_index(keys)
        have = self.existing(keys) | self._created
        self._created |= have & set(keys)
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
            except (QuotaExhaustedError, RateLimitedError, AuthError):
                raise
            except AdapterError as exc:
                # Maybe created, maybe not: the retry waits for the index, then searches.
                now = self.client.clock()
                self._unsure |= {task_key(e): now for e in chunk}
                failed |= {e.idem_key: str(exc) for e in chunk}
                continue
            if isinstance(response, Rejected):
                failed |= {e.idem_key: f"{response.category}: {response.message}" for e in chunk}
                continue
            body: Mapping[str, Any] = response.json()
            created = {
                str((r.get("properties") or {}).get(self.settings.key_property))
                for r in body.get("results", [])
            }
            self._created |= created
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
