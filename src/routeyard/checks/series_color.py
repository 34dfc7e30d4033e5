"""Series colour: do the images of a set look like one shoot?

A campaign's images must share white balance and tone; one with a colour
cast is the one a client notices. QUALITY.md (f) estimates the cast as the
mean a*, b* of near-neutral pixels (chroma < 12). That set is biased: a
cast pushes the neutral pixels out of it and pulls complementary ones in,
so a strong cast can measure as none (the rocket photograph under a 16 %
warm shift did). Two estimates replace it, both on mid-tones
(25 < L* < 95): the mean a*, b* of the least-chromatic quarter of pixels
(a percentile, so the set cannot empty) and the grey-world mean of all of
them. The distance between two images is the larger CIEDE2000 of the two.
The anchor is the reference image when one is given, else the series'
median. Content changes the cast too, so this is meant for same-scene or
same-product series; each image scores 1 up to ΔE 1 and 0 at ΔE 6, and the
series scores its worst image.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000

from routeyard.checks.base import Gate, GateParams, GateResult, ramp
from routeyard.checks.media import is_clip, still
from routeyard.errors import OpInputError
from routeyard.media.pixels import shrink

MATCH, CAST = 1.0, 6.0  # ΔE2000 of the cast: indistinguishable / a clear cast


def lab_stats(rgb: np.ndarray) -> dict[str, float]:
    small, _ = shrink(rgb, 512)
    lab = cv2.cvtColor(small.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    mid = (lab[:, 0] > 25) & (lab[:, 0] < 95)
    if mid.sum() < 0.01 * len(lab):
        mid = np.ones(len(lab), bool)
    cut = float(np.percentile(chroma[mid], 25))
    neutral = lab[mid & (chroma <= cut)]
    return {
        "L": float(np.median(lab[:, 0])),
        "a": float(neutral[:, 1].mean()),
        "b": float(neutral[:, 2].mean()),
        "grey_a": float(lab[mid, 1].mean()),
        "grey_b": float(lab[mid, 2].mean()),
        "chroma": float(chroma.mean()),
    }


def cast_distance(anchor: dict[str, float], s: dict[str, float]) -> float:
    """The larger CIEDE2000 of the two cast estimates, at the anchor's lightness."""
    return max(
        float(
            deltaE_ciede2000(
                np.array([[anchor["L"], anchor[a], anchor[b]]]),
                np.array([[anchor["L"], s[a], s[b]]]),
            )[0]
        )
        for a, b in (("a", "b"), ("grey_a", "grey_b"))
    )


class SeriesColorGate(Gate):
    name = "series_color"
    version = "1"
    threshold = 0.70
    media = "series"

    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> GateResult:
        images = [f for f in files if not is_clip(f)]
        if len(images) + (ref is not None) < 2:
            raise OpInputError("series_color: give two or more images (or one and --ref)")
        stats = [lab_stats(still(f)) for f in images]
        if ref is not None:
            anchor = lab_stats(still(ref))
        else:
            anchor = {k: float(np.median([s[k] for s in stats])) for k in stats[0]}
        de = [cast_distance(anchor, s) for s in stats]
        per = [ramp(d, CAST, MATCH) for d in de]
        worst = int(np.argmax(de))
        message = (
            "consistent colour"
            if max(de) <= MATCH
            else f"{images[worst].name}: colour cast ΔE {de[worst]:.1f} from the series"
        )
        return GateResult(
            score=min(per),
            message=message,
            details={
                "anchor": "reference" if ref is not None else "series median",
                "delta_e": [round(d, 3) for d in de],
                "files": [f.name for f in images],
                "casts": [
                    {"a": round(s["a"], 2), "b": round(s["b"], 2), "L": round(s["L"], 1)}
                    for s in stats
                ],
                "worst": images[worst].name,
            },
            series=de,
            series_label="ΔE2000 of the colour cast",
        )
