"""The built-in validator: each problem has a code and a field, and the policy picks its action."""

from __future__ import annotations

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, standard_reps

from leadroute.host import hookimpl
from leadroute.models import DecisionStatus, Problem, RouteStep
from leadroute.pipeline import Decided, Rejected

INTAKE = (
    BASE_POLICY
    + """
nurture: {owner: mkt, queue: nurture}
validation:
  required: [email]
  sources: [web, event, partner, paid_search]
lead_types:
  default: contact
  types:
    - {name: demo, when: {lead_type: demo}, business_only: true, required: [company]}
    - {name: contact}
"""
)


def reps():
    return [*standard_reps(), rep("mkt")]


def codes(outcome):
    problems = outcome.problems if isinstance(outcome, Rejected) else outcome.decision.problems
    return {(p.code, p.field, p.action) for p in problems}


def test_gmail_on_a_demo_form_is_flagged_and_routed(make_pipeline):
    """A free-mail address on the business-only demo form routes, flagged, with the code."""
    outcome = make_pipeline(reps(), policy=policy_from(INTAKE)).decide(
        lead("L1", email="Sam.Rivera+demo@GMAIL.com", lead_type="demo", company="Lone Pine"), AT
    )
    assert isinstance(outcome, Decided)
    assert codes(outcome) == {("FREE_MAIL_ON_BUSINESS_FORM", "email", "flag")}
    assert outcome.decision.step == RouteStep.POOL


def test_gmail_on_a_form_that_is_not_business_only_is_fine(make_pipeline):
    """Free mail on a contact form is no problem."""
    outcome = make_pipeline(reps(), policy=policy_from(INTAKE)).decide(
        lead("L1", email="sam@gmail.com", lead_type="question"), AT
    )
    assert isinstance(outcome, Decided) and codes(outcome) == set()


@pytest.mark.parametrize("email", ["Jane.Doe@ACME.com", "jane.doe+webinar@acme.com"])
def test_mixed_case_and_plus_addressed_emails_are_valid(make_pipeline, email):
    """Mixed case and +tags are real addresses: no problem, and routed."""
    outcome = make_pipeline(reps(), policy=policy_from(INTAKE)).decide(lead("L1", email=email), AT)
    assert isinstance(outcome, Decided) and codes(outcome) == set()


@pytest.mark.parametrize(
    "email", ["jane@@acme.com", "jane@acme", "jane@lonepine.test", "jane@mail.invalid"]
)
def test_undeliverable_looking_email_is_rejected_by_default(make_pipeline, email):
    """Bad syntax or a reserved domain is INVALID_EMAIL, rejected to the exception report."""
    outcome = make_pipeline(reps(), policy=policy_from(INTAKE)).decide(lead("L1", email=email), AT)
    assert isinstance(outcome, Rejected)
    assert codes(outcome) == {("INVALID_EMAIL", "email", "reject")}


def test_each_code_names_its_field(make_pipeline):
    """Bad phone, unknown country, unknown source: one code each, routed with flags."""
    outcome = make_pipeline(reps(), policy=policy_from(INTAKE)).decide(
        lead("L1", phone="12", country="Atlantis", source="carrier-pigeon"), AT
    )
    assert isinstance(outcome, Decided)
    assert codes(outcome) == {
        ("INVALID_PHONE", "phone", "flag"),
        ("UNKNOWN_COUNTRY", "country", "flag"),
        ("UNKNOWN_SOURCE", "source", "flag"),
    }
    assert outcome.decision.status == DecisionStatus.FALLBACK  # no region for Atlantis


def test_required_fields_per_lead_type(make_pipeline):
    """A demo needs a company (its type's required list); a contact does not."""
    pipeline = make_pipeline(reps(), policy=policy_from(INTAKE))
    demo = pipeline.decide(lead("L1", lead_type="demo"), AT)
    contact = pipeline.decide(lead("L2", lead_type="contact"), AT)
    assert isinstance(demo, Rejected)
    assert codes(demo) == {("MISSING_FIELD", "company", "reject")}
    assert isinstance(contact, Decided)


