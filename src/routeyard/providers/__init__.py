"""Providers run a task on a model: local CPU ops, and hosted APIs by adapter.

Each hosted adapter is one module here, found on first use (not listed by
hand): adding a provider is its module, its fake in ``tests/fakes/`` and its
catalog data.
"""

import functools
import importlib
import inspect
import pkgutil

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
from routeyard.providers.limits import LimitsRegistry
from routeyard.providers.local import LocalProvider

# Modules here that hold the shared machinery, not an adapter.
_NOT_ADAPTERS = {
    "base", "hosted", "limits", "listing", "local", "mapping", "schema", "settings", "sync",
    "transfer",
}  # fmt: skip


@functools.cache
def _hosted_classes() -> tuple[type[Provider], ...]:
    """Every hosted adapter class, discovered: a provider is one module here."""
    from routeyard.providers.hosted import HostedProvider

    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_ADAPTERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, HostedProvider)
                and cls.__module__ == module.__name__
                and "name" in vars(cls)
            ):
                found.append(cls)
    return tuple(found)


def adapters() -> list[str]:
    """Providers routeyard can run tasks on in this install."""
    return ["local", *(cls.name for cls in _hosted_classes())]


def hosted_providers(limits: LimitsRegistry | None = None) -> dict[str, Provider]:
    """One adapter per hosted provider; each reads its key and base URL when first
    used, and draws its slots from ``limits`` (shared with whoever else holds it)."""
    limits = limits or LimitsRegistry()
    return {cls.name: cls(limits=limits) for cls in _hosted_classes()}


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
