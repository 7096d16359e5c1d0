"""Notification channels: Slack, SMTP email, a signed webhook and the console.

Each channel sends one rendered message to one rep and answers with a ``Delivery``:
delivered, worth retrying later (rate limits, timeouts, server errors), or refused for
good (bad token, unknown channel, refused address), which the outbox marks dead and the
exception report shows. Channels never retry themselves: the outbox relay does, with
backoff, so a Slack outage delays messages without blocking anything else.

Vendor behaviour each channel relies on:

* Slack Web API ``chat.postMessage`` answers HTTP 200 with ``{"ok": false, "error": ...}``
  for refusals such as ``invalid_auth``, ``channel_not_found``, ``not_in_channel``
  (api.slack.com/methods/chat.postMessage, "Errors"), and HTTP 429 with a
  ``Retry-After`` header in seconds when rate limited (api.slack.com/apis/rate-limits).
* Slack incoming webhooks answer ``ok`` on success and HTTP 4xx with a plain-text error
  (``invalid_payload``, ``channel_not_found``, ``action_prohibited``...) otherwise
  (api.slack.com/messaging/webhooks, "Handling errors").
* SMTP reply codes: 4xx is transient, 5xx permanent (RFC 5321 section 4.2.1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import IO, Protocol

import attrs
import httpx

from leadroute.models import Rep
from leadroute.notify.render import Message

__all__ = [
    "Channel",
    "ConsoleChannel",
    "Delivery",
    "EmailChannel",
    "SlackChannel",
    "SlackWebhookChannel",
    "WebhookChannel",
    "webhook_signature",
]

SLACK_API = "https://slack.com/api"
# Slack errors that mean "try again later"; every other error code is a refusal.
SLACK_TRANSIENT = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "service_unavailable", "request_timeout"}
)


@attrs.frozen(kw_only=True)
class Delivery:
    """What a channel did with one message.

    Attributes:
        ok: Delivered.
        retryable: Not delivered, but trying again later may work.
        detail: Why not (a vendor error code, never a secret or the message).
    """

    ok: bool
    retryable: bool = False
    detail: str = ""


DELIVERED = Delivery(ok=True)


def _later(detail: str) -> Delivery:
    return Delivery(ok=False, retryable=True, detail=detail)


def _refused(detail: str) -> Delivery:
    return Delivery(ok=False, retryable=False, detail=detail)


class Channel(Protocol):
    """Sends one message to one rep."""

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """Deliver ``message`` to ``rep``; ``key`` is the effect's idempotency key."""
        ...


def _http_verdict(response: httpx.Response, vendor: str) -> Delivery | None:
    """Rate limits and server errors (retry later); None when the status is a success."""
    if response.status_code == 429:
        wait = response.headers.get("Retry-After", "")
        return _later(f"{vendor}: rate limited" + (f" (Retry-After {wait}s)" if wait else ""))
    if response.status_code == 408 or response.status_code >= 500:
        return _later(f"{vendor}: HTTP {response.status_code}")
    return None


@attrs.define
class SlackChannel:
    """Slack Web API ``chat.postMessage`` with a bot token, to the rep's Slack id.

    Attributes:
        http: The HTTP client.
        token: The bot token (``xoxb-...``), from the environment.
        channel: Where to post when the rep has no ``slack_id``; ``""`` refuses such reps.
        base_url: The Web API's base URL.
    """

    http: httpx.Client
    token: str
    channel: str = ""
    base_url: str = SLACK_API

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """Post the message as a direct message to the rep (or to ``channel``)."""
        target = (rep.slack_id if rep else "") or self.channel
        if not target:
            who = rep.id if rep else "unknown rep"
            return _refused(f"slack: {who} has no slack_id and the channel names no fallback")
        try:
            response = self.http.post(
                f"{self.base_url}/chat.postMessage",
                headers={"Authorization": f"Bearer {self.token}"},
                json={"channel": target, "text": message.text, "unfurl_links": False},
            )
        except httpx.TransportError as exc:
            return _later(f"slack: {type(exc).__name__}")
        verdict = _http_verdict(response, "slack")
        if verdict is not None:
            return verdict
        try:
            body = response.json()
        except ValueError:
            return _later(f"slack: HTTP {response.status_code}, not JSON")
        if not isinstance(body, Mapping):
            return _later("slack: unexpected answer")
        if body.get("ok") is True:
            return DELIVERED
        error = str(body.get("error", "unknown_error"))
        return (
            _later(f"slack: {error}") if error in SLACK_TRANSIENT else _refused(f"slack: {error}")
        )


