"""Notification effects, templates and the notifier that sends them through the outbox."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from leadroute.errors import PolicyError
from leadroute.models import (
    Availability,
    Decision,
    DecisionStatus,
    Effect,
    EffectResult,
    InputProblem,
    Lead,
    Rep,
    RouteStep,
    Snapshot,
    decision_id_for,
)
from leadroute.notify import EffectRouter, Notifier, notification_effects
from leadroute.notify.render import Renderer, local_time
from leadroute.policy import parse_policy

AT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
POLICY = """
version: "n1"
pools: [{name: na}, {name: emea}]
routing: [{name: na, when: {country: US}, pool: na}]
fallback: {owner: ops, queue: unrouted}
lead_types:
  types:
    - {name: demo, when: {lead_type: demo}, sla: 1h}
    - {name: contact, when: {lead_type: contact}, sla: 4h}
notifications:
  record_url: "https://crm.example.com/leads/{lead_id}"
  channels:
    console: {kind: console}
    ops-console: {kind: console}
  default: [console]
  by_lead_type: {demo: [console, ops-console]}
  by_pool: {unrouted: [ops-console]}
"""
ANN = Rep(
    id="r1",
    name="Ann",
    availability=Availability(timezone="America/New_York"),
    booking_url="https://cal.example.com/ann",
)


def decision(lead_type: str = "demo", pool: str = "na", **kw: object) -> Decision:
    values: dict[str, object] = {
        "id": decision_id_for("L1", 1),
        "lead_id": "L1",
        "status": DecisionStatus.ROUTED,
        "owner_id": "r1",
        "step": RouteStep.POOL,
        "pool": pool,
        "policy_version": "n1",
        "decided_at": AT,
        "lead_type": lead_type,
        "reason": "round robin in na: Ann was next",
        "sla_due_at": AT + timedelta(hours=1),
    }
    values.update(kw)
    return Decision(**values)  # type: ignore[arg-type]


LEAD = Lead(
    id="L1", email="jo@acme.com", name="Jo Doe", company="Acme", country="US", employees=250
)


def test_effects_follow_the_policys_channels_per_type_and_pool():
    """A demo gets the demo channels, another type the default, the queue its own channels."""
    policy = parse_policy(POLICY)
    demo = notification_effects(decision(), policy, lead=LEAD)
    assert [e.kind for e in demo] == ["notify:console", "notify:ops-console"]
    other = notification_effects(decision(lead_type="contact"), policy, lead=LEAD)
    assert [e.kind for e in other] == ["notify:console"]
    queued = notification_effects(
        decision(lead_type="", pool="", queue="unrouted", status=DecisionStatus.FALLBACK),
        policy,
    )
    assert [e.kind for e in queued] == ["notify:ops-console"]


def test_effect_keys_are_deterministic_per_purpose_and_recipient():
    """The same decision, purpose and recipient give the same key; another purpose another."""
    policy = parse_policy(POLICY)
    first = notification_effects(decision(), policy, lead=LEAD)
    again = notification_effects(decision(), policy, lead=LEAD)
    reminder = notification_effects(decision(), policy, purpose="reminder")
    assert [e.idem_key for e in first] == [e.idem_key for e in again]
    assert not {e.idem_key for e in first} & {e.idem_key for e in reminder}


def test_payload_holds_no_personal_data():
    """The stored payload has the company and facts, never the person's name or email."""
    policy = parse_policy(POLICY)
    [effect, _] = notification_effects(decision(), policy, lead=LEAD)
    text = repr(effect.payload)
    assert "Acme" in text
    assert "Jo Doe" not in text and "jo@acme.com" not in text


def test_message_has_summary_reason_local_deadline_link_and_booking():
    """The assigned message: summary, why this rep, deadline in the rep's zone, CRM and booking links."""
    policy = parse_policy(POLICY)
    [effect, _] = notification_effects(decision(), policy, lead=LEAD)
    stream = io.StringIO()
    notifier = Notifier(policy, {"r1": ANN}, env={}, stream=stream)
    [result] = notifier.apply([effect])
    assert result.ok
    text = stream.getvalue()
    assert "Acme (US, 250 employees)" in text
    assert "Why you: round robin in na: Ann was next" in text
    assert "Mon 2 Nov 2026, 10:00 EST" in text  # 15:00 UTC in New York
    assert "https://crm.example.com/leads/L1" in text
    assert "https://cal.example.com/ann" in text


