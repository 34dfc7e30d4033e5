"""The gate interface: one measurement, a threshold, a verdict and its evidence.

A gate judges media the way an operator would before handing it on: a score
in [0, 1] (1 = best), compared with a threshold (defaults live in
``thresholds.py``; a step or a caller overrides them), the per-frame or
per-region detail behind the number, and a picture where a person would
rather look than read. A gate that cannot judge (no face in the reference,
no OCR engine installed) says so with a status of ``not_applicable`` or
``unknown`` and no score: a made-up number would be worse than none.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from routeyard.checks.thresholds import threshold_for

Status = Literal["pass", "fail", "not_applicable", "unknown"]


class GateParams(BaseModel):
    """Parameters every gate accepts; gates add their own. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(default=None, ge=0, le=1)  # the pass threshold; default per gate
    ref: str | None = None  # a reference file (a still, a face, a series' anchor)


@dataclass
class GateResult:
    gate: str
    score: float | None
    threshold: float
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    # What the plot shows: a per-frame (or per-item) curve, or a per-region grid.
    series: list[float | None] | None = None
    series_label: str = ""
    heatmap: np.ndarray | None = None
    heatmap_label: str = ""

    @property
    def passed(self) -> bool | None:
        return {"pass": True, "fail": False}.get(self.status)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "gate": self.gate,
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


@dataclass(frozen=True)
class Verdict:
    """What a gate's measurement concluded, before the threshold is applied."""

    score: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    series: list[float | None] | None = None
    series_label: str = ""
    heatmap: np.ndarray | None = None
    heatmap_label: str = ""
    status: Status | None = None  # set only for not_applicable / unknown
    hard_fail: bool = False  # fails whatever the threshold (e.g. a required text is absent)


class Gate(ABC):
    """One failure mode. ``measure`` is pure: files in, a verdict out, no store."""

    name: ClassVar[str]
    media: ClassVar[Literal["image", "video", "any", "series"]] = "any"
    Params: ClassVar[type[GateParams]] = GateParams
    needs_ref: ClassVar[bool] = False

    @abstractmethod
    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> Verdict: ...

    def evaluate(
        self, files: list[Path], params: GateParams, ref: Path | None = None
    ) -> GateResult:
        threshold = params.min if params.min is not None else threshold_for(self.name)
        verdict = self.measure(files, params, ref)
        if verdict.status is not None:
            status: Status = verdict.status
        elif verdict.score is None:
            status = "unknown"
        else:
            ok = verdict.score >= threshold and not verdict.hard_fail
            status = "pass" if ok else "fail"
        return GateResult(
            gate=self.name,
            score=None if verdict.score is None else float(np.clip(verdict.score, 0, 1)),
            threshold=threshold,
            status=status,
            message=verdict.message,
            details=verdict.details,
            series=verdict.series,
            series_label=verdict.series_label,
            heatmap=verdict.heatmap,
            heatmap_label=verdict.heatmap_label,
        )


def ramp(value: float, bad: float, good: float) -> float:
    """Map ``value`` linearly from a clearly bad (0) to a clearly good (1) value."""
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))
