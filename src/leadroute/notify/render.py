"""Render a notification from its templates: built-in ones, or the policy's overrides.

Templates are Jinja2 text templates named ``<purpose>.txt.j2`` (the message) and
``<purpose>.subject.j2`` (an email's subject line). A file of the same name in the
policy's ``notifications.templates`` folder replaces the built-in one. Slack gets every
value escaped as its message formatting requires (``&``, ``<`` and ``>``), so a company
called ``<!channel>`` cannot ping a whole channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import jinja2

from leadroute.models import Rep

__all__ = ["Message", "Renderer", "local_time", "slack_escape"]


def slack_escape(value: Any) -> Any:
    """Escape ``&``, ``<`` and ``>`` as Slack asks.

    (api.slack.com/reference/surfaces/formatting, "Escaping text").
    """
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def local_time(iso: str, timezone: str) -> str:
    """An ISO UTC time as the rep reads it: ``Mon 2 Nov 2026, 10:30 EST`` in their zone."""
    if not iso:
        return ""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    at = datetime.fromisoformat(iso).astimezone(zone)
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M} {at.tzname()}"


@attrs.frozen(kw_only=True)
class Message:
    """A rendered notification.

    Attributes:
        subject: One line (email subject, webhook title).
        text: The body.
    """

    subject: str
    text: str


class Renderer:
    """Renders notifications with the built-in templates and a folder of overrides."""

    def __init__(self, overrides: str = "") -> None:
        loaders: list[jinja2.BaseLoader] = []
        if overrides:
            loaders.append(jinja2.FileSystemLoader(overrides))
        loaders.append(jinja2.PackageLoader("leadroute.notify", "templates"))
        options: dict[str, Any] = {
            "loader": jinja2.ChoiceLoader(loaders),
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            "undefined": jinja2.ChainableUndefined,
            # Plain text, not HTML: nothing to autoescape (Slack escapes through finalize).
            "autoescape": False,
        }
        self._plain = jinja2.Environment(**options)  # noqa: S701 - text, not HTML
        self._slack = jinja2.Environment(finalize=slack_escape, **options)  # noqa: S701

    def context(
        self, payload: Mapping[str, Any], rep: Rep | None, reps: Mapping[str, Rep], record_url: str
    ) -> dict[str, Any]:
        """What a template sees: the effect's payload, the rep's local deadline and links."""
        timezone = rep.availability.timezone if rep else "UTC"
        owner = reps.get(str(payload.get("owner_id", "")))
        booking = rep.booking_url if rep and payload.get("meeting") else ""
        if payload.get("purpose") == "breach" and owner is not None and payload.get("meeting"):
            booking = owner.booking_url
        lead_id = str(payload.get("lead_id", ""))
        return {
            **payload,
            "rep_name": rep.name if rep and rep.name else str(payload.get("rep_id", "")),
            "owner_name": owner.name if owner and owner.name else payload.get("owner_id", ""),
            "timezone": timezone,
            "sla_due_local": local_time(str(payload.get("sla_due_at", "")), timezone),
            "escalate_local": local_time(str(payload.get("escalate_at", "")), timezone),
            "record_url": record_url.replace("{lead_id}", lead_id) if record_url else "",
            "booking_url": booking,
            "lead": payload.get("lead") or {},
        }

    def render(self, purpose: str, context: Mapping[str, Any], *, slack: bool = False) -> Message:
        """The message for a purpose (``assigned``, ``reminder``, ``breach``)."""
        env = self._slack if slack else self._plain
        text = env.get_template(f"{purpose}.txt.j2").render(context)
        subject = env.get_template(f"{purpose}.subject.j2").render(context)
        lines = [line.rstrip() for line in text.strip().splitlines()]
        return Message(subject=" ".join(subject.split()), text="\n".join(lines))