def test_no_booking_link_when_no_meeting_was_asked():
    """A contact lead without ``meeting_requested`` gets no booking link."""
    policy = parse_policy(POLICY)
    [effect] = notification_effects(decision(lead_type="contact"), policy, lead=LEAD)
    stream = io.StringIO()
    Notifier(policy, {"r1": ANN}, env={}, stream=stream).apply([effect])
    assert "cal.example.com" not in stream.getvalue()
    asked = Lead(id="L1", company="Acme", attributes={"meeting_requested": "yes"})
    [effect] = notification_effects(decision(lead_type="contact"), policy, lead=asked)
    stream = io.StringIO()
    Notifier(policy, {"r1": ANN}, env={}, stream=stream).apply([effect])
    assert "cal.example.com/ann" in stream.getvalue()


def test_templates_can_be_overridden_from_a_folder(tmp_path):
    """A template of the same name in the policy's folder replaces the built-in one."""
    (tmp_path / "assigned.txt.j2").write_text("Custom: {{ lead.company }} for {{ rep_name }}\n")
    renderer = Renderer(str(tmp_path))
    context = renderer.context(
        {"purpose": "assigned", "lead": {"company": "Acme"}, "lead_id": "L1"}, ANN, {}, ""
    )
    message = renderer.render("assigned", context)
    assert message.text == "Custom: Acme for Ann"
    assert message.subject.startswith("New ")  # the subject template was not overridden


def test_policy_templates_folder_is_relative_to_the_policy_file(tmp_path):
    """``notifications.templates`` is resolved next to the policy file."""
    (tmp_path / "policy.yaml").write_text(
        'version: "1"\nfallback: {owner: ops}\nnotifications: {templates: mine}\n'
    )
    from leadroute.policy import load_policy

    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.notifications.templates == str(tmp_path / "mine")


def test_slack_messages_escape_control_characters():
    """``<``, ``>`` and ``&`` from lead data cannot become Slack mentions or links."""
    renderer = Renderer()
    context = renderer.context(
        {"purpose": "assigned", "lead": {"company": "<!channel> & co"}, "reason": "r"},
        ANN,
        {},
        "",
    )
    assert "&lt;!channel&gt; &amp; co" in renderer.render("assigned", context, slack=True).text
    assert "<!channel> & co" in renderer.render("assigned", context).text


def test_local_time_crosses_dst():
    """The same UTC hour reads an hour apart in New York before and after the DST change."""
    assert local_time("2026-10-30T14:00:00+00:00", "America/New_York").endswith("10:00 EDT")
    assert local_time("2026-11-02T14:00:00+00:00", "America/New_York").endswith("09:00 EST")


def test_a_channel_whose_secret_is_missing_fails_at_start():
    """A Slack channel without its token in the environment is a policy error naming the variable."""
    policy = parse_policy(
        POLICY.replace("console: {kind: console}", "console: {kind: slack, token_env: MY_TOKEN}")
    )
    with pytest.raises(PolicyError, match="MY_TOKEN"):
        Notifier(policy, {}, env={})
    assert Notifier(policy, {}, env={"MY_TOKEN": "xoxb-1"}).channels["console"]


def test_unknown_channel_effect_is_refused():
    """An effect naming a channel the policy no longer has goes dead with the reason."""
    policy = parse_policy(POLICY)
    effect = Effect(kind="notify:gone", decision_id="d", lead_id="L1", idem_key="k")
    [result] = Notifier(policy, {}, env={}, stream=io.StringIO()).apply([effect])
    assert not result.ok and not result.retryable and "gone" in result.detail


class Crm:
    name = "crm"

    def __init__(self) -> None:
        self.applied: list[str] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def apply(self, effects):  # type: ignore[no-untyped-def]
        self.applied += [e.kind for e in effects]
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]

    def report_problems(self, problems: list[InputProblem]) -> None:
        return None


def test_effect_router_splits_notifications_from_crm_effects():
    """Owner writes go to the CRM adapter, notifications to the notifier; one result each."""
    policy = parse_policy(POLICY)
    crm = Crm()
    router = EffectRouter(crm, Notifier(policy, {"r1": ANN}, env={}, stream=io.StringIO()))
    effects = [
        Effect(kind="owner_write", decision_id="d", lead_id="L1", idem_key="a"),
        *notification_effects(decision(), policy, lead=LEAD),
    ]
    results = router.apply(effects)
    assert crm.applied == ["owner_write"]
    assert sorted(r.idem_key for r in results) == sorted(e.idem_key for e in effects)
    assert all(r.ok for r in results)
