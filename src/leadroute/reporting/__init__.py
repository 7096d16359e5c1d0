"""Outcome reporting: metrics over the routing history, the exception report, the dashboard.

``History.load(store)`` reads what happened; ``compute_report`` turns it into metrics
over a window; ``exception_rows`` lists the leads that need a human; ``leadroute.reporting
.dashboard`` renders the HTML (imported on demand: it pulls in plotly).
"""

from __future__ import annotations

from leadroute.reporting.exceptions import ExceptionRow, exception_rows
from leadroute.reporting.facts import LeadFacts, build_facts
from leadroute.reporting.history import History
from leadroute.reporting.metrics import MetricRow, Report, compute_report

__all__ = [
    "ExceptionRow",
    "History",
    "LeadFacts",
    "MetricRow",
    "Report",
    "build_facts",
    "compute_report",
    "exception_rows",
]
