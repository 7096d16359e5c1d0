"""The service's policy sections: channels, routes, escalations, limits, each error named."""

from __future__ import annotations

import pytest

from leadroute.errors import PolicyError
from leadroute.policy import parse_policy

BASE = """
version: "1"
pools: [{name: na}]
routing: [{name: na, when: {country: US}, pool: na}]
fallback: {owner: ops, queue: unrouted}
lead_types:
  types:
    - {name: demo, when: {lead_type: demo}, sla: 1h, escalation: ESCALATION}
notifications:
  channels:
    slack: {kind: slack}
    mail: {kind: email, host: smtp.example.com, sender: leads@example.com}
    hook: {kind: webhook, url: "https://hooks.example.com/x"}
  default: [slack]
  by_pool: {na: [mail], unrouted: [hook]}
  by_lead_type: {demo: [slack, mail]}
service: {cors_origins: ["https://www.example.com"], max_body_bytes: 65536}
"""
GOOD = "{remind_at: 0.5, on_breach: reassign, reassign_to: na}"


def test_a_complete_service_policy_parses():
    """Channels, routes, an escalation and service settings load into the policy."""
    policy = parse_policy(BASE.replace("ESCALATION", GOOD))
    assert policy.notifications.channels_for("demo", "na") == ("slack", "mail")
    assert policy.notifications.channels_for("", "na") == ("mail",)
    assert policy.notifications.channels_for("", "unrouted") == ("hook",)
    assert policy.notifications.channels_for("", "other") == ("slack",)
    kind = policy.lead_types.named("demo")
    assert kind is not None and kind.escalation is not None
    assert kind.escalation.reassign_to == "na"
    assert policy.service.cors_origins == ("https://www.example.com",)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("default: [slack]", "default: [sms]"), "notifications.default"),
        (("by_pool: {na: [mail]", "by_pool: {eu: [mail]"), "notifications.by_pool.eu"),
        (("by_lead_type: {demo:", "by_lead_type: {quote:"), "notifications.by_lead_type.quote"),
        (("host: smtp.example.com, ", ""), "notifications.channels.mail"),
        (('url: "https://hooks.example.com/x"', "url: ftp://x"), "notifications.channels.hook"),
        (("kind: slack}", "kind: pager}"), "notifications.channels.slack.kind"),
        ((GOOD, "{remind_at: 1.5}"), "lead_types.types[0].escalation.remind_at"),
        (
            (GOOD, "{on_breach: reassign, reassign_to: eu}"),
            "lead_types.types[0].escalation.reassign_to",
        ),
        ((GOOD, "{on_breach: shout}"), "lead_types.types[0].escalation.on_breach"),
        (("max_body_bytes: 65536", "max_body_bytes: 10"), "service.max_body_bytes"),
    ],
)
def test_each_mistake_names_its_path(change, path):
    """A wrong name or value in the service sections is a PolicyError naming where."""
    old, new = change
    text = BASE.replace("ESCALATION", GOOD).replace(old, new)
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.path == path or str(caught.value).startswith(f"leadroute.yaml: {path}")


def test_an_escalation_needs_an_sla():
    """An escalation on a type without an SLA has no deadline to act on."""
    text = BASE.replace("ESCALATION", GOOD).replace("sla: 1h, ", "")
    with pytest.raises(PolicyError, match="needs the type's sla"):
        parse_policy(text)
