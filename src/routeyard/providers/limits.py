"""Per-provider limits shared by every run that shares a registry.

A provider's limits belong to the account, not to one run: BFL refuses a
25th in-flight task whichever run sent it, Replicate counts creates per
minute across everything a key does. So the slots and the request budget
live in a ``LimitsRegistry``, one set per provider name, and every adapter
handed the same registry (every engine, every run the studio starts: ``api``
hands them one) draws from the same ones.

asyncio primitives belong to one event loop; the CLI starts a loop per run,
so the slots are kept per loop. Runs that share a loop (the studio) share
the slots; runs in different loops never overlap in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    """Token bucket: ``rate`` requests per minute, bursts up to a tenth of a minute's worth."""

    per_minute: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.capacity = max(1.0, self.per_minute / 10)
        self.tokens = self.capacity

    async def take(self) -> float:
        """Wait for a token; returns the seconds waited."""
        waited = 0.0
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(
                    self.capacity, self.tokens + (now - self.stamp) * self.per_minute / 60
                )
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return waited
                pause = (1 - self.tokens) * 60 / self.per_minute
                waited += pause
                await asyncio.sleep(pause)


class ProviderLimits:
    """Concurrency (in-flight jobs) and request rate for one provider."""

    def __init__(self, concurrency: int, requests_per_minute: float | None) -> None:
        self.concurrency = max(1, concurrency)
        self.requests_per_minute = requests_per_minute
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.in_flight = 0
        self.peak = 0

    def _state(self) -> tuple[asyncio.Semaphore, _Bucket | None]:
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            bucket = _Bucket(self.requests_per_minute) if self.requests_per_minute else None
            state = (asyncio.Semaphore(self.concurrency), bucket)
            self._per_loop[loop] = state
        return state

    @contextlib.asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        """Hold one of the provider's in-flight slots while a job runs."""
        sem, _ = self._state()
        async with sem:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1

    async def request(self) -> None:
        """Wait until the provider's request rate allows one more call."""
        _, bucket = self._state()
        if bucket is not None:
            await bucket.take()


class LimitsRegistry:
    """The limits of each provider, shared by every adapter handed this registry.

    The composition root (``api``) keeps one per process, so every engine and
    every run the studio starts draws from the same slots. New settings for a
    provider (the config file changed) make new limits for the adapters built
    after; adapters already built keep theirs until they finish.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, ProviderLimits] = {}

    def for_provider(
        self, name: str, concurrency: int, requests_per_minute: float | None
    ) -> ProviderLimits:
        limits = self._by_name.get(name)
        if (
            limits is None
            or limits.concurrency != max(1, concurrency)
            or limits.requests_per_minute != requests_per_minute
        ):
            limits = self._by_name[name] = ProviderLimits(concurrency, requests_per_minute)
        return limits
