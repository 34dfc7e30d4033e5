"""A simulated world for the router's learning: hidden pass rates per (model, tag).

Each motion model has a hidden gate pass rate per brief tag (night, product,
portrait, sports, landscape): its catalog prior's order scrambled by ±0.25.
The router picks a model per brief, the gate passes with the hidden rate,
the outcome is recorded; regret is measured against an oracle that knows the
hidden rates and picks the best eligible model. ``benchmarks/
simulate_routing.py`` prints the tables; the tests hold the shape (learning
beats the static router, regret grows sub-linearly).
"""

from __future__ import annotations

import random

from routeyard import catalog as cat
from routeyard import ops
from routeyard.brief import Brief
from routeyard.routing.learning import Learner
from routeyard.routing.router import CatalogRouter
from tests.support.evaluation import all_keys

TAGS = ("night", "product", "portrait", "sports", "landscape")
BRIEFS = 500
SEEDS = 5


def hidden_world(catalog: cat.Catalog, rng: random.Random) -> dict[tuple[str, str], float]:
    """Pass rate per (model, tag): the prior's rank order scrambled by ±0.25."""
    world = {}
    for m in catalog.serving("animate"):
        prior = m.trait("temporal_stability") or 0.5
        for tag in TAGS:
            world[(m.id, tag)] = min(0.97, max(0.03, prior - 0.15 + rng.uniform(-0.25, 0.25)))
    return world


def brief_for(rng: random.Random, policy: str, explore: bool) -> tuple[Brief, str]:
    tag = rng.choice(TAGS)
    motion = rng.choice(("cinematic", "gentle", None))
    return Brief(prompt="a shot", tags=[tag], motion=motion, policy=policy, explore=explore), tag


def simulate(mode: str, policy: str, seed: int, briefs: int = BRIEFS) -> dict[str, list[float]]:
    """Route ``briefs`` briefs in one hidden world; per brief: regret, hidden pass rate, cost."""
    catalog = cat.load().with_local(ops.all_ops())
    rng = random.Random(seed)
    world = hidden_world(catalog, random.Random(1000 + seed))
    learner = Learner(catalog, rng=random.Random(seed), clock=lambda: 0.0)
    router = CatalogRouter(
        catalog, env=all_keys(catalog), learned=None if mode == "static" else learner
    )
    animate = ops.get_op("animate")
    regret, quality, cost = [], [], []
    for _ in range(briefs):
        brief, tag = brief_for(rng, policy, explore=mode == "thompson")
        d = router.decide(op=animate, model="auto", params={}, brief=brief)
        eligible = [c["model"] for c in d.candidates]
        chosen = d.chosen.model
        p = world[(chosen, tag)]
        best = max(world[(m, tag)] for m in eligible)
        passed = rng.random() < p
        learner.record(
            chosen, "motion", [tag, *([f"motion:{brief.motion}"] if brief.motion else [])], passed
        )
        regret.append(best - p)
        quality.append(p)
        cost.append(d.chosen.est_cost_usd)
    return {"regret": regret, "quality": quality, "cost": cost}


def cumulative(xs: list[float]) -> list[float]:
    out, total = [], 0.0
    for x in xs:
        total += x
        out.append(total)
    return out


def mean_curve(runs: list[list[float]]) -> list[float]:
    return [sum(r[i] for r in runs) / len(runs) for i in range(len(runs[0]))]
