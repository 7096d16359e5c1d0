"""The built-in fit: language, product and headroom contributions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import AT, lead, policy_from, rep

from leadroute.builtins import fit
from leadroute.context import RoutingContext
from leadroute.models import FitContribution

_WORDS = st.sampled_from(("", "en", "EN", "de", "fr", "crm", "Crm", "erp"))


@settings(max_examples=200, deadline=None)
@given(value=_WORDS, allowed=st.lists(_WORDS.filter(bool), max_size=3).map(tuple))
def test_listed_answers_as_computed_afresh(value, allowed):
    """The per-argument cache gives what the check computes without it, case-insensitively."""
    for label in ("language", "product"):
        assert fit._listed(value, allowed, label) == fit._listed.__wrapped__(value, allowed, label)


@settings(max_examples=200, deadline=None)
@given(load=st.integers(0, 50), cap=st.none() | st.integers(0, 40))
def test_headroom_answers_as_computed_afresh(load, cap):
    """The per-(load, cap) cache gives the free share of the cap (0.5 uncapped, never below 0)."""
    assert fit._headroom(load, cap) == fit._headroom.__wrapped__(load, cap)


def test_contributions_for_a_listed_language_an_unknown_product_and_headroom():
    """A listed language scores 1, no product preference 0.5, headroom the free share of the cap."""
    ctx = RoutingContext(at=AT, policy=policy_from(), loads={"a": 5}, constraints=(), rule="r")
    parts = fit.leadroute_score_fit(
        lead("L1", language="DE"), rep("a", cap=20, languages=("en", "de")), ctx
    )
    assert parts == [
        FitContribution(name="language", value=1.0, detail="language DE listed"),
        FitContribution(name="product", value=0.5, detail="no product preference"),
        FitContribution(name="headroom", value=0.75, detail="5/20 open"),
    ]
