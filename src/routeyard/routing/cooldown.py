"""Cooldowns: a model that keeps failing is skipped for a while.

The composition root (``api``) keeps one per process, shared by every engine
(one provider outage should not be rediscovered by each run). ``failures`` failures within ``window_s`` put a
model on ice for ``cooldown_s``; a success clears its count. Times come from
a clock that tests can replace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Cooldowns:
    failures: int = 3
    window_s: float = 600.0
    cooldown_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, list[float]] = field(default_factory=dict)
    _until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, model: str) -> None:
        now = self.clock()
        with self._lock:
            recent = [t for t in self._seen.get(model, []) if now - t <= self.window_s]
            recent.append(now)
            self._seen[model] = recent
            if len(recent) >= self.failures:
                self._until[model] = now + self.cooldown_s
                self._seen[model] = []

    def succeeded(self, model: str) -> None:
        with self._lock:
            self._seen.pop(model, None)

    def cooling(self, model: str) -> float:
        """Seconds left of the model's cooldown (0 when it may be used)."""
        with self._lock:
            left = self._until.get(model, 0.0) - self.clock()
            if left <= 0:
                self._until.pop(model, None)
                return 0.0
            return left

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._until.clear()
