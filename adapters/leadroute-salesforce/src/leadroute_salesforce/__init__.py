"""leadroute-salesforce: route Salesforce leads and write owners and tasks back over REST."""

from __future__ import annotations

from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.settings import Settings, load_settings

__all__ = ["SalesforceAdapter", "Settings", "load_settings"]
