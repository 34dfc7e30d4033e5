"""Pass thresholds of every gate, in one place.

Each is the score below which an operator would send the asset back. They
were set on the calibration suite (``benchmarks/calibrate_gates.py``; the
table is in the README): clearly visible defects fall below, clean items
stay above. A step overrides one with ``gate: {min: …}`` or ``min:`` on a
``check.*`` step, the CLI with ``--min``.
"""

from __future__ import annotations

DEFAULTS: dict[str, float] = {
    "first_frame": 0.70,
    "temporal": 0.75,
    "background": 0.75,
    "identity": 0.95,
    "typography": 0.95,
    "technical": 0.70,
    "series_color": 0.70,
    "prompt": 0.25,
}


def threshold_for(gate: str) -> float:
    return DEFAULTS.get(gate, 0.5)
