"""Small PNG plots of a gate result: a per-frame curve or a per-region heat map.

Drawn with matplotlib's Agg canvas (no display, no global pyplot state, so
gates can plot from worker threads at once).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from routeyard.checks.base import GateResult

_COLOURS = {"pass": "#2a9d3a", "fail": "#d62828"}


def plot(result: GateResult) -> bytes | None:
    """The PNG bytes, or None when the result has nothing to draw."""
    if result.series is None and result.heatmap is None:
        return None
    fig = Figure(figsize=(5.0, 2.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    title = f"{result.gate}: " + (
        "n/a" if result.score is None else f"{result.score:.3f} ({result.status})"
    )
    if result.heatmap is not None:
        image = ax.imshow(result.heatmap, cmap="magma", interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=result.heatmap_label)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        values = np.array([np.nan if v is None else v for v in result.series], float)
        ax.plot(np.arange(len(values)), values, color="#1d3557", lw=1.2, marker=".", ms=3)
        ax.set_xlabel("frame" if result.gate not in ("series_color",) else "image")
        ax.set_ylabel(result.series_label, fontsize=8)
        ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9, color=_COLOURS.get(result.status, "#444444"))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
