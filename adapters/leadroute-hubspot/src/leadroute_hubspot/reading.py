"""Reading a portal: owners, contacts by search (past the 10,000 cap), companies and associations.

CRM search returns at most 10,000 results per query (paging past it is a 400), so
``search_all`` sorts by ``hs_object_id`` and, before a window would reach the cap,
starts a new query with ``hs_object_id > last id``. Records are de-duplicated by id
within a run (a record updated during the read can appear in two windows).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from leadroute.logs import get_logger
from leadroute_hubspot.client import HubSpotClient

__all__ = ["SEARCH_CAP", "Link", "PortalReader", "search_filters"]

log = get_logger(__name__)

SEARCH_CAP = 10_000  # HubSpot's limit on results per search query
ASSOCIATION_BATCH = 100


@attrs.frozen
class Link:
    """One association from a record.

    Attributes:
        to_id: The associated record's id.
        primary: HubSpot marks it primary (association type 1, contact to company).
    """

    to_id: str
    primary: bool = False


def search_filters(
    *,
    owned: bool,
    lifecycle_stages: Sequence[str] = (),
    created_since: datetime | None = None,
) -> list[dict[str, Any]]:
    """The filters of one search filter group (AND-ed): ownership, stage and creation time."""
    filters: list[dict[str, Any]] = [
        {
            "propertyName": "hubspot_owner_id",
            "operator": "HAS_PROPERTY" if owned else "NOT_HAS_PROPERTY",
        }
    ]
    if lifecycle_stages:
        filters.append(
            {"propertyName": "lifecyclestage", "operator": "IN", "values": list(lifecycle_stages)}
        )
    if created_since is not None:
        filters.append(
            {
                "propertyName": "createdate",
                "operator": "GTE",
                "value": str(int(created_since.timestamp() * 1000)),
            }
        )
    return filters


@attrs.define
class PortalReader:
    """Reads what a run needs from one portal.

    Attributes:
        client: The HubSpot client.
        window_cap: Results one search query may page through (HubSpot: 10,000).
        page_size: Search page size (at most 200).
    """

    client: HubSpotClient
    window_cap: int = SEARCH_CAP
    page_size: int = 200

    def owners(self) -> list[dict[str, Any]]:
        """Every owner, active then archived (``archived=true`` returns only archived ones)."""
        owners: dict[str, dict[str, Any]] = {}
        for archived in ("false", "true"):
            for owner in self._pages(self.client.owners(), {"archived": archived, "limit": 100}):
                owners.setdefault(str(owner["id"]), {**owner, "archived": archived == "true"})
        return list(owners.values())

    def companies(self, properties: Sequence[str]) -> list[dict[str, Any]]:
        """Every company with the given properties."""
        params = {"limit": 100, "properties": ",".join(properties), "archived": "false"}
        return list(self._pages(self.client.objects("companies"), params))

    def users(self, properties: Sequence[str]) -> list[dict[str, Any]]:
        """Every user of the portal (the users object) with the given properties."""
        params = {"limit": 100, "properties": ",".join(properties), "archived": "false"}
        return list(self._pages(self.client.objects("users"), params))

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            body = self.client.call(
                "GET", path, params={**params, **({"after": after} if after else {})}
            )
            yield from body.get("results", [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def search_all(
        self, kind: str, filters: Sequence[Mapping[str, Any]], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Every record matching ``filters``, across as many id windows as the cap needs."""
        seen: dict[str, dict[str, Any]] = {}
        path = self.client.objects(kind) + "/search"
        last_id = 0
        windows = 0
        while True:
            windows += 1
            window_start = last_id
            window_filters = [*filters]
            if last_id:
                window_filters.append(
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}
                )
            after = 0
            full = False
            while True:
                limit = min(self.page_size, self.window_cap - after)
                body = self.client.call(
                    "POST",
                    path,
                    json={
                        "filterGroups": [{"filters": window_filters}],
                        "properties": list(properties),
                        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                        "limit": limit,
                        "after": str(after),
                    },
                    search=True,
                )
                results = body.get("results", [])
                for record in results:
                    seen.setdefault(str(record["id"]), record)
                    last_id = max(last_id, int(record["id"]))
                next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
                if not next_after or not results:
                    break
                after = int(next_after)
                if after >= self.window_cap:
                    full = True  # the next page would be past the cap: open a new window
                    break
            if not full or last_id <= window_start:
                break  # done, or a window that did not advance (never loop on the same ids)
        log.info("hubspot.searched", kind=kind, records=len(seen), windows=windows)
        return list(seen.values())

    def company_ids(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each contact's associated company ids, the primary (type 1) first."""
        found: dict[str, list[str]] = {}
        for contact, links in self.associated("contacts", "companies", contact_ids).items():
            ordered = sorted(links, key=lambda link: not link.primary)
            found[contact] = [link.to_id for link in ordered]
        return found

    def associated(self, from_kind: str, to_kind: str, ids: Sequence[str]) -> dict[str, list[Link]]:
        """Every association of each record, 100 records a call, following each row's paging.

        HubSpot's v4 batch read pages per record: a row with more associations than one
        page carries ``paging.next.after``, which goes back in with that record's id
        (developers.hubspot.com, "Batch read associations"). Without following it, a
        contact with many companies could lose its primary one.
        """
        found: dict[str, list[Link]] = {}
        path = self.client.associations(from_kind, to_kind)
        pending: list[dict[str, str]] = [{"id": str(i)} for i in ids]
        while pending:
            chunk, pending = pending[:ASSOCIATION_BATCH], pending[ASSOCIATION_BATCH:]
            body = self.client.call("POST", path, json={"inputs": chunk})
            for row in body.get("results", []):
                source = str(row["from"]["id"])
                found.setdefault(source, []).extend(
                    Link(
                        to_id=str(t["toObjectId"]),
                        primary=any(a.get("typeId") == 1 for a in t.get("associationTypes", [])),
                    )
                    for t in row.get("to", [])
                )
                after = ((row.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": source, "after": str(after)})
        return found

    def contacts(
        self, contact_ids: Sequence[str], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The named contacts now, 100 a batch read (a webhook names which ones changed);
        ids HubSpot does not know (deleted since) are left out."""
        found: list[dict[str, Any]] = []
        path = self.client.objects("contacts") + "/batch/read"
        for start in range(0, len(contact_ids), ASSOCIATION_BATCH):
            chunk = contact_ids[start : start + ASSOCIATION_BATCH]
            body = self.client.call(
                "POST",
                path,
                json={"inputs": [{"id": c} for c in chunk], "properties": list(properties)},
            )
            found.extend(body.get("results", []))
        return found

    def owners_of(self, contact_ids: Sequence[str]) -> dict[str, str]:
        """Each contact's ``hubspot_owner_id`` now (``""``: none), 100 a batch read."""
        found: dict[str, str] = {}
        path = self.client.objects("contacts") + "/batch/read"
        for start in range(0, len(contact_ids), ASSOCIATION_BATCH):
            chunk = contact_ids[start : start + ASSOCIATION_BATCH]
            body = self.client.call(
                "POST",
                path,
                json={"inputs": [{"id": c} for c in chunk], "properties": ["hubspot_owner_id"]},
            )
            for row in body.get("results", []):
                props = row.get("properties") or {}
                found[str(row["id"])] = str(props.get("hubspot_owner_id") or "")
        return found

    def count(self, kind: str, filters: Sequence[Mapping[str, Any]]) -> int:
        """How many records match (the search's ``total``), in one request."""
        body = self.client.call(
            "POST",
            self.client.objects(kind) + "/search",
            json={"filterGroups": [{"filters": list(filters)}], "properties": [], "limit": 1},
            search=True,
        )
        return int(body.get("total", 0))
