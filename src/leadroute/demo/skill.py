"""The demo reps' latent skill: how much better or worse each converts by segment and product.

The truth behind the demo's simulated outcomes (``activity.csv``): a rep's chance of
booking a meeting, and of converting after one, is the base chance moved in log-odds by
the rep's skill for the lead's segment plus their skill for its product. It is drawn from
its own seeded stream, so every other generated value stays as it was, and nothing in
leadroute reads it: the learned fit must find it in the outcomes (the back-test,
``benchmarks/learned_fit.py``, uses it only to score routings by their true expected
conversions).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

__all__ = ["PRODUCTS", "SEGMENTS", "chance", "latent_skill"]

SEGMENTS: tuple[str, ...] = ("smb", "enterprise")
PRODUCTS: tuple[str, ...] = ("analytics", "data-platform")
SPREAD = 0.55  # standard deviation of a rep's skill in log-odds, per segment and product


def latent_skill(rep_ids: Sequence[str], seed: int = 7) -> dict[str, dict[str, float]]:
    """Rep -> (segment or product name) -> log-odds skill; seeded, never read by routing."""
    rng = random.Random(f"{seed}:latent-skill")
    return {
        rep: {name: round(rng.gauss(0.0, SPREAD), 3) for name in (*SEGMENTS, *PRODUCTS)}
        for rep in sorted(rep_ids)
    }


def chance(
    base: float, skill: Mapping[str, Mapping[str, float]], rep: str, segment: str, product: str
) -> float:
    """The base chance moved by the rep's skill for this segment and product."""
    mine = skill.get(rep, {})
    x = math.log(base / (1 - base)) + mine.get(segment, 0.0) + mine.get(product, 0.0)
    return 1 / (1 + math.exp(-x))
