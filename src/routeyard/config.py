"""Configuration read from the environment, in one place.

``ROUTEYARD_HOME`` picks the store folder (default ``./.routeyard``);
``ROUTEYARD_PLUGINS`` names extra modules (comma-separated) that register ops
or providers, so a team can add an op without packaging it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOME = ".routeyard"
# Local ops are CPU-bound: more workers than cores only adds contention.
DEFAULT_LOCAL_CONCURRENCY = max(1, os.cpu_count() or 1)
DEFAULT_HOSTED_CONCURRENCY = 4
# Pillow refuses images above this many pixels: a decompression bomb guard.
MAX_IMAGE_PIXELS = 120_000_000


def store_home(explicit: str | Path | None = None) -> Path:
    """The store folder: an explicit path, else ``ROUTEYARD_HOME``, else ``./.routeyard``."""
    if explicit is not None:
        return Path(explicit)
    return Path(os.environ.get("ROUTEYARD_HOME") or DEFAULT_HOME)


def plugin_modules() -> list[str]:
    raw = os.environ.get("ROUTEYARD_PLUGINS", "")
    return [m.strip() for m in raw.split(",") if m.strip()]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for transient provider errors."""

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 30.0


@dataclass(frozen=True)
class Limits:
    """Concurrency per provider, optionally per ``provider/model``.

    The most specific key wins: ``{"fal": 8, "fal/kling-2.1": 2}`` lets eight
    fal jobs run at once, of which at most two on Kling.
    """

    per_key: dict[str, int] = field(default_factory=dict)

    def for_provider(self, provider: str) -> int:
        if provider in self.per_key:
            return self.per_key[provider]
        return DEFAULT_LOCAL_CONCURRENCY if provider == "local" else DEFAULT_HOSTED_CONCURRENCY

    def for_model(self, provider: str, model: str) -> int | None:
        return self.per_key.get(f"{provider}/{model}")
