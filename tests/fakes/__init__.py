"""Fakes of the hosted providers, one module each, found by discovery.

A new provider's fake is a module here with a ``FakeServer`` subclass whose
``name`` is the provider's: the provider tests' tables pick it up.
"""

from __future__ import annotations

import importlib
import pkgutil


def fake_classes() -> dict[str, type]:
    """Every fake provider server by provider name."""
    from tests.fakes.server import FakeServer

    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, FakeServer)
                and value is not FakeServer
                and value.__module__ == module.__name__
            ):
                found[value.name] = value
    return found
