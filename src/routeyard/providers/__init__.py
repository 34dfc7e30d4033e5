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

HOSTED = ("fal", "replicate", "bfl", "google", "kling", "byteplus")


def adapters() -> list[str]:
    """Providers routeyard can run tasks on in this install."""
    return ["local", *HOSTED]


def hosted_providers() -> dict[str, Provider]:
    """One adapter per hosted provider; each reads its key and base URL when first used."""
    from routeyard.providers.bfl import BflProvider
    from routeyard.providers.byteplus import BytePlusProvider
    from routeyard.providers.fal import FalProvider
    from routeyard.providers.google import GoogleProvider
    from routeyard.providers.kling import KlingProvider
    from routeyard.providers.replicate import ReplicateProvider

    classes = (
        FalProvider,
        ReplicateProvider,
        BflProvider,
        GoogleProvider,
        KlingProvider,
        BytePlusProvider,
    )
    return {cls.name: cls() for cls in classes}


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
    "hosted_providers",
]
