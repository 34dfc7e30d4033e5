"""Prompt adherence, only as far as it can be judged honestly offline.

No text-image model (CLIP, SigLIP, a VLM) ships in any wheel this project
can install, so there is no free-form adherence score: with nothing to
check the gate says "unknown", never a made-up number. What a brief states
as facts is checked by rules (QUALITY.md (g)): black-and-white (mean chroma
≈ 0), low-key / night (median L*), the aspect ratio, and the number of
faces. The score is the fraction of stated rules that hold.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import still
from routeyard.media.pixels import shrink


class PromptParams(GateParams):
    black_and_white: bool | None = None
    low_key: bool | None = None
    aspect: str | None = None  # "9:16"
    faces: int | None = None


class PromptGate(Gate):
    name = "prompt"
    version = "1"
    threshold = 0.25
    media = "any"
    Params = PromptParams

    def measure(self, files: list[Path], params: PromptParams, ref: Path | None) -> GateResult:
        rgb = still(files[0])
        small, _ = shrink(rgb, 512)
        lab = cv2.cvtColor(small.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
        rules: dict[str, bool] = {}
        measured: dict[str, float | int] = {}
        if params.black_and_white is not None:
            chroma = float(np.hypot(lab[..., 1], lab[..., 2]).mean())
            measured["mean_chroma"] = round(chroma, 2)
            rules["black_and_white"] = (chroma < 3.0) == params.black_and_white
        if params.low_key is not None:
            median_l = float(np.median(lab[..., 0]))
            measured["median_lightness"] = round(median_l, 1)
            rules["low_key"] = (median_l < 35) == params.low_key
        if params.aspect:
            a, b = (float(x) for x in params.aspect.split(":"))
            h, w = rgb.shape[:2]
            measured["aspect"] = round(w / h, 4)
            rules["aspect"] = abs(w / h - a / b) <= 0.01 * a / b
        if params.faces is not None:
            from routeyard.media import faces

            if faces.available():
                count = len(faces.find_faces(small))
                measured["faces"] = count
                rules["faces"] = count == params.faces
        if not rules:
            return GateResult(
                None,
                "unknown: no offline text-image model; state rules (black_and_white, low_key, aspect, faces) to check",
                status="unknown",
            )
        held = [k for k, v in rules.items() if v]
        broken = [k for k, v in rules.items() if not v]
        return GateResult(
            score=len(held) / len(rules),
            message="all stated rules hold"
            if not broken
            else "does not hold: " + ", ".join(broken),
            details={"rules": rules, "measured": measured},
        )
