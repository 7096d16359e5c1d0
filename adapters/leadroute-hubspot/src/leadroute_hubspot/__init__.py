"""leadroute-hubspot: route a HubSpot portal's contacts with leadroute, in real time and nightly."""

from __future__ import annotations

from leadroute_hubspot.adapter import HubSpotAdapter, Runtime, use_runtime
from leadroute_hubspot.client import HubSpotClient
from leadroute_hubspot.limits import ERROR_TABLE, Action, classify, retry_after
from leadroute_hubspot.webhooks import (
    ContactEvent,
    EventDeduplicator,
    parse_events,
    verify_signature_v3,
)

__all__ = [
    "ERROR_TABLE",
    "Action",
    "ContactEvent",
    "EventDeduplicator",
    "HubSpotAdapter",
    "HubSpotClient",
    "Runtime",
    "classify",
    "parse_events",
    "retry_after",
    "use_runtime",
    "verify_signature_v3",
]
