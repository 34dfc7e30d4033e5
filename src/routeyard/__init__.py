"""routeyard: route a creative brief through a chain of generative models.

The public Python API mirrors the CLI: load a pipeline, run it, re-run it from
a step, trace an asset's lineage, export deliverables with provenance.

The names below are imported on first use (as pydantic does), so that
``import routeyard`` (and ``routeyard --help``) does not load OpenCV, PyAV,
SQLAlchemy or FastAPI; ``routeyard.errors`` and the other core modules stay
cheap to import on their own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "RouteyardError": "routeyard.errors",
    "export_run": "routeyard.api",
    "lineage": "routeyard.api",
    "load_pipeline": "routeyard.api",
    "rerun": "routeyard.api",
    "run_pipeline": "routeyard.api",
    "show_run": "routeyard.api",
}
__all__ = [
    "RouteyardError",
    "export_run",
    "lineage",
    "load_pipeline",
    "rerun",
    "run_pipeline",
    "show_run",
]

if TYPE_CHECKING:  # for type checkers and editors; never executed
    from routeyard.api import export_run, lineage, load_pipeline, rerun, run_pipeline, show_run
    from routeyard.errors import RouteyardError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routeyard' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
