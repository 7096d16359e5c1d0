"""Per-rep conversion rates by segment, industry, product and region, learned from outcomes.

The estimate, and why it is this one:

* **Examples.** Each lead whose latest routed decision gave it to a rep (not a queue) and
  is at least ``mature_after`` old: a lead decided yesterday has not had time to convert,
  and counting it as a miss would bias every rate down. Its label is whether the lead
  reached the target (``meeting_booked``, ``opportunity`` or ``won``; a later stage
  counts for an earlier one). Each example weighs ``0.5 ** (age / half_life)``, so last
  quarter counts more than last year.
* **Rates with empirical-Bayes shrinkage.** For each dimension ``d`` and value ``v`` the
  team rate ``T`` is the weighted conversion rate of everyone's leads with ``d = v``. A
  rep's rate in that cell is ``(a + k_d T) / (n + k_d)`` (``a`` weighted conversions,
  ``n`` weighted leads): a Beta(``k_d T``, ``k_d (1 - T)``) prior centred on the team. The
  prior's strength ``k_d`` is estimated from the data by maximising the beta-binomial
  marginal likelihood of every rep's cells (``scipy.optimize.minimize_scalar`` over
  ``scipy.special.betaln``): when reps truly differ, ``k_d`` is small and a rep's own
  record speaks; when they do not, ``k_d`` is large and three lucky leads move nothing.
* **Combining dimensions, calibrated.** A lead has a value in each dimension; the rep's
  lift in a cell is ``logit(rate) - logit(T)``. The prediction is
  ``sigmoid(c0 + c1 * base + c2 * sum of lifts)``, where ``base`` is the lead's team
  log-odds (global rate plus each dimension's team lift). ``c0..c2`` are fitted by
  maximum likelihood (``scipy.optimize.minimize``) with *leave-one-out* lifts, so the
  weights are not inflated by each example explaining itself; they absorb the overlap
  between dimensions (a rep's overall skill shows in every one of them).

Why not scikit-learn: a logistic regression over rep x feature interactions would need
its regularisation tuned by cross-validation and could not say "n=48" for a rep; the
rates are exactly what ``explain`` prints, and the shrinkage strength is estimated, not
tuned. scipy does the two small optimisations; everything else is counting.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from leadroute.models import Decision, DecisionStatus, Outcome, OutcomeKind, RouteStep

if TYPE_CHECKING:
    import numpy as np

# numpy and scipy are imported where a model is trained: the plugin is loaded by every
# leadroute command, and scoring needs neither.

__all__ = [
    "DIMENSIONS",
    "FORMAT",
    "TARGETS",
    "Example",
    "Model",
    "Prediction",
    "examples_from",
    "train",
]

FORMAT = "leadroute-learned-fit/1"
DIMENSIONS: tuple[str, ...] = ("segment", "industry", "product", "region")

# A target is reached by any outcome at its stage or later.
TARGETS: Mapping[str, frozenset[OutcomeKind]] = {
    "meeting_booked": frozenset(
        {OutcomeKind.MEETING_BOOKED, OutcomeKind.CONVERTED, OutcomeKind.WON}
    ),
    "opportunity": frozenset({OutcomeKind.CONVERTED, OutcomeKind.WON}),
    "won": frozenset({OutcomeKind.WON}),
}
# Steps whose owner is a queue's named person, not a rep chosen to work the lead.
_QUEUE_STEPS = frozenset({RouteStep.FALLBACK, RouteStep.NURTURE})
_TEAM_PRIOR = 10.0  # pseudo-leads pulling a rare cell's team rate toward the global rate
_EPS = 1e-6


@attrs.frozen(kw_only=True)
class Example:
    """One lead a rep worked, with whether it reached the target.

    Attributes:
        lead_id: The lead.
        rep_id: The rep who owned it.
        features: Dimension -> value (``segment: smb``); absent dimensions are left out.
        converted: Whether it reached the target.
        weight: Time-decay weight (1 for a lead decided at the training time).
    """

    lead_id: str
    rep_id: str
    features: Mapping[str, str]
    converted: bool
    weight: float = 1.0


def examples_from(
    decisions: Iterable[Decision],
    outcomes: Iterable[Outcome],
    *,
    target: str,
    as_of: datetime,
    half_life: timedelta,
    mature_after: timedelta,
) -> list[Example]:
    """Training examples from a store's decision history and outcomes (see the module doc)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (one of: {', '.join(TARGETS)})")
    kinds = TARGETS[target]
    latest: dict[str, Decision] = {}
    for d in decisions:
        if d.lead_id not in latest or d.epoch > latest[d.lead_id].epoch:
            latest[d.lead_id] = d
    reached = {o.lead_id for o in outcomes if o.kind in kinds and o.at <= as_of}
    examples = []
    for d in latest.values():
        if d.status != DecisionStatus.ROUTED or d.step in _QUEUE_STEPS or not d.owner_id:
            continue
        age = as_of - d.decided_at
        if age < mature_after:
            continue
        examples.append(
            Example(
                lead_id=d.lead_id,
                rep_id=d.owner_id,
                features={k: d.features[k] for k in DIMENSIONS if d.features.get(k)},
                converted=d.lead_id in reached,
                weight=0.5 ** (age / half_life),
            )
        )
    return sorted(examples, key=lambda e: e.lead_id)


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _strength(cells: Sequence[tuple[float, float, float]]) -> float:
    """The prior strength ``k`` maximising the beta-binomial likelihood of ``(a, n, T)`` cells."""
    import numpy as np  # noqa: PLC0415
    from scipy import optimize, special  # noqa: PLC0415

    if not cells:
        return _TEAM_PRIOR
    a, n, t = (np.array(c, dtype=float) for c in zip(*cells, strict=True))
    t = np.clip(t, _EPS, 1 - _EPS)

    def minus_loglik(log_k: float) -> float:
        k = math.exp(log_k)
        alpha, beta = k * t, k * (1 - t)
        return float(-np.sum(special.betaln(a + alpha, n - a + beta) - special.betaln(alpha, beta)))

    found = optimize.minimize_scalar(
        minus_loglik, bounds=(math.log(0.5), math.log(1e4)), method="bounded"
    )
    return float(math.exp(found.x))


