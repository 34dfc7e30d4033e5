"""Quality measurements of hand-offs, one module per failure mode.

Each module exposes a pure function on pixels that returns a score in
[0, 1] (1 = best) with its per-cue detail, so ops (``depth_cues``), the
``select`` step and the gates all judge an asset the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _first_frame(path: Path) -> float:
    from routeyard.checks.first_frame import readiness
    from routeyard.ops.pixels import load_rgb

    return readiness(load_rgb(path, where=str(path))).score


def _temporal(path: Path) -> float:
    from routeyard.checks.temporal import score_file

    return score_file(path)


# Scores that ``select`` can compute itself when no gate recorded them.
SCORERS: dict[str, Callable[[Path], float]] = {
    "first_frame": _first_frame,
    "temporal": _temporal,
}
