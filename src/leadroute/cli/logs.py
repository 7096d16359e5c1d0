"""Logging set-up for the command line: ``leadroute.logs.configure_logging``.

The set-up lives in ``leadroute.logs`` so applications that use leadroute as a library can
call the same ``configure_logging()``; this module keeps the command line's imports.
"""

from __future__ import annotations

from leadroute.logs import REDACTED, configure_logging, redact, redact_text

__all__ = ["REDACTED", "configure_logging", "redact", "redact_text"]