@attrs.frozen(kw_only=True)
class Prediction:
    """What the model says about one rep for one lead.

    Attributes:
        rate: The rep's predicted chance of reaching the target.
        team: The team's predicted chance for this lead (no rep lift).
        evidence: The rep's leads in the training history.
        used: Whether the rep's own record counted (evidence at least the minimum).
    """

    rate: float
    team: float
    evidence: int
    used: bool


# eq=False: a model is compared (and cached) by identity; one is loaded per file digest.
@attrs.frozen(kw_only=True, eq=False)
class Model:
    """A trained model: team rates, each rep's lifts by cell, and the calibration.

    Attributes:
        target: ``meeting_booked``, ``opportunity`` or ``won``.
        as_of: The training time (decay and maturity are measured from it).
        half_life: Time-decay half-life of the examples.
        mature_after: Minimum age of a lead to count.
        examples: Examples used; ``positives`` of them reached the target.
        positives: Examples that reached the target.
        global_rate: Weighted rate over every example.
        strength: Dimension -> estimated prior strength ``k_d`` (in weighted leads).
        team: Dimension -> value -> team rate.
        lifts: Rep -> dimension -> value -> log-odds lift over the team (shrunk).
        cells: Rep -> dimension -> value -> (shrunk rate, leads): for explaining.
        evidence: Rep -> leads in the history.
        calibration: ``(c0, c1, c2)`` of ``sigmoid(c0 + c1 * base + c2 * lift)``.
    """

    target: str
    as_of: datetime
    half_life: timedelta
    mature_after: timedelta
    examples: int
    positives: int
    global_rate: float
    strength: Mapping[str, float]
    team: Mapping[str, Mapping[str, float]]
    lifts: Mapping[str, Mapping[str, Mapping[str, float]]]
    cells: Mapping[str, Mapping[str, Mapping[str, tuple[float, int]]]]
    evidence: Mapping[str, int]
    calibration: tuple[float, float, float]

    def _base(self, features: Mapping[str, str]) -> float:
        g = _logit(self.global_rate)
        return g + sum(
            _logit(self.team[d][v]) - g for d, v in features.items() if v in self.team.get(d, {})
        )

    def predict(self, rep_id: str, features: Mapping[str, str], min_evidence: int) -> Prediction:
        """The rep's and the team's chance for a lead with these features."""
        c0, c1, c2 = self.calibration
        team_x = c0 + c1 * self._base(features)
        evidence = self.evidence.get(rep_id, 0)
        used = evidence >= min_evidence and evidence > 0
        lift = 0.0
        if used:
            mine = self.lifts.get(rep_id, {})
            lift = sum(mine.get(d, {}).get(v, 0.0) for d, v in features.items())
        team = _sigmoid(team_x)
        return Prediction(
            rate=_sigmoid(team_x + c2 * lift) if used else team,
            team=team,
            evidence=evidence,
            used=used,
        )

    # ------------------------------------------------------------------ file format

    def to_json(self) -> str:
        """The model file's text (sorted keys, so the same model is the same bytes)."""
        data = {
            "format": FORMAT,
            "target": self.target,
            "as_of": self.as_of.isoformat(),
            "half_life_days": self.half_life / timedelta(days=1),
            "mature_after_days": self.mature_after / timedelta(days=1),
            "examples": self.examples,
            "positives": self.positives,
            "global_rate": self.global_rate,
            "strength": dict(self.strength),
            "team": {d: dict(v) for d, v in self.team.items()},
            "calibration": list(self.calibration),
            "reps": {
                rep: {
                    "evidence": self.evidence[rep],
                    "cells": {
                        d: {v: [rate, n, self.lifts[rep][d][v]] for v, (rate, n) in vals.items()}
                        for d, vals in self.cells[rep].items()
                    },
                }
                for rep in sorted(self.evidence)
            },
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, origin: str = "model") -> Model:
        """Read a model file; ``ValueError`` names what is wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{origin}: not JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{origin}: not a {FORMAT} model (train one with leadroute fit train)")
        try:
            reps: dict[str, Any] = data["reps"]
            return cls(
                target=data["target"],
                as_of=datetime.fromisoformat(data["as_of"]),
                half_life=timedelta(days=data["half_life_days"]),
                mature_after=timedelta(days=data["mature_after_days"]),
                examples=int(data["examples"]),
                positives=int(data["positives"]),
                global_rate=float(data["global_rate"]),
                strength={k: float(v) for k, v in data["strength"].items()},
                team={
                    d: {v: float(r) for v, r in vals.items()} for d, vals in data["team"].items()
                },
                lifts={
                    rep: {
                        d: {v: float(c[2]) for v, c in vals.items()}
                        for d, vals in r["cells"].items()
                    }
                    for rep, r in reps.items()
                },
                cells={
                    rep: {
                        d: {v: (float(c[0]), int(c[1])) for v, c in vals.items()}
                        for d, vals in r["cells"].items()
                    }
                    for rep, r in reps.items()
                },
                evidence={rep: int(r["evidence"]) for rep, r in reps.items()},
                calibration=tuple(float(c) for c in data["calibration"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{origin}: malformed model ({type(exc).__name__}: {exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Read a model file from disk."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"), origin=str(path))

    @property
    def digest(self) -> str:
        """SHA-256 of the model file's text."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def _calibrate(
    base: np.ndarray, lift: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[float, float, float]:
    """``(c0, c1, c2)`` maximising the weighted log-likelihood of ``sigmoid(c0 + c1 b + c2 l)``."""
    import numpy as np  # noqa: PLC0415
    from scipy import optimize, special  # noqa: PLC0415

    def loss(c: np.ndarray) -> tuple[float, np.ndarray]:
        x = c[0] + c[1] * base + c[2] * lift
        p = special.expit(x)
        ll = w * (y * np.log(np.clip(p, _EPS, 1)) + (1 - y) * np.log(np.clip(1 - p, _EPS, 1)))
        r = w * (p - y)
        grad = np.array([r.sum(), (r * base).sum(), (r * lift).sum()])
        return float(-ll.sum()), grad

    found = optimize.minimize(loss, np.array([0.0, 1.0, 1.0]), jac=True, method="L-BFGS-B")
    c0, c1, c2 = (float(v) for v in found.x)
    return c0, c1, c2


