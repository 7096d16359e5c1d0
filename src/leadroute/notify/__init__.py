"""Telling owners about their leads: notification effects, templates and channels.

A decision's notifications are outbox effects (kind ``notify:<channel>``) like its owner
write, so they are committed with the decision, retried with backoff, idempotent by key
and reported when dead. The relay hands them to a ``Notifier``, which renders the
templates and sends through Slack, SMTP, a signed webhook or the console.
"""

from __future__ import annotations

from leadroute.notify.effects import NOTIFY_PREFIX, is_notification, notification_effects
from leadroute.notify.notifier import EffectRouter, Notifier

__all__ = [
    "NOTIFY_PREFIX",
    "EffectRouter",
    "Notifier",
    "is_notification",
    "notification_effects",
]
