"""Notification channels against honest fakes: a respx Slack, aiosmtpd, a signed webhook.

The fake Slack refuses what Slack refuses: ``chat.postMessage`` answers HTTP 200 with
``{"ok": false, "error": "invalid_auth"}`` for a bad token and ``channel_not_found`` for
an unknown channel (api.slack.com/methods/chat.postMessage, "Errors"), and HTTP 429 with
``Retry-After`` when rate limited (api.slack.com/apis/rate-limits). Incoming webhooks
answer plain-text errors with 4xx statuses (api.slack.com/messaging/webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import httpx
import pytest
import respx

from leadroute.models import Rep
from leadroute.notify.channels import (
    ConsoleChannel,
    EmailChannel,
    SlackChannel,
    SlackWebhookChannel,
    WebhookChannel,
    webhook_signature,
)
from leadroute.notify.render import Message

MESSAGE = Message(subject="New demo lead: Acme", text="New demo lead for you: Acme")
ANN = Rep(id="r1", name="Ann", email="ann@example.com", slack_id="U024BE7LH")
TOKEN = "xoxb-test-token"


def fake_slack(router: respx.MockRouter) -> None:
    """chat.postMessage as Slack answers it: token and channel checked, 429 when told."""
    state = {"limited": 0}

    def post_message(request: httpx.Request) -> httpx.Response:
        if state["limited"]:
            state["limited"] -= 1
            return httpx.Response(429, headers={"Retry-After": "30"})
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(200, json={"ok": False, "error": "invalid_auth"})
        body = json.loads(request.content)
        if not str(body.get("channel", "")).startswith(("U", "C")):
            return httpx.Response(200, json={"ok": False, "error": "channel_not_found"})
        if not body.get("text"):
            return httpx.Response(200, json={"ok": False, "error": "no_text"})
        return httpx.Response(200, json={"ok": True, "channel": "D1", "ts": "1.0"})

    router.post("https://slack.com/api/chat.postMessage").mock(side_effect=post_message)
    router.state = state  # type: ignore[attr-defined]


@pytest.fixture
def slack() -> respx.MockRouter:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        fake_slack(router)
        yield router


def test_slack_posts_to_the_reps_slack_id(slack):
    """A message goes to the rep's Slack id with the bot token, and is delivered."""
    with httpx.Client() as http:
        delivery = SlackChannel(http=http, token=TOKEN).send(MESSAGE, ANN, key="k")
    assert delivery.ok
    sent = json.loads(slack.calls.last.request.content)
    assert sent["channel"] == "U024BE7LH"
    assert sent["text"] == MESSAGE.text


def test_slack_invalid_auth_is_refused_for_good(slack):
    """A bad token is not retried: the effect goes dead with Slack's error code."""
    with httpx.Client() as http:
        delivery = SlackChannel(http=http, token="xoxb-wrong").send(MESSAGE, ANN, key="k")
    assert (delivery.ok, delivery.retryable, delivery.detail) == (
        False,
        False,
        "slack: invalid_auth",
    )


def test_slack_unknown_channel_is_refused(slack):
    """channel_not_found (a bad Slack id) is a refusal, not something to retry."""
    rep = Rep(id="r2", slack_id="not-an-id")
    with httpx.Client() as http:
        delivery = SlackChannel(http=http, token=TOKEN).send(MESSAGE, rep, key="k")
    assert not delivery.ok and not delivery.retryable
    assert delivery.detail == "slack: channel_not_found"


def test_slack_rate_limit_is_retried_later(slack):
    """HTTP 429 with Retry-After is retryable, and names the wait."""
    slack.state["limited"] = 1
    with httpx.Client() as http:
        delivery = SlackChannel(http=http, token=TOKEN).send(MESSAGE, ANN, key="k")
    assert not delivery.ok and delivery.retryable
    assert "Retry-After 30s" in delivery.detail


def test_slack_without_an_id_uses_the_fallback_channel_or_refuses(slack):
    """A rep with no Slack id gets the channel's fallback; without one the message is refused."""
    rep = Rep(id="r3")
    with httpx.Client() as http:
        assert (
            SlackChannel(http=http, token=TOKEN, channel="C0SALES").send(MESSAGE, rep, key="k").ok
        )
        refused = SlackChannel(http=http, token=TOKEN).send(MESSAGE, rep, key="k")
    assert not refused.ok and not refused.retryable and "no slack_id" in refused.detail


def test_slack_network_failure_is_retryable():
    """A connection error is worth retrying later."""
    with respx.mock(assert_all_mocked=True) as router:
        router.post("https://slack.com/api/chat.postMessage").mock(
            side_effect=httpx.ConnectError("down")
        )
        with httpx.Client() as http:
            delivery = SlackChannel(http=http, token=TOKEN).send(MESSAGE, ANN, key="k")
    assert not delivery.ok and delivery.retryable


