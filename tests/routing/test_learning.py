"""Learning from gate outcomes: posteriors move with data, forget with age, and pay off."""

from __future__ import annotations

import pytest

from routeyard.catalog import load
from routeyard.routing.learning import Learner
from tests.support.simulation import cumulative, simulate


def test_posterior_starts_at_the_catalog_prior_and_follows_outcomes():
    learner = Learner(load(), clock=lambda: 0.0)
    p0 = learner.posterior("veo-3", "motion", "night")
    assert p0.mean == p0.prior_mean == load().get("veo-3").trait("temporal_stability")
    for _ in range(20):
        learner.record("veo-3", "motion", ["night"], passed=False, at=0.0)
    assert learner.posterior("veo-3", "motion", "night").mean < 0.35
    assert learner.adjustment("veo-3", "motion", ["night"]) < -0.2
    assert learner.adjustment("veo-3", "motion", ["day"]) < 0  # falls back to all briefs ("*")


def test_old_outcomes_are_discounted():
    now = [0.0]
    learner = Learner(load(), clock=lambda: now[0], half_life_days=30)
    for _ in range(20):
        learner.record("kling-2.1-pro", "motion", [], passed=False, at=0.0)
    fresh = learner.posterior("kling-2.1-pro", "motion").mean
    now[0] = 120 * 86400  # four half-lives later
    aged = learner.posterior("kling-2.1-pro", "motion")
    assert aged.n < 1.5 and aged.mean > fresh + 0.2


def test_thompson_draws_follow_the_posterior_and_narrow_with_evidence():
    """Exploration samples the Beta posterior: centred on its mean, as wide as
    the evidence is thin — and the same seed draws the same samples."""
    import random
    import statistics

    def draws(learner: Learner, n: int = 400) -> list[float]:
        return [learner.adjustment("seedance-1-pro", "motion", [], explore=True) for _ in range(n)]

    fresh = Learner(load(), rng=random.Random(7), clock=lambda: 0.0)
    taught = Learner(load(), rng=random.Random(7), clock=lambda: 0.0)
    for i in range(200):  # a 25 % pass rate, far below the prior
        taught.record("seedance-1-pro", "motion", [], passed=i % 4 == 0, at=0.0)
    for learner in (fresh, taught):
        mean = learner.adjustment("seedance-1-pro", "motion", [])
        assert statistics.fmean(draws(learner)) == pytest.approx(mean, abs=0.02)
    assert statistics.pstdev(draws(taught)) < 0.5 * statistics.pstdev(draws(fresh))
    assert statistics.fmean(draws(taught)) < statistics.fmean(draws(fresh)) - 0.1
    again = Learner(load(), rng=random.Random(7), clock=lambda: 0.0)
    assert draws(again, 5) == draws(Learner(load(), rng=random.Random(7), clock=lambda: 0.0), 5)


def test_in_a_hidden_world_learning_beats_the_static_router_and_regret_flattens():
    static = cumulative(simulate("static", "quality", seed=0, briefs=300)["regret"])
    learned = cumulative(simulate("learning", "quality", seed=0, briefs=300)["regret"])
    assert learned[-1] < 0.75 * static[-1]
    first, last = learned[99], learned[-1] - learned[-101]
    assert last < 0.8 * first  # sub-linear: the last 100 briefs cost less than the first 100
