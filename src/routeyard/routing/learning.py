"""Learning from quality: a Beta posterior of each model's gate pass rate.

Every gate result is an outcome against (model, stage, brief tags). For each
(model, stage, tag) — and for (model, stage) over all briefs, tag ``*`` —
the router keeps Beta(α, β) of the pass rate. The prior comes from the
catalog: the model's trait for that stage as its mean, worth
``prior_strength`` outcomes, so a new model starts where the catalog puts
it and data moves it. Outcomes are discounted by age (``half_life_days``),
so the posterior follows a model that drifts. The router adds
``weight × (posterior mean − prior mean)``, averaged over the brief's tags
that have data; with ``explore`` it draws from the posterior instead
(Thompson sampling), so an under-tried model gets its chances.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from routeyard.catalog import Catalog
from routeyard.catalog import load as load_catalog

# The trait a stage's gates mostly judge: the prior's mean.
STAGE_TRAIT = {
    "base": "prompt_adherence",
    "refine": "edit_precision",
    "motion": "temporal_stability",
}
ALL = "*"


@dataclass
class Posterior:
    alpha: float
    beta: float
    prior_mean: float
    n: float  # discounted outcomes seen

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass
class Learner:
    catalog: Catalog = field(default_factory=load_catalog)
    prior_strength: float = 8.0
    half_life_days: float = 30.0
    weight: float = 0.5
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    clock: Any = time.time
    # (model, stage, tag) → list of (passed, time)
    _seen: dict[tuple[str, str, str], list[tuple[bool, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], **kw: Any) -> Learner:
        learner = cls(**kw)
        for r in rows:
            learner.record(
                r["model"], r["stage"], r.get("tags") or [], bool(r["passed"]), r["created_at"]
            )
        return learner

    def record(
        self, model: str, stage: str, tags: list[str], passed: bool, at: float | None = None
    ) -> None:
        at = self.clock() if at is None else at
        for tag in {ALL, *tags}:
            self._seen[(model, stage, tag)].append((passed, at))

    def prior(self, model: str, stage: str) -> float:
        m = self.catalog.get(model)
        value = m.trait(STAGE_TRAIT.get(stage, "prompt_adherence")) if m else None
        return 0.5 if value is None else min(max(value, 0.02), 0.98)

    def posterior(self, model: str, stage: str, tag: str = ALL) -> Posterior:
        mean = self.prior(model, stage)
        alpha, beta = mean * self.prior_strength, (1 - mean) * self.prior_strength
        now, n = self.clock(), 0.0
        for passed, at in self._seen.get((model, stage, tag), ()):
            w = 0.5 ** (max(0.0, now - at) / 86400 / self.half_life_days)
            n += w
            if passed:
                alpha += w
            else:
                beta += w
        return Posterior(alpha, beta, mean, n)

    def adjustment(self, model: str, stage: str, tags: list[str], explore: bool = False) -> float:
        """What the router adds to the model's score for a brief with ``tags``."""
        keys = [t for t in tags if self._seen.get((model, stage, t))] or [ALL]
        deltas = []
        for tag in keys:
            p = self.posterior(model, stage, tag)
            value = self.rng.betavariate(p.alpha, p.beta) if explore else p.mean
            deltas.append(value - p.prior_mean)
        return self.weight * sum(deltas) / len(deltas)

    def __call__(self, model: str, stage: str, tags: list[str], explore: bool) -> float:
        return self.adjustment(model, stage, tags, explore)

    def stats(self) -> list[dict[str, Any]]:
        out = []
        for model, stage, tag in sorted(self._seen):
            p = self.posterior(model, stage, tag)
            raw = self._seen[(model, stage, tag)]
            out.append(
                {
                    "model": model,
                    "stage": stage,
                    "tag": tag,
                    "outcomes": len(raw),
                    "passed": sum(1 for ok, _ in raw if ok),
                    "weighted_n": round(p.n, 2),
                    "prior_mean": round(p.prior_mean, 3),
                    "posterior_mean": round(p.mean, 3),
                    "ci90": [round(x, 3) for x in _beta_interval(p.alpha, p.beta)],
                }
            )
        return out


def _beta_interval(a: float, b: float) -> tuple[float, float]:
    """A normal approximation of the 90 % interval of Beta(a, b), clipped to [0, 1]."""
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return max(0.0, mean - 1.645 * sd), min(1.0, mean + 1.645 * sd)
