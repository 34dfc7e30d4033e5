"""Cache keys: equal meaning ⇒ equal key; any change that matters ⇒ a new key."""

from __future__ import annotations

import random

from routeyard.config import RetryPolicy
from routeyard.pipeline.cachekey import cache_key, drawn_seed
from routeyard.pipeline.retry import backoff_delay

BASE = dict(
    op="resize",
    op_version="1",
    model="local/resize",
    model_version="1",
    params={"width": 64, "height": None},
    seed=7,
    inputs=["a" * 64],
)


def key(**changes):
    return cache_key(**{**BASE, **changes})


def test_key_is_stable_and_order_insensitive_in_params():
    assert key() == key(params={"height": None, "width": 64.0})
    assert len(key()) == 64


def test_every_ingredient_changes_the_key():
    variants = [
        key(op="upscale"),
        key(op_version="2"),
        key(model="local/x"),
        key(model_version="2"),
        key(params={"width": 65, "height": None}),
        key(seed=8),
        key(inputs=["b" * 64]),
        key(files={"mask": "c" * 64}),
    ]
    assert len({key(), *variants}) == len(variants) + 1


def test_input_order_matters():
    assert key(inputs=["a", "b"]) != key(inputs=["b", "a"])


def test_drawn_seed_is_deterministic_per_step_and_branch():
    assert drawn_seed("hero", "resize", None) == drawn_seed("hero", "resize", None)
    assert drawn_seed("hero", "resize", 0) != drawn_seed("hero", "resize", 1)
    assert 0 <= drawn_seed("x", "y", None) < 2**31


def test_backoff_grows_is_capped_jittered_and_respects_retry_after():
    policy = RetryPolicy(attempts=10, base_s=1.0, cap_s=8.0)
    rng = random.Random(0)
    delays = [backoff_delay(policy, a, rng) for a in range(1, 9) for _ in range(50)]
    assert max(delays) <= 8.0 and min(delays) >= 0
    assert max(backoff_delay(policy, 1, rng) for _ in range(100)) <= 1.0
    assert backoff_delay(policy, 1, rng, retry_after=5.0) >= 5.0
