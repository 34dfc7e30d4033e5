"""Op registry: ops are found by name, one module per family.

Every module in this package that defines an op registers it with
``@register`` on import; the modules are discovered, not listed, so adding
an op is adding one module. Plugins (entry point group ``routeyard.plugins``
or modules named in ``ROUTEYARD_PLUGINS``) register more the same way.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import entry_points

from routeyard.config import plugin_modules
from routeyard.errors import OpInputError, RouteyardError
from routeyard.ops.base import REGISTRY, InputAsset, Op, OpContext, OpParams, Output, register

__all__ = [
    "InputAsset",
    "Op",
    "OpContext",
    "OpInputError",
    "OpParams",
    "Output",
    "all_ops",
    "get_op",
    "known_ops",
    "register",
]

_loaded = False
# Modules here that hold helpers, not ops.
_NOT_OPS = {"base", "fonts", "parallax"}


def known_ops() -> list[str]:
    _load()
    return sorted(REGISTRY)


def get_op(name: str) -> Op | None:
    _load()
    return REGISTRY.get(name)


def all_ops() -> list[Op]:
    """Every registered op, sorted by name."""
    _load()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


def suggest(name: str) -> str | None:
    close = difflib.get_close_matches(name, known_ops(), n=1)
    return close[0] if close else None


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_OPS and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    for ep in entry_points(group="routeyard.plugins"):
        ep.load()
    for module in plugin_modules():
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise RouteyardError(
                f"ROUTEYARD_PLUGINS names '{module}', which cannot be imported ({exc})",
                hint="check the module name and PYTHONPATH",
            ) from exc
