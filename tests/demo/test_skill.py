"""The demo's latent skill: seeded, apart from the other draws, and what drives meetings."""

from __future__ import annotations

import random

import pytest
from tests.conftest import AT

from leadroute.demo.activity import _events
from leadroute.demo.generate import industry_of
from leadroute.demo.skill import chance, latent_skill
from leadroute.models import Decision, DecisionStatus, RouteStep, decision_id_for


def test_the_skill_table_is_seeded_and_spread():
    """The same seed gives the same table; another seed another; skills are not all zero."""
    reps = [f"rep-{i:03d}" for i in range(20)]
    assert latent_skill(reps, 7) == latent_skill(list(reversed(reps)), 7)
    assert latent_skill(reps, 7) != latent_skill(reps, 8)
    values = [v for skills in latent_skill(reps, 7).values() for v in skills.values()]
    assert max(values) > 0.5 and min(values) < -0.5


def test_chance_moves_with_skill_in_log_odds():
    """Segment and product skill add in log-odds; an unknown rep has the base chance."""
    skill = {"a": {"smb": 1.0, "analytics": 0.5}}
    assert chance(0.3, skill, "nobody", "smb", "analytics") == pytest.approx(0.3)
    assert chance(0.3, skill, "a", "smb", "analytics") > chance(0.3, skill, "a", "smb", "other")
    assert chance(0.3, skill, "a", "enterprise", "other") == pytest.approx(0.3)


def test_meetings_follow_the_owners_skill():
    """Over many touched leads, a rep with high skill for the lead's segment and product books
    clearly more meetings than one with low skill, from the same random draws."""
    skill = {"good": {"smb": 1.2, "analytics": 0.8}, "poor": {"smb": -1.2, "analytics": -0.8}}

    def meetings(rep: str) -> int:
        count = 0
        for i in range(1500):
            d = Decision(
                id=decision_id_for(f"L{i}", 1),
                lead_id=f"L{i}",
                status=DecisionStatus.ROUTED,
                owner_id=rep,
                step=RouteStep.POOL,
                policy_version="t",
                decided_at=AT,
                features={"segment": "smb", "product": "analytics"},
            )
            kinds = [k for _, _, k, _ in _events(d, random.Random(i), skill)]
            count += "meeting_booked" in kinds
        return count

    assert meetings("good") > 2 * meetings("poor")


def test_industry_comes_from_the_company_name():
    """The industry column is the company's trade word mapped, blank when it has none."""
    assert industry_of("Blue Finance, Ltd") == "fintech"
    assert industry_of("Lone Pine Consulting") == ""