@attrs.define
class SlackWebhookChannel:
    """A Slack incoming webhook: one fixed channel, no token.

    Attributes:
        http: The HTTP client.
        url: The webhook URL (a secret: anyone holding it can post).
    """

    http: httpx.Client
    url: str

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """Post the message; the rep is mentioned when their Slack id is known."""
        mention = f"<@{rep.slack_id}> " if rep is not None and rep.slack_id else ""
        try:
            response = self.http.post(self.url, json={"text": mention + message.text})
        except httpx.TransportError as exc:
            return _later(f"slack webhook: {type(exc).__name__}")
        verdict = _http_verdict(response, "slack webhook")
        if verdict is not None:
            return verdict
        if response.is_success:
            return DELIVERED
        return _refused(f"slack webhook: HTTP {response.status_code} {response.text[:60].strip()}")


SmtpFactory = Callable[[str, int, float], smtplib.SMTP]


def _smtp(host: str, port: int, timeout: float) -> smtplib.SMTP:
    return smtplib.SMTP(host, port, timeout=timeout)


@attrs.define
class EmailChannel:
    """Email over SMTP, upgraded with STARTTLS before any login or content.

    Attributes:
        host: The SMTP server.
        port: Its port.
        sender: The ``From`` address.
        starttls: Require STARTTLS (a server that does not offer it is refused).
        username: Login name (``""``: no login).
        password: Login password.
        timeout: Seconds for the connection and each command.
        ssl_context: TLS settings (default: the system's trusted CAs, hostname checked).
        connect: Opens the SMTP connection (tests point it at a local server).
    """

    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str = ""
    password: str = ""
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = None
    connect: SmtpFactory = _smtp

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """Send to the rep's work email; the Message-ID is derived from the effect's key."""
        if rep is None or not rep.email:
            return _refused(f"email: {rep.id if rep else 'unknown rep'} has no email address")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = rep.email
        mail["Subject"] = message.subject
        # The same effect always carries the same Message-ID, so a resend after an
        # ambiguous failure can be recognised as the same message by mail systems.
        mail["Message-ID"] = f"<{key}@leadroute>"
        mail.set_content(message.text)
        try:
            with self.connect(self.host, self.port, self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    if not smtp.has_extn("starttls"):
                        return _refused("email: the server does not offer STARTTLS")
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            return _refused(f"email: login refused ({exc.smtp_code})")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = f"email: recipient refused ({', '.join(map(str, codes))})"
            return _later(detail) if all(400 <= c < 500 for c in codes) else _refused(detail)
        except smtplib.SMTPResponseException as exc:
            detail = f"email: server said {exc.smtp_code}"
            return _later(detail) if 400 <= exc.smtp_code < 500 else _refused(detail)
        except (smtplib.SMTPException, OSError) as exc:
            return _later(f"email: {type(exc).__name__}")
        return DELIVERED


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 of ``timestamp + "." + body`` with the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@attrs.define
class WebhookChannel:
    """A JSON POST signed with a shared secret, for any other system.

    The receiver checks ``X-Leadroute-Signature`` against ``webhook_signature(secret,
    X-Leadroute-Timestamp, raw body)`` and de-duplicates on ``Idempotency-Key``.

    Attributes:
        http: The HTTP client.
        url: Where to POST.
        secret: The signing secret.
        clock: Unix seconds (for the timestamp header).
    """

    http: httpx.Client
    url: str
    secret: str
    clock: Callable[[], float] = time.time

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """POST the message and the rep's id; 2xx is delivered."""
        body = json.dumps(
            {
                "idempotency_key": key,
                "rep_id": rep.id if rep else "",
                "slack_id": rep.slack_id if rep else "",
                "subject": message.subject,
                "text": message.text,
            },
            sort_keys=True,
        ).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Leadroute-Timestamp": timestamp,
            "X-Leadroute-Signature": webhook_signature(self.secret, timestamp, body),
        }
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            return _later(f"webhook: {type(exc).__name__}")
        verdict = _http_verdict(response, "webhook")
        if verdict is not None:
            return verdict
        if response.is_success:
            return DELIVERED
        return _refused(f"webhook: HTTP {response.status_code}")


@attrs.define
class ConsoleChannel:
    """Prints the message on a stream (stdout): for trying the service on a laptop.

    Attributes:
        stream: Where to write.
    """

    stream: IO[str]

    def send(self, message: Message, rep: Rep | None, *, key: str) -> Delivery:
        """Write a header line naming the rep, then the message."""
        who = rep.name or rep.id if rep else "unknown rep"
        self.stream.write(f"--- notification to {who}: {message.subject}\n{message.text}\n")
        self.stream.flush()
        return DELIVERED
