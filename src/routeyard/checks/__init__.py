"""Quality gates, one module per failure mode, found by name.

Each gate measures media on pixels (``Gate.measure``), and ``evaluate``
applies its threshold (defaults in ``thresholds.py``). The same gates serve
plan steps (``op: check.<name>`` and ``gate:`` on any step), the CLI
(``routeyard check``), ``select`` (by a gate's score) and Python:

    from routeyard.checks import check
    result = check("temporal", "clip.mp4")
    result.score, result.passed, result.details
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from routeyard.checks.background import BackgroundGate
from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.first_frame import FirstFrameGate
from routeyard.checks.identity import IdentityGate
from routeyard.checks.prompt import PromptGate
from routeyard.checks.series_color import SeriesColorGate
from routeyard.checks.technical import TechnicalGate
from routeyard.checks.temporal import TemporalGate
from routeyard.checks.typography import TypographyGate

__all__ = ["GATES", "Gate", "GateParams", "GateResult", "check", "get_gate"]

GATES: dict[str, Gate] = {
    g.name: g
    for g in (
        FirstFrameGate(),
        TemporalGate(),
        BackgroundGate(),
        IdentityGate(),
        TypographyGate(),
        TechnicalGate(),
        SeriesColorGate(),
        PromptGate(),
    )
}


def get_gate(name: str) -> Gate | None:
    return GATES.get(name)


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
