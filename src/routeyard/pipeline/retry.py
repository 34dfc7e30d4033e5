"""Backoff delays for transient provider errors: pure, with injected randomness."""

from __future__ import annotations

import random

from routeyard.config import RetryPolicy


def backoff_delay(
    policy: RetryPolicy, attempt: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (attempts count from 1).

    Full jitter (uniform in [0, min(cap, base·2^(attempt-1))]) spreads retries
    from many concurrent steps; a provider's own ``Retry-After`` is a floor.
    """
    ceiling = min(policy.cap_s, policy.base_s * (2 ** (attempt - 1)))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.cap_s * 4))
    return delay
