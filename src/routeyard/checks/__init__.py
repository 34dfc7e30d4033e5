"""Quality gates, one module per failure mode, found by name.

Each gate measures media on pixels (``Gate.measure``), and ``evaluate``
applies its threshold (each gate class carries its default). The same gates
serve plan steps (``op: check.<name>`` and ``gate:`` on any step), the CLI
(``routeyard check``), ``select`` (by a gate's score) and Python:

    from routeyard.checks import check
    result = check("temporal", "clip.mp4")
    result.score, result.passed, result.details

Gate modules are discovered: adding a gate is adding one module here with a
``Gate`` subclass that names itself.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from routeyard.checks.base import Gate, GateParams, GateResult

__all__ = ["GATES", "Gate", "GateParams", "GateResult", "check", "get_gate", "threshold_for"]

# Modules here that hold helpers, not gates.
_NOT_GATES = {"base", "media", "ocr", "plots"}


def _discover() -> dict[str, Gate]:
    found: dict[str, Gate] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_GATES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Gate) and cls.__module__ == module.__name__ and "name" in vars(cls):
                found[cls.name] = cls()
    return found


GATES: dict[str, Gate] = _discover()


def get_gate(name: str) -> Gate | None:
    return GATES.get(name)


def threshold_for(name: str) -> float:
    """A gate's default pass mark."""
    return GATES[name].threshold


def versions() -> dict[str, str]:
    """Every gate's current version: stored scores of other versions are stale."""
    return {name: gate.version for name, gate in GATES.items()}


def check(
    name: str, files: str | Path | list[str | Path], *, ref: str | Path | None = None, **params: Any
) -> GateResult:
    """Run one gate on a file (or a series of files) and return its result.

    Raises ``KeyError`` for an unknown gate, ``pydantic.ValidationError``
    for bad parameters and ``OpInputError`` for unreadable media.
    """
    gate = GATES[name]
    paths = [Path(f) for f in (files if isinstance(files, list) else [files])]
    return gate.evaluate(
        paths, gate.Params.model_validate(params), Path(ref) if ref is not None else None
    )


def _score(name: str) -> Callable[[Path], float]:
    def score(path: Path) -> float:
        result = check(name, path)
        return 0.0 if result.score is None else result.score

    return score


# Scores that ``select`` can compute itself when no gate recorded them:
# the gates that need nothing but the file.
SCORERS: dict[str, Callable[[Path], float]] = {
    name: _score(name) for name in ("first_frame", "temporal", "background", "technical")
}