def train(
    examples: Sequence[Example],
    *,
    target: str,
    as_of: datetime,
    half_life: timedelta,
    mature_after: timedelta,
) -> Model:
    """Fit the model to examples (see the module doc); ``ValueError`` when there are none."""
    if not examples:
        raise ValueError("no examples: no routed lead is old enough and has an owner")
    total_w = sum(e.weight for e in examples)
    global_rate = (sum(e.weight for e in examples if e.converted) + 0.5) / (total_w + 1.0)
    # Team rates per cell, pulled toward the global rate when the cell is thin.
    sums: dict[tuple[str, str], list[float]] = {}
    rep_sums: dict[tuple[str, str, str], list[float]] = {}
    evidence: dict[str, int] = {}
    for e in examples:
        evidence[e.rep_id] = evidence.get(e.rep_id, 0) + 1
        for d, v in e.features.items():
            cell = sums.setdefault((d, v), [0.0, 0.0, 0])
            cell[0] += e.weight * e.converted
            cell[1] += e.weight
            mine = rep_sums.setdefault((e.rep_id, d, v), [0.0, 0.0, 0])
            mine[0] += e.weight * e.converted
            mine[1] += e.weight
            mine[2] += 1
    team: dict[str, dict[str, float]] = {}
    for (d, v), (a, n, _) in sums.items():
        team.setdefault(d, {})[v] = (a + _TEAM_PRIOR * global_rate) / (n + _TEAM_PRIOR)
    strength = {
        d: _strength([(a, n, team[d][v]) for (_, dd, v), (a, n, _) in rep_sums.items() if dd == d])
        for d in team
    }

    def shrunk(a: float, n: float, d: str, v: str) -> float:
        k = strength[d]
        return (a + k * team[d][v]) / (n + k)

    lifts: dict[str, dict[str, dict[str, float]]] = {}
    cells: dict[str, dict[str, dict[str, tuple[float, int]]]] = {}
    for (rep, d, v), (a, n, count) in rep_sums.items():
        rate = shrunk(a, n, d, v)
        lifts.setdefault(rep, {}).setdefault(d, {})[v] = _logit(rate) - _logit(team[d][v])
        cells.setdefault(rep, {}).setdefault(d, {})[v] = (rate, int(count))
    # Calibration on leave-one-out lifts: each example's own outcome taken out of its cells.
    g = _logit(global_rate)
    base, lift, y, w = [], [], [], []
    for e in examples:
        b, li = g, 0.0
        for d, v in e.features.items():
            b += _logit(team[d][v]) - g
            a, n, _ = rep_sums[(e.rep_id, d, v)]
            rate = shrunk(a - e.weight * e.converted, n - e.weight, d, v)
            li += _logit(rate) - _logit(team[d][v])
        base.append(b)
        lift.append(li)
        y.append(float(e.converted))
        w.append(e.weight)
    import numpy as np  # noqa: PLC0415

    calibration = _calibrate(np.array(base), np.array(lift), np.array(y), np.array(w))
    return Model(
        target=target,
        as_of=as_of,
        half_life=half_life,
        mature_after=mature_after,
        examples=len(examples),
        positives=sum(1 for e in examples if e.converted),
        global_rate=global_rate,
        strength=strength,
        team=team,
        lifts=lifts,
        cells=cells,
        evidence=evidence,
        calibration=calibration,
    )
