"""leadroute-learned-fit: per-rep conversion rates learned from outcomes, as a fit contribution.

``leadroute fit train --store ... --out model.json`` trains a model from the store's
decisions and outcomes; ``fit.learned`` in the policy puts it to work.
"""

from __future__ import annotations

from leadroute_learned_fit.model import DIMENSIONS, TARGETS, Example, Model, Prediction, train

__all__ = ["DIMENSIONS", "TARGETS", "Example", "Model", "Prediction", "train"]