def test_slack_incoming_webhook_errors_are_plain_text():
    """An incoming webhook's 404 channel_not_found is refused; ``ok`` is delivered."""
    url = "https://hooks.slack.com/services/T0/B0/x"
    with respx.mock(assert_all_mocked=True) as router, httpx.Client() as http:
        route = router.post(url)
        route.mock(return_value=httpx.Response(200, text="ok"))
        assert SlackWebhookChannel(http=http, url=url).send(MESSAGE, ANN, key="k").ok
        assert json.loads(route.calls.last.request.content)["text"].startswith("<@U024BE7LH>")
        route.mock(return_value=httpx.Response(404, text="channel_not_found"))
        refused = SlackWebhookChannel(http=http, url=url).send(MESSAGE, ANN, key="k")
        route.mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
        limited = SlackWebhookChannel(http=http, url=url).send(MESSAGE, ANN, key="k")
    assert not refused.retryable and "channel_not_found" in refused.detail
    assert limited.retryable


def test_webhook_is_signed_and_keyed():
    """The outgoing webhook carries the idempotency key and a signature the receiver can check."""
    url = "https://hooks.example.com/leadroute"
    with respx.mock(assert_all_mocked=True) as router, httpx.Client() as http:
        route = router.post(url).mock(return_value=httpx.Response(204))
        channel = WebhookChannel(http=http, url=url, secret="s3cret", clock=lambda: 1700000000.0)
        assert channel.send(MESSAGE, ANN, key="key-1").ok
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "key-1"
    expected = hmac.new(b"s3cret", b"1700000000." + request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Leadroute-Signature"] == f"v1={expected}"
    assert request.headers["X-Leadroute-Signature"] == webhook_signature(
        "s3cret", "1700000000", request.content
    )
    assert json.loads(request.content)["rep_id"] == "r1"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (410, False)]
)
def test_webhook_status_decides_retry(status, retryable):
    """Server errors and 429 are retried later; other 4xx are refused."""
    url = "https://hooks.example.com/leadroute"
    with respx.mock(assert_all_mocked=True) as router, httpx.Client() as http:
        router.post(url).mock(return_value=httpx.Response(status))
        delivery = WebhookChannel(http=http, url=url, secret="s").send(MESSAGE, ANN, key="k")
    assert not delivery.ok
    assert delivery.retryable is retryable


def test_email_goes_over_starttls_with_login(smtp_server):
    """The message is sent after STARTTLS and login, with a Message-ID from the effect's key."""
    channel = EmailChannel(
        host=smtp_server.host,
        port=smtp_server.port,
        sender="leadroute@example.com",
        username="leadroute",
        password="right-password",
        ssl_context=smtp_server.client_context,
    )
    assert channel.send(MESSAGE, ANN, key="key-1").ok
    [mail] = smtp_server.inbox.messages
    assert mail["tls"] and mail["login"]
    assert mail["to"] == ["ann@example.com"]
    assert "Message-ID: <key-1@leadroute>" in mail["data"]
    assert "Subject: New demo lead: Acme" in mail["data"]


def test_email_wrong_password_is_refused(smtp_server):
    """A refused login is not retried (the password will not fix itself)."""
    channel = EmailChannel(
        host=smtp_server.host,
        port=smtp_server.port,
        sender="leadroute@example.com",
        username="leadroute",
        password="wrong",
        ssl_context=smtp_server.client_context,
    )
    delivery = channel.send(MESSAGE, ANN, key="k")
    assert not delivery.ok and not delivery.retryable
    assert "login refused" in delivery.detail
    assert smtp_server.inbox.messages == []


def test_email_recipient_codes_decide_retry(smtp_server):
    """A 550 recipient is refused for good, a 451 is retried later (RFC 5321 4.2.1)."""
    channel = EmailChannel(
        host=smtp_server.host,
        port=smtp_server.port,
        sender="leadroute@example.com",
        ssl_context=smtp_server.client_context,
    )
    gone = channel.send(MESSAGE, Rep(id="x", email="x@refused.example"), key="k")
    busy = channel.send(MESSAGE, Rep(id="y", email="y@busy.example"), key="k")
    assert not gone.ok and not gone.retryable
    assert not busy.ok and busy.retryable


def test_email_refuses_a_server_certificate_it_cannot_trust(smtp_server):
    """With the system's trust store, a self-signed server certificate fails (retried later)."""
    channel = EmailChannel(
        host=smtp_server.host, port=smtp_server.port, sender="leadroute@example.com"
    )
    delivery = channel.send(MESSAGE, ANN, key="k")
    assert not delivery.ok
    assert smtp_server.inbox.messages == []


def test_email_without_an_address_is_refused():
    """A rep with no email cannot be emailed; nothing is attempted."""
    channel = EmailChannel(host="127.0.0.1", port=1, sender="a@example.com")
    delivery = channel.send(MESSAGE, Rep(id="r9"), key="k")
    assert not delivery.ok and not delivery.retryable and "no email" in delivery.detail


def test_email_server_down_is_retryable():
    """A closed port (server down) is retried later."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = EmailChannel(host="127.0.0.1", port=port, sender="a@example.com", timeout=2)
    delivery = channel.send(MESSAGE, ANN, key="k")
    assert not delivery.ok and delivery.retryable


def test_console_prints_the_message():
    """The console channel writes the rep and the message on its stream."""
    stream = io.StringIO()
    assert ConsoleChannel(stream=stream).send(MESSAGE, ANN, key="k").ok
    assert "notification to Ann: New demo lead: Acme" in stream.getvalue()
    assert MESSAGE.text in stream.getvalue()
