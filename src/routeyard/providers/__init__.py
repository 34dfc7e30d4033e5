"""Providers run a task on a model: local CPU ops today, hosted APIs by adapter."""

from routeyard.providers.base import (
    AuthError,
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    Provider,
    ProviderError,
    ProviderResult,
    RateLimitedError,
    Task,
    TransientError,
)
from routeyard.providers.local import LocalProvider


def adapters() -> list[str]:
    """Providers routeyard can run tasks on in this install."""
    return ["local"]


__all__ = [
    "AuthError",
    "InvalidInputError",
    "LocalProvider",
    "PermanentError",
    "PolicyRejectedError",
    "Provider",
    "ProviderError",
    "ProviderResult",
    "RateLimitedError",
    "Task",
    "TransientError",
    "adapters",
]
