"""First-frame readiness: will an image-to-video model have cues to hold on to?

Image-to-video models warp and "liquefy" when the first frame is flat:
textureless areas, ambiguous lighting, no depth separation. No benchmark
defines this, so the cues are the classical ones of QUALITY.md (d), each
mapped to [0, 1] by a ramp from a clearly bad to a clearly good value and
averaged. The ramps are anchored on the measured table there: photographs
score high, a fogged or flattened photo scores low.

A flat graphic design (a poster, a logo, an illustration in a few solid
colours with crisp edges) is flat on purpose: its "textureless areas" are
the design, and depth_cues would ruin it. It is recognised (most pixels
within a small palette, edges as crisp as a photograph's) and passed with
a note: such a frame is animated by moving its layers, not its texture. A
*washed-out* graphic (haze, blur) loses the crisp edges and is judged as
any other still.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import still
from routeyard.media.pixels import shrink

_WORK_SIDE = 768

# cue: (bad, good, pass threshold, label for a failing cue)
RAMPS: dict[str, tuple[float, float, float, str]] = {
    "grad_entropy": (2.5, 4.0, 3.5, "little texture"),
    "flat_fraction": (0.60, 0.10, 0.30, "textureless areas"),
    "l_range": (30.0, 80.0, 60.0, "low tonal range"),
    "shading": (0.05, 0.30, 0.15, "flat lighting"),
    "defocus_spread": (0.3, 2.0, 1.0, "no depth separation"),
    "detail": (4.0, 15.0, 8.0, "soft, blurred detail"),
}


@dataclass(frozen=True)
class Readiness:
    score: float  # mean of the cue scores, in [0, 1]
    cues: dict[str, float]  # raw measurements
    cue_scores: dict[str, float]
    failing: list[str]  # human labels of cues below their pass threshold
    designed: bool = False  # a flat graphic design, flat on purpose

    @property
    def message(self) -> str:
        if self.designed:
            return (
                "flat graphic design (a few solid colours, crisp edges): animate its layers; "
                "texture cues do not apply"
            )
        return "ready" if not self.failing else "risky: " + ", ".join(self.failing)


def measure(rgb: np.ndarray) -> dict[str, float]:
    """The raw cues of QUALITY.md (d), at a long side of at most 768 px."""
    rgb, _ = shrink(rgb, _WORK_SIDE)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (100 / 255)

    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    mag = np.sqrt(gx * gx + gy * gy)
    # Range up to the 99th percentile: a few hard edges must not squash the histogram.
    hist, _ = np.histogram(mag, bins=64, range=(0, float(np.percentile(mag, 99)) + 1e-6))
    p = hist[hist > 0] / hist.sum()
    grad_entropy = float(-(p * np.log2(p)).sum())

    th, tw = grey.shape[0] // 32, grey.shape[1] // 32
    tiles = grey[: th * 32, : tw * 32].reshape(th, 32, tw, 32).std(axis=(1, 3))
    flat_fraction = float((tiles < 4).mean()) if tiles.size else 1.0

    lo, hi = np.percentile(lum, [1, 99])
    sigma = max(grey.shape) / 40
    blurred = cv2.GaussianBlur(lum, (0, 0), sigma)
    shading = float(blurred.std() / max(float(lum.mean()), 1e-3))

    lap = cv2.Laplacian(grey, cv2.CV_32F)
    gh, gw = grey.shape[0] // 8, grey.shape[1] // 8
    energy = (lap[: gh * 8, : gw * 8] ** 2).reshape(8, gh, 8, gw).mean(axis=(1, 3))
    log_e = np.log10(energy + 1e-6)
    defocus_spread = float(np.percentile(log_e, 90) - np.percentile(log_e, 10))

    # Fine detail: the spread of the Laplacian at the working size. Gradient
    # entropy is blind to a blur (its histogram is relative); this is not.
    detail = float(lap.std())

    return {
        "detail": detail,
        "grad_entropy": grad_entropy,
        "flat_fraction": flat_fraction,
        "l_range": float(hi - lo),
        "shading": shading,
        "defocus_spread": defocus_spread,
        "rms_contrast": float(lum.std() / 100),
    }


_PALETTE = 8  # colours a flat design is drawn in, at most
_PALETTE_SHARE = 0.84  # of the pixels within ΔE 3 of one of them (a greyscale photo: 0.79)
_CRISP = 0.12  # edge crispness (checks.technical.edge_crispness) of a drawn, unblurred edge


def graphic(rgb: np.ndarray) -> tuple[float, float]:
    """(palette share, edge crispness): how much the still is a flat design."""
    from routeyard.checks.technical import edge_crispness

    small, _ = shrink(rgb, 160)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32).reshape(-1, 3)
    lab[:, 0] *= 100 / 255
    lab[:, 1:] -= 128
    k = min(_PALETTE, len(np.unique(lab.round(), axis=0)))
    if k < 2:
        return 1.0, 0.0
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, _, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    dist = np.linalg.norm(lab[:, None, :] - centres[None], axis=2).min(1)
    work, _ = shrink(rgb, _WORK_SIDE)
    crisp = edge_crispness(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY).astype(np.float32))
    return float((dist < 3).mean()), (crisp or 0.0)


def readiness(rgb: np.ndarray) -> Readiness:
    cues = measure(rgb)
    share, crisp = graphic(rgb)
    cues["palette_share"], cues["edge_crispness"] = share, crisp
    scores, failing = {}, []
    for name, (bad, good, threshold, label) in RAMPS.items():
        value = cues[name]
        scores[name] = float(np.clip((value - bad) / (good - bad), 0, 1))
        worse = value > threshold if good < bad else value < threshold
        if worse and not (name == "defocus_spread" and cues["shading"] >= 0.3):
            failing.append(label)
    score = float(np.mean(list(scores.values())))
    solid = cues["flat_fraction"] >= 0.1  # a design has solid areas; a star field does not
    if share >= _PALETTE_SHARE and crisp >= _CRISP and solid and failing:
        return Readiness(max(score, 0.8), cues, scores, [], designed=True)
    return Readiness(score, cues, scores, failing)


def _texture_map(rgb: np.ndarray, cells: int = 16) -> np.ndarray:
    """Grey standard deviation per region: where the image gives a motion model nothing to hold."""
    small, _ = shrink(rgb, _WORK_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    rows, cols = max(1, round(cells * h / max(h, w))), max(1, round(cells * w / max(h, w)))
    grid = np.zeros((rows, cols), np.float32)
    for r in range(rows):
        for c in range(cols):
            tile = grey[r * h // rows : (r + 1) * h // rows, c * w // cols : (c + 1) * w // cols]
            grid[r, c] = tile.std()
    return grid


class FirstFrameGate(Gate):
    """Readiness of a still (or a clip's first frame) for image-to-video."""

    name = "first_frame"
    version = "2"  # 2: flat graphic designs recognised
    threshold = 0.70
    media = "image"

    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> GateResult:
        rgb = still(files[0])
        r = readiness(rgb)
        return GateResult(
            score=r.score,
            message=r.message,
            details={
                "cues": {k: round(v, 4) for k, v in r.cues.items()},
                "cue_scores": {k: round(v, 4) for k, v in r.cue_scores.items()},
                "failing": r.failing,
            },
            heatmap=_texture_map(rgb),
            heatmap_label="local texture (grey sd)",
        )
