"""leadroute.testing: the public kit plugin authors test with."""

from __future__ import annotations

import pytest

import leadroute
from leadroute import testing
from leadroute.errors import PluginError
from leadroute.testing import AT, make_lead, make_policy, make_rep, make_team, route_one


class Guard:
    @leadroute.hookimpl
    def leadroute_exclude_rep(self, lead, rep, ctx):
        if rep.id == "rep-1":
            return [leadroute.Exclusion(rep_id=rep.id, code="GUARDED", detail="test")]
        return None


def test_route_one_routes_like_the_router_with_only_the_given_plugins():
    """Leads rotate round robin through the whole team; with a plugin excluding rep-1, the
    others share them and each decision records the exclusion."""
    leads = [make_lead(f"L{i}") for i in range(1, 4)]
    plain = route_one(make_policy(), leads, make_team(3))
    assert sorted(d.owner_id for d in plain) == ["rep-1", "rep-2", "rep-3"]
    guarded = route_one(make_policy(), leads, make_team(3), plugins=[Guard()])
    assert {d.owner_id for d in guarded} == {"rep-2", "rep-3"}
    assert all({e.code for e in d.all_exclusions()} == {"GUARDED"} for d in guarded)
    assert all(d.decided_at == AT for d in guarded)


def test_route_one_leaves_out_rejected_leads_and_raises_plugin_errors():
    """A lead without an email (rejected by a policy that needs one) gets no decision; a
    broken hook is a PluginError naming it."""
    policy = make_policy("validation: {required: [email]}")
    decisions = route_one(policy, [make_lead("L1"), make_lead("L2", email="")], make_team(2))
    assert [d.lead_id for d in decisions] == ["L1"]

    class Broken:
        @leadroute.hookimpl
        def leadroute_score_fit(self, lead, rep, ctx):
            return "oops"

    with pytest.raises(PluginError, match="hook leadroute_score_fit returned a str for lead L1"):
        route_one(make_policy(), [make_lead("L1")], make_team(2), plugins=[Broken()])


def test_builders_take_any_model_field():
    """make_lead/make_rep default sensibly and accept any field; make_team adds the queue owner."""
    lead = make_lead("L9", employees=5000, attributes={"tier": "gold"})
    assert (lead.country, lead.employees, lead.attributes["tier"]) == ("US", 5000, "gold")
    rep = make_rep("r", cap=3, languages=("de",))
    assert (rep.capacity.max_open, rep.languages, rep.pools) == (3, ("de",), (testing.POOL,))
    assert [r.id for r in make_team(2)] == ["rep-1", "rep-2", testing.QUEUE_OWNER]


def test_the_fixtures_are_registered_through_pytest11(
    leadroute_policy, leadroute_team, leadroute_host
):
    """The pytest11 entry point makes the kit's fixtures available without a conftest."""
    host = leadroute_host(Guard())
    assert "Guard" in {p.name for p in host.plugins()} or any(
        "leadroute_exclude_rep" in p.hooks for p in host.plugins() if p.source != "builtin"
    )
    assert leadroute_policy.version == "test" and len(leadroute_team) == 4


def test_everything_public_is_listed():
    """Every name in leadroute.testing.__all__ exists; nothing else public is exported."""
    assert all(hasattr(testing, name) for name in testing.__all__)
