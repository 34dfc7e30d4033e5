"""Op registry: ops are found by name, one module per family.

Built-in ops register on import of this package; plugins (entry point group
``routeyard.plugins`` or modules named in ``ROUTEYARD_PLUGINS``) register
more with ``register``.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points

from routeyard.config import plugin_modules
from routeyard.errors import RouteyardError
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output

__all__ = [
    "InputAsset",
    "Op",
    "OpContext",
    "OpInputError",
    "OpParams",
    "Output",
    "get_op",
    "known_ops",
    "register",
]

_REGISTRY: dict[str, Op] = {}
_plugins_loaded = False


def register(op_cls: type[Op]) -> type[Op]:
    """Class decorator: make an op available to pipelines under ``op_cls.name``."""
    _REGISTRY[op_cls.name] = op_cls()
    return op_cls


def known_ops() -> list[str]:
    _load_plugins()
    return sorted(_REGISTRY)


def get_op(name: str) -> Op | None:
    _load_plugins()
    return _REGISTRY.get(name)


def suggest(name: str) -> str | None:
    close = difflib.get_close_matches(name, known_ops(), n=1)
    return close[0] if close else None


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
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


# Built-in ops register themselves on import.
from routeyard.ops import (  # noqa: E402,F401
    animate,
    color,
    composite,
    delivery,
    depth,
    faceswap,
    gates,
    hosted,
    importing,
    inpaint,
    matte,
    resize,
    restore,
    stabilize,
    typeset,
)
