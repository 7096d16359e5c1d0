"""``Notifier`` sends ``notify:<channel>`` effects; ``EffectRouter`` splits the outbox
between it and the CRM adapter, so the one relay applies both kinds of effect.

Channels are built from the policy and the environment once; a channel whose secret is
not set is a configuration error reported when the service starts (``Notifier.check``),
not a failure discovered at the first lead. Logs name the lead, rep and channel, never
the message, the rep's address or a token.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO

import httpx

from leadroute.adapters import Adapter
from leadroute.errors import PolicyError
from leadroute.logs import get_logger
from leadroute.models import Effect, EffectResult, InputProblem, Rep, Snapshot
from leadroute.notify.channels import (
    Channel,
    ConsoleChannel,
    EmailChannel,
    SlackChannel,
    SlackWebhookChannel,
    WebhookChannel,
)
from leadroute.notify.effects import NOTIFY_PREFIX, is_notification
from leadroute.notify.render import Renderer
from leadroute.policy import Policy
from leadroute.policy_service import ChannelPolicy

__all__ = ["EffectRouter", "Notifier", "build_channel"]

log = get_logger(__name__)


def _secret(env: Mapping[str, str], name: str, path: str) -> str:
    value = env.get(name, "") if name else ""
    if not value:
        raise PolicyError(f"set the environment variable {name or '(none named)'}", path=path)
    return value


def build_channel(
    name: str,
    spec: ChannelPolicy,
    *,
    env: Mapping[str, str],
    http: httpx.Client,
    stream: IO[str],
    smtp_options: Mapping[str, object] | None = None,
) -> Channel:
    """The channel a policy entry describes, with its secrets from ``env``."""
    path = f"notifications.channels.{name}"
    if spec.kind == "slack":
        if spec.webhook_url_env:
            url = _secret(env, spec.webhook_url_env, f"{path}.webhook_url_env")
            return SlackWebhookChannel(http=http, url=url)
        token = _secret(env, spec.token_env, f"{path}.token_env")
        return SlackChannel(http=http, token=token, channel=spec.channel)
    if spec.kind == "email":
        username = env.get(spec.username_env, "") if spec.username_env else ""
        password = _secret(env, spec.password_env, f"{path}.password_env") if username else ""
        return EmailChannel(
            host=spec.host,
            port=spec.port,
            sender=spec.sender,
            starttls=spec.starttls,
            username=username,
            password=password,
            timeout=spec.timeout.total_seconds(),
            **(smtp_options or {}),  # type: ignore[arg-type]
        )
    if spec.kind == "webhook":
        secret = _secret(env, spec.secret_env, f"{path}.secret_env")
        return WebhookChannel(http=http, url=spec.url, secret=secret)
    return ConsoleChannel(stream=stream)


class Notifier:
    """Renders and sends notification effects through the policy's channels."""

    name = "notify"

    def __init__(
        self,
        policy: Policy,
        reps: Mapping[str, Rep],
        *,
        env: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
        stream: IO[str] | None = None,
        smtp_options: Mapping[str, object] | None = None,
    ) -> None:
        notes = policy.notifications
        self.reps = dict(reps)
        self.record_url = notes.record_url
        self.renderer = Renderer(notes.templates)
        self._http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        source = os.environ if env is None else env
        out = stream or sys.stdout
        self.channels: dict[str, Channel] = {
            name: build_channel(
                name, spec, env=source, http=self._http, stream=out, smtp_options=smtp_options
            )
            for name, spec in notes.channels.items()
        }
        self._slack = {name for name, spec in notes.channels.items() if spec.kind == "slack"}

    def update_team(self, reps: Mapping[str, Rep]) -> None:
        """Use a refreshed team (Slack ids, emails, time zones) from now on."""
        self.reps = dict(reps)

    def close(self) -> None:
        """Release the HTTP client."""
        self._http.close()

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Send each notification; one result per effect, in order."""
        return [self._send(effect) for effect in effects]

    def _send(self, effect: Effect) -> EffectResult:
        name = effect.kind.removeprefix(NOTIFY_PREFIX)
        channel = self.channels.get(name)
        if channel is None:
            return EffectResult(
                idem_key=effect.idem_key,
                ok=False,
                detail=f"no notification channel named {name!r} in the policy",
            )
        payload = effect.payload
        rep = self.reps.get(str(payload.get("rep_id", "")))
        purpose = str(payload.get("purpose", "assigned"))
        context = self.renderer.context(payload, rep, self.reps, self.record_url)
        message = self.renderer.render(purpose, context, slack=name in self._slack)
        delivery = channel.send(message, rep, key=effect.idem_key)
        log.info(
            "notify.sent" if delivery.ok else "notify.failed",
            lead_id=effect.lead_id,
            rep_id=payload.get("rep_id", ""),
            channel=name,
            purpose=purpose,
            detail=delivery.detail,
        )
        return EffectResult(
            idem_key=effect.idem_key,
            ok=delivery.ok,
            retryable=delivery.retryable,
            detail=delivery.detail,
        )


class EffectRouter:
    """An adapter that sends notifications to the ``Notifier`` and the rest to the CRM."""

    def __init__(self, crm: Adapter, notifier: Notifier) -> None:
        self.crm = crm
        self.notifier = notifier
        self.name = crm.name

    def read(self) -> Snapshot:
        """What the CRM adapter reads."""
        return self.crm.read()

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Notifications through the channels, everything else through the CRM adapter."""
        notes = [e for e in effects if is_notification(e)]
        others = [e for e in effects if not is_notification(e)]
        results = list(self.notifier.apply(notes)) if notes else []
        if others:
            results.extend(self.crm.apply(others))
        return results

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        """The CRM adapter publishes the exception report."""
        self.crm.report_problems(problems)
