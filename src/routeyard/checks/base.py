"""The gate interface: one measurement, a threshold, a verdict and its evidence.

A gate judges media the way an operator would before handing it on: a score
in [0, 1] (1 = best), compared with a threshold (each gate's class carries
its default; a step or a caller overrides it), the per-frame or
per-region detail behind the number, and a picture where a person would
rather look than read. A gate that cannot judge (no face in the reference,
no OCR engine installed) says so with a status of ``not_applicable`` or
``unknown`` and no score: a made-up number would be worse than none.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pass", "fail", "not_applicable", "unknown"]


class GateParams(BaseModel):
    """Parameters every gate accepts; gates add their own. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(default=None, ge=0, le=1)  # the pass threshold; default per gate
    ref: str | None = None  # a reference file (a still, a face, a series' anchor)


@dataclass
class GateResult:
    """What a gate found: the one result type, from ``measure`` to the store.

    ``measure`` fills the measurement (score, message, evidence; ``status``
    only for not_applicable / unknown, ``hard_fail`` for a defect no threshold
    excuses); ``evaluate`` adds the gate's name and version, the threshold and
    the verdict.
    """

    score: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    # What the plot shows: a per-frame (or per-item) curve, or a per-region grid.
    series: list[float | None] | None = None
    series_label: str = ""
    heatmap: np.ndarray | None = None
    heatmap_label: str = ""
    status: Status | None = None
    hard_fail: bool = False  # fails whatever the threshold (e.g. a required text is absent)
    gate: str = ""
    version: str = ""
    threshold: float | None = None

    @property
    def passed(self) -> bool | None:
        return {"pass": True, "fail": False}.get(self.status or "")

    def judged(self, threshold: float) -> GateResult:
        """This measurement judged against ``threshold``."""
        if self.status in ("not_applicable", "unknown"):
            status: Status = self.status
        elif self.score is None:
            status = "unknown"
        else:
            status = "pass" if self.score >= threshold and not self.hard_fail else "fail"
        return dataclasses.replace(self, threshold=threshold, status=status)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "gate": self.gate,
            "version": self.version,
            "score": None if self.score is None else round(float(self.score), 4),
            "passed": self.passed,
            "status": self.status,
            "threshold": self.threshold,
            "message": self.message,
            "details": self.details,
        }
        if self.series is not None:
            out["per_frame"] = {
                "label": self.series_label,
                "values": [None if v is None else round(float(v), 6) for v in self.series],
            }
        if self.heatmap is not None:
            out["per_region"] = {
                "label": self.heatmap_label,
                "grid": np.round(self.heatmap.astype(float), 4).tolist(),
            }
        return out

    def plot_png(self) -> bytes | None:
        from routeyard.checks.plots import plot

        return plot(self)


class Gate(ABC):
    """One failure mode. ``measure`` is pure: files in, a measurement out, no store.

    ``version`` names the measurement: bump it whenever a change would move a
    score, so stored scores of the old version are neither reused nor learned
    from. ``threshold`` is the default pass mark, set on the calibration
    suite (the README's table); a step overrides it with ``min``.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    threshold: ClassVar[float] = 0.5
    media: ClassVar[Literal["image", "video", "any", "series"]] = "any"
    Params: ClassVar[type[GateParams]] = GateParams
    needs_ref: ClassVar[bool] = False

    @abstractmethod
    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> GateResult: ...

    def threshold_of(self, params: GateParams) -> float:
        return params.min if params.min is not None else self.threshold

    def evaluate(
        self, files: list[Path], params: GateParams, ref: Path | None = None
    ) -> GateResult:
        found = self.measure(files, params, ref)
        score = None if found.score is None else float(np.clip(found.score, 0, 1))
        found = dataclasses.replace(found, score=score, gate=self.name, version=self.version)
        return found.judged(self.threshold_of(params))


def ramp(value: float, bad: float, good: float) -> float:
    """Map ``value`` linearly from a clearly bad (0) to a clearly good (1) value."""
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))
