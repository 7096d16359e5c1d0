"""Logging for leadroute: module loggers that stay quiet in a library, and one set-up.

Every module logs with ``log = get_logger(__name__)`` and dotted event names. Before
anything configures structlog, its default prints every event, debug included, to
stdout: an application that merely imports leadroute did not ask for that. So a
leadroute logger drops its events until structlog is configured, by the application
(``structlog.configure(...)``: leadroute's events then go wherever the application's go)
or by ``configure_logging()`` here, which the command line and the service call and
which an application may call too.

``configure_logging`` sends logs to stderr (stdout is for results and ``--json``). A
redaction processor runs before the renderer, so secrets and personal data never reach
the output, and tracebacks never render frame locals (structlog's rich formatter shows
locals by default).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from leadroute.redaction import REDACTED, redact_text

__all__ = [
    "REDACTED",
    "LibraryLogger",
    "configure_logging",
    "get_logger",
    "redact",
    "redact_text",
]


def _drop(*args: Any, **kwargs: Any) -> None:
    return None


class LibraryLogger:
    """A module's logger: silent until structlog is configured, then structlog's own.

    Checked at each call, so configuring logging after leadroute was imported works.
    """

    __slots__ = ("_context", "_logger", "_name")

    def __init__(self, name: str, context: dict[str, Any] | None = None) -> None:
        self._name = name
        self._context = dict(context or {})
        self._logger = structlog.get_logger(name, **self._context)

    def bind(self, **values: Any) -> LibraryLogger:
        """The logger with more context (kept quiet the same way)."""
        return LibraryLogger(self._name, {**self._context, **values})

    def __getattr__(self, method: str) -> Any:
        if not structlog.is_configured():
            return _drop
        return getattr(self._logger, method)


def get_logger(name: str) -> Any:
    """The logger for a leadroute module (``log = get_logger(__name__)``)."""
    return LibraryLogger(name)


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
    """Log to stderr: warnings by default, ``verbosity`` 1 info, 2 debug; JSON lines with
    ``json_logs``; secrets and personal data redacted. Configures structlog for the whole
    process (``structlog.configure``)."""
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
