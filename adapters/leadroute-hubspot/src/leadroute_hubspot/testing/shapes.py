"""HubSpot's wire shapes, as the fake portal answers them: errors, records, pages, search filters.

Each shape follows HubSpot's API reference: ``SimplePublicObject`` records whose property
values are all strings; forward paging with ``paging.next.after``; error bodies with
``status``, ``message``, ``correlationId`` and ``category``; 429 bodies with
``policyName`` (developers.hubspot.com/docs/api/usage-details).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

__all__ = [
    "error",
    "matches",
    "ms",
    "number",
    "page",
    "rate_limit_body",
    "record",
    "unexpected",
]


def rate_limit_body(policy: str) -> dict[str, Any]:
    """HubSpot's 429 body for a policy (``TEN_SECONDLY_ROLLING``, ``SECONDLY``, ``DAILY``)."""
    message = {
        "DAILY": "You have reached your daily limit.",
        "SECONDLY": "You have reached your secondly limit.",
    }.get(policy, "You have reached your ten_secondly_rolling limit.")
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
        "policyName": policy,
        "requestId": "3d3e35b7-0dae-4b9f-a6a3-9c0d4c0b3b7b",
    }


def number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compare(actual: Any, wanted: Any) -> int:
    a, b = number(actual), number(wanted)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x, y = str(actual or ""), str(wanted or "")
    return (x > y) - (x < y)


def matches(props: Mapping[str, Any], f: Mapping[str, Any]) -> bool:
    value = props.get(f["propertyName"])
    present = value not in (None, "")
    op = str(f["operator"])
    if op == "HAS_PROPERTY":
        return present
    if op == "NOT_HAS_PROPERTY":
        return not present
    if op in {"IN", "NOT_IN"}:
        inside = str(value) in {str(v) for v in f.get("values", [])}
        return inside if op == "IN" else (present and not inside)
    if not present:
        return op == "NEQ"
    c = compare(value, f.get("value"))
    outcome: bool = {
        "EQ": c == 0,
        "NEQ": c != 0,
        "LT": c < 0,
        "LTE": c <= 0,
        "GT": c > 0,
        "GTE": c >= 0,
    }.get(op, False)
    return outcome


def ms(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))


def unexpected(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the fake HubSpot does not serve {request.method} {request.url}")


def error(status: int, category: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "status": "error",
            "message": message,
            "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
            "category": category,
        },
    )


def record(rid: str, props: Mapping[str, Any], wanted: list[str]) -> dict[str, Any]:
    now = "2026-11-02T09:00:00Z"
    return {
        "id": rid,
        "properties": {name: props.get(name) for name in wanted if name},
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
    }


def page(
    records: list[dict[str, Any]], request: httpx.Request, default_limit: int
) -> httpx.Response:
    limit = int(request.url.params.get("limit", default_limit))
    after = int(request.url.params.get("after", 0))
    body: dict[str, Any] = {"results": records[after : after + limit]}
    if after + limit < len(records):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return httpx.Response(200, json=body)
