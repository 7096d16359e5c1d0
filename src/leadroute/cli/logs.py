"""Logging set-up for the command line: the only place that calls ``structlog.configure``.

Logs go to stderr (stdout is for results and ``--json``). A redaction processor runs
before the renderer, so secrets and personal data never reach the output, and tracebacks
never render frame locals (structlog's rich formatter shows locals by default).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from leadroute.redaction import REDACTED, redact_text

__all__ = ["REDACTED", "configure_logging", "redact", "redact_text"]

SECRET_KEYS = frozenset(
    {
        "authorization",
        "access_token",
        "refresh_token",
        "client_secret",
        "api_key",
        "apikey",
        "password",
        "secret",
        "token",
        "cookie",
        "set-cookie",
        "sessionid",
        "private_key",
        "email",
        "phone",
        "name",
    }
)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _secret_key(k) else _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value


def _secret_key(key: object) -> bool:
    text = str(key).lower()
    return text in SECRET_KEYS or text.startswith("x-hubspot-signature")


def redact(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret keys at any depth and secret-looking strings."""
    for key in list(event_dict):
        event_dict[key] = REDACTED if _secret_key(key) else _clean(event_dict[key])
    return event_dict


def configure_logging(verbosity: int = 0, *, json_logs: bool = False) -> None:
    """Warnings by default, ``-v`` info, ``-vv`` debug; JSON lines with ``json_logs``."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info
            if json_logs
            else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Look stderr up at each call: tests and embedders swap sys.stderr after configure().
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
