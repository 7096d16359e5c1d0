"""Registers the ``salesforce`` adapter with leadroute (entry point ``salesforce``)."""

from __future__ import annotations

from collections.abc import Callable

from leadroute import hookimpl
from leadroute.adapters import AdapterFactory
from leadroute_salesforce.adapter import SalesforceAdapter


@hookimpl
def leadroute_register_adapters(register: Callable[[str, AdapterFactory], None]) -> None:
    """Offer the Salesforce adapter under the name ``salesforce``."""
    register("salesforce", SalesforceAdapter.from_config)