def test_unknown_lead_type_without_default(make_pipeline):
    """With types but no default, an unclassified lead is flagged UNKNOWN_LEAD_TYPE."""
    policy = policy_from(
        INTAKE.replace("  default: contact\n", "").replace("    - {name: contact}\n", "")
    )
    outcome = make_pipeline(reps(), policy=policy).decide(lead("L1", lead_type="webinar"), AT)
    assert isinstance(outcome, Decided)
    assert codes(outcome) == {("UNKNOWN_LEAD_TYPE", "lead_type", "flag")}


def test_policy_actions_send_a_code_to_nurture_with_an_owner(make_pipeline):
    """actions: {FREE_MAIL_ON_BUSINESS_FORM: nurture} puts the lead in the nurture queue."""
    policy = policy_from(
        INTAKE.replace("  sources:", "  actions: {FREE_MAIL_ON_BUSINESS_FORM: nurture}\n  sources:")
    )
    outcome = make_pipeline(reps(), policy=policy).decide(
        lead("L1", email="sam@gmail.com", lead_type="demo", company="X"), AT
    )
    assert isinstance(outcome, Decided)
    d = outcome.decision
    assert (d.step, d.owner_id, d.queue, d.status) == (
        RouteStep.NURTURE,
        "mkt",
        "nurture",
        DecisionStatus.ROUTED,
    )
    assert "validation:nurture" in d.route_path


def test_policy_actions_can_reject_or_fallback(make_pipeline):
    """The same code can be rejected or sent to the fallback queue, as the policy says."""
    for action, expected in (("reject", Rejected), ("fallback", Decided)):
        policy = policy_from(
            INTAKE.replace("  sources:", f"  actions: {{UNKNOWN_SOURCE: {action}}}\n  sources:")
        )
        outcome = make_pipeline(reps(), policy=policy).decide(lead("L1", source="fax"), AT)
        assert isinstance(outcome, expected)
        if isinstance(outcome, Decided):
            assert outcome.decision.queue == "unrouted"
            assert "validation:fallback" in outcome.decision.route_path


def test_missing_action_fallback_still_goes_to_the_fallback_queue(make_pipeline):
    """The existing missing_action: fallback keeps working."""
    policy = policy_from(
        BASE_POLICY + "validation: {required: [company], missing_action: fallback}\n"
    )
    outcome = make_pipeline(policy=policy).decide(lead("L1"), AT)
    assert isinstance(outcome, Decided)
    assert (outcome.decision.status, outcome.decision.queue) == (
        DecisionStatus.FALLBACK,
        "unrouted",
    )


def test_policy_actions_apply_to_a_plugins_codes(make_pipeline):
    """A plugin's problem code takes the action the policy gives it."""

    class Spam:
        @hookimpl
        def leadroute_validate_lead(self, lead, policy):
            return [Problem(code="SPAM_SCORE", field="email", message="looks like spam")]

    policy = policy_from(INTAKE.replace("  sources:", "  actions: {SPAM_SCORE: flag}\n  sources:"))
    outcome = make_pipeline(reps(), policy=policy, plugins=[Spam()]).decide(lead("L1"), AT)
    assert isinstance(outcome, Decided)
    assert codes(outcome) == {("SPAM_SCORE", "email", "flag")}


def test_nurture_without_a_nurture_section_falls_back(make_pipeline):
    """A plugin asking for nurture under a policy without a nurture queue reaches a human."""

    class Cold:
        @hookimpl
        def leadroute_validate_lead(self, lead, policy):
            return [Problem(code="COLD", field="email", message="cold", action="nurture")]

    outcome = make_pipeline(plugins=[Cold()]).decide(lead("L1"), AT)
    assert isinstance(outcome, Decided)
    assert outcome.decision.queue == "unrouted"
    assert outcome.decision.reason == "cold; the policy has no nurture queue"
