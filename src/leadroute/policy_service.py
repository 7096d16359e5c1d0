"""The policy sections of the live service: ``service``, ``notifications`` and each lead
type's ``escalation`` (what its SLA clock does).

They are plain attrs classes structured by the policy loader like every other section;
``check_service`` holds the cross-references structure alone cannot check (channel names,
pools, lead types). Secrets never appear here: a channel names the environment variable
that holds its token, password or signing secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import attrs

from leadroute.errors import PolicyError

if TYPE_CHECKING:
    from leadroute.policy import Policy

__all__ = [
    "ChannelPolicy",
    "EscalationPolicy",
    "NotificationPolicy",
    "ServicePolicy",
    "check_service",
]

BreachAction = Literal["notify_backup", "notify_manager", "reassign", "queue"]
ChannelKind = Literal["slack", "email", "webhook", "console"]


@attrs.frozen(kw_only=True)
class EscalationPolicy:
    """What a lead type's SLA clock does when nobody touches the lead.

    Attributes:
        remind_at: Share of the SLA after which the owner is reminded (``0.5``: halfway,
            counted in the same working time as the SLA); ``None`` sends no reminder.
        on_breach: At the deadline: ``notify_backup`` (tell the owner's backup rep),
            ``notify_manager`` (tell the owner's manager), ``reassign`` (a new epoch with
            reason ``SLA_BREACHED`` to ``reassign_to``) or ``queue`` (move the lead to the
            fallback queue, whose own escalation clock then runs).
        reassign_to: For ``reassign``: ``backup`` (the owner's backup rep) or a pool name
            (routed again inside that pool, the breaching owner left out).
    """

    remind_at: float | None = 0.5
    on_breach: BreachAction = "notify_manager"
    reassign_to: str = "backup"


@attrs.frozen(kw_only=True)
class ChannelPolicy:
    """One way to tell a rep about a lead.

    Attributes:
        kind: ``slack`` (Web API ``chat.postMessage`` with a bot token, or an incoming
            webhook), ``email`` (SMTP with STARTTLS), ``webhook`` (a signed JSON POST) or
            ``console`` (one line on the service's stdout, for trying it locally).
        token_env: Slack: the variable holding the bot token (``xoxb-...``).
        webhook_url_env: Slack: the variable holding an incoming-webhook URL; when set,
            messages go there instead of through the Web API (one fixed channel).
        channel: Slack: the channel used when the rep has no ``slack_id``.
        host: Email: the SMTP server.
        port: Email: its port (587 is submission with STARTTLS).
        starttls: Email: upgrade the connection with STARTTLS before logging in.
        sender: Email: the ``From`` address.
        username_env: Email: the variable holding the SMTP user name (``""``: no login).
        password_env: Email: the variable holding the SMTP password.
        url: Webhook: where to POST.
        secret_env: Webhook: the variable holding the signing secret.
        timeout: How long one delivery may take before it counts as failed (retried).
    """

    kind: ChannelKind
    token_env: str = "SLACK_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
    webhook_url_env: str = ""
    channel: str = ""
    host: str = ""
    port: int = 587
    starttls: bool = True
    sender: str = ""
    username_env: str = ""
    password_env: str = ""
    url: str = ""
    secret_env: str = "LEADROUTE_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
    timeout: timedelta = timedelta(seconds=10)


@attrs.frozen(kw_only=True)
class NotificationPolicy:
    """Which channels tell the owner about a decision, and with which templates.

    Attributes:
        channels: Channel name to its settings.
        default: Channels for a decision no ``by_lead_type`` or ``by_pool`` entry names.
        by_lead_type: Lead type to channels (checked first).
        by_pool: Pool (or the fallback/nurture queue name) to channels.
        templates: Folder (relative to the policy file) whose templates replace the
            built-in ones of the same name (``slack.txt.j2``, ``email.txt.j2``...).
        record_url: Link to the lead in the CRM, ``{lead_id}`` replaced
            (``https://app.hubspot.com/contacts/123456/record/0-1/{lead_id}``).
    """

    channels: Mapping[str, ChannelPolicy] = attrs.field(factory=dict)
    default: tuple[str, ...] = ()
    by_lead_type: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    by_pool: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    templates: str = ""
    record_url: str = ""

    def channels_for(self, lead_type: str, pool: str) -> tuple[str, ...]:
        """The channel names for a decision of this lead type in this pool (or queue)."""
        if lead_type and lead_type in self.by_lead_type:
            return self.by_lead_type[lead_type]
        if pool and pool in self.by_pool:
            return self.by_pool[pool]
        return self.default


@attrs.frozen(kw_only=True)
class ServicePolicy:
    """Settings of ``leadroute serve`` that belong with the routing policy.

    Attributes:
        cors_origins: Origins whose browser forms may post leads (``https://www.acme.com``).
        max_body_bytes: Largest request body accepted; larger ones get 413.
        public_url: The URL the CRMs call (``https://leads.acme.com``), used to check
            HubSpot signatures behind a proxy; ``""`` uses the request's own URL.
        source: The adapter the relay applies owner writes through (``hubspot``,
            ``salesforce``, ``csv``); ``""`` keeps CRM effects pending in the outbox.
        relay_every: How often the relay looks for due effects when idle.
        timers_every: How often the SLA scheduler looks for due timers.
    """

    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    public_url: str = ""
    source: str = ""
    relay_every: timedelta = timedelta(seconds=1)
    timers_every: timedelta = timedelta(seconds=5)


def check_service(policy: Policy, source: str) -> None:
    """Names the notification and escalation sections use must exist."""
    _check_channels(policy, source)
    _check_escalations(policy, source)
    if policy.service.max_body_bytes < 1024:
        raise PolicyError("must be at least 1024", path="service.max_body_bytes", source=source)


def _check_channels(policy: Policy, source: str) -> None:
    notes = policy.notifications
    for name, channel in notes.channels.items():
        where = f"notifications.channels.{name}"
        if len(name) > 24 or not name.replace("-", "").replace("_", "").isalnum():
            raise PolicyError(
                "a channel name is up to 24 letters, digits, - or _", path=where, source=source
            )
        if channel.kind == "email" and not (channel.host and channel.sender):
            raise PolicyError("an email channel needs host and sender", path=where, source=source)
        if channel.kind == "webhook" and not channel.url.startswith(("https://", "http://")):
            raise PolicyError("a webhook channel needs an http(s) url", path=where, source=source)
    lists = [("notifications.default", notes.default)]
    lists += [(f"notifications.by_lead_type.{k}", v) for k, v in notes.by_lead_type.items()]
    lists += [(f"notifications.by_pool.{k}", v) for k, v in notes.by_pool.items()]
    for path, names in lists:
        for name in names:
            if name not in notes.channels:
                raise PolicyError(f"unknown channel {name!r}", path=path, source=source)
    pools = {p.name for p in policy.pools}
    queues = {policy.fallback.queue} | ({policy.nurture.queue} if policy.nurture else set())
    for pool in notes.by_pool:
        if pool not in pools | queues:
            raise PolicyError(
                f"unknown pool or queue {pool!r}",
                path=f"notifications.by_pool.{pool}",
                source=source,
            )
    types = {t.name for t in policy.lead_types.types}
    for kind in notes.by_lead_type:
        if kind not in types:
            raise PolicyError(
                f"unknown lead type {kind!r}",
                path=f"notifications.by_lead_type.{kind}",
                source=source,
            )


def _check_escalations(policy: Policy, source: str) -> None:
    pools = {p.name for p in policy.pools}
    for i, lead_type in enumerate(policy.lead_types.types):
        esc, where = lead_type.escalation, f"lead_types.types[{i}].escalation"
        if esc is None:
            continue
        if lead_type.sla is None:
            raise PolicyError("an escalation needs the type's sla", path=where, source=source)
        if esc.remind_at is not None and not 0 < esc.remind_at < 1:
            raise PolicyError(
                "must be a share of the SLA between 0 and 1",
                path=f"{where}.remind_at",
                source=source,
            )
        if esc.reassign_to != "backup" and esc.reassign_to not in pools:
            raise PolicyError(
                f"expected backup or a pool name, got {esc.reassign_to!r}",
                path=f"{where}.reassign_to",
                source=source,
            )
