"""``depth_cues``: give an image-to-video model something to hold on to.

The "first frame problem": a flat, evenly lit, uniformly sharp still leaves
a motion model guessing at depth, and it warps. This op strengthens the cues
the ``first_frame`` readiness check measures, the way a retoucher would:

- *local contrast*: CLAHE on L* (texture becomes visible in flat areas),
  then a tonal stretch to a full L* range if the image is washed out;
- *lighting*: large-scale shading is amplified and shadows deepened, so the
  light has a direction instead of being ambiguous;
- *focal plane*: the subject (from the matte, or the centre) is sharpened and
  the background softened a little, which reads as depth of field.

Each is a parameter; 0 turns it off.

None of them may add noise: contrast is raised at an eighth of the size
and applied as a smooth offset (grain passes with a gain of 1), chroma is
lifted on an edge-aware base layer (a guided filter), and sharpening boosts
the structure of a denoised copy, not its grain. The technical gate's noise estimate does not rise
(tests/ops/test_depth_cues.py), and there are no halos at strong edges,
because the guided filter follows them.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from routeyard.checks.first_frame import readiness
from routeyard.media.matte import subject_matte
from routeyard.media.pixels import encode_png, load_input
from routeyard.ops.base import InputAsset, Op, OpContext, OpParams, Output, register


class DepthCuesParams(OpParams):
    contrast: float = Field(default=0.7, ge=0, le=3)
    shadows: float = Field(default=0.3, ge=0, le=1)
    sharpen: float = Field(default=0.8, ge=0, le=3)
    background_blur: float = Field(default=1.2, ge=0, le=8)  # Gaussian sigma, pixels
    focus: Literal["subject", "center", "none"] = "subject"


def local_contrast(lum: np.ndarray, amount: float) -> tuple[np.ndarray, float]:
    """CLAHE on an L* plane in 0..255, plus a stretch of a washed-out tonal range.

    Both are computed at an eighth of the size and applied as a smooth
    offset: local contrast is raised at the scales that carry depth, and
    the pixel-level grain passes through with a gain of exactly 1 (an
    8-bit CLAHE at full size amplifies grain and bands a smooth sky).
    Returns the new plane and the stretch gain (0 when none was needed), so
    the caller can lift chroma with it: a fog lifted in L* alone looks grey.
    """
    if amount <= 0:
        return lum, 0.0
    h, w = lum.shape
    small = cv2.resize(lum, (max(8, w // 8), max(8, h // 8)), interpolation=cv2.INTER_AREA)
    clahe = cv2.createCLAHE(clipLimit=1.0 + 1.5 * amount, tileGridSize=(8, 8))
    out = clahe.apply(np.clip(small + 0.5, 0, 255).astype(np.uint8)).astype(np.float32)
    lo, hi = np.percentile(out, [1, 99])
    target_lo, target_hi = 4.0, 250.0
    gain = 0.0
    if hi - lo < target_hi - target_lo:
        gain = min(1.0, amount) * ((target_hi - target_lo) / max(hi - lo, 1.0) - 1.0)
        out = (out - lo) * (1.0 + gain) + lo + (target_lo - lo) * min(1.0, amount)
    # what is left of the grain at this size, amplified, would mottle: smooth it away
    offset = cv2.GaussianBlur(out - small, (0, 0), 1.5)
    offset = cv2.resize(offset, (w, h), interpolation=cv2.INTER_CUBIC)
    return lum + offset, gain


def directional_light(lum: np.ndarray, amount: float) -> np.ndarray:
    """Amplify large-scale shading and deepen shadows (L* plane in 0..255)."""
    if amount <= 0:
        return lum
    sigma = max(lum.shape) / 40
    broad = cv2.GaussianBlur(lum, (0, 0), sigma)
    out = lum + amount * 0.8 * (broad - float(broad.mean()))
    shadow = np.clip(1.0 - out / 90.0, 0.0, 1.0)  # 1 in the deepest shadows, 0 above L* ~35
    return out * (1.0 - amount * 0.35 * shadow)


def _base(plane: np.ndarray, radius: int = 3) -> np.ndarray:
    """The edge-aware base layer of a float32 plane (or image) in 0..255: grain removed."""
    return cv2.ximgproc.guidedFilter(plane, plane, radius, 12.0**2)


def focal_plane(rgb: np.ndarray, focus: np.ndarray, sharpen: float, blur: float) -> np.ndarray:
    """Sharpen where ``focus`` is 1 and soften where it is 0."""
    img = rgb.astype(np.float32)
    clean = _base(img)
    detail = clean - cv2.GaussianBlur(clean, (0, 0), 1.5)  # structure, not grain
    sharp = img + sharpen * detail
    soft = cv2.GaussianBlur(img, (0, 0), blur) if blur > 0 else img
    w = focus[..., None]
    return np.clip(w * sharp + (1 - w) * soft + 0.5, 0, 255).astype(np.uint8)


def focus_map(rgb: np.ndarray, mode: str) -> np.ndarray:
    h, w = rgb.shape[:2]
    if mode == "subject":
        alpha = subject_matte(rgb)
        if (alpha > 0.5).mean() > 0.02:
            return cv2.GaussianBlur(alpha, (0, 0), max(h, w) / 200)
    if mode == "none":
        return np.ones((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.exp(-(((xx - w / 2) / (0.35 * w)) ** 2 + ((yy - h / 2) / (0.35 * h)) ** 2))


def tone(rgb: np.ndarray, contrast: float, shadows: float) -> np.ndarray:
    if contrast <= 0 and shadows <= 0:
        return rgb  # no Lab round trip, so "all off" is exactly the input
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lum, gain = local_contrast(lab[..., 0], contrast)
    lab[..., 0] = np.clip(directional_light(lum, shadows), 0, 255)
    lift = min(1.6, 1.0 + 0.5 * gain)
    for c in (1, 2):  # chroma lifted on its base layer too: chroma grain stays as it was
        chroma = lab[..., c]
        smooth = _base(chroma)
        lab[..., c] = 128 + (smooth - 128) * lift + (chroma - smooth)
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def enhance(rgb: np.ndarray, params: DepthCuesParams) -> np.ndarray:
    toned = tone(rgb, params.contrast, params.shadows)
    if params.sharpen <= 0 and params.background_blur <= 0:
        return toned
    return focal_plane(toned, focus_map(rgb, params.focus), params.sharpen, params.background_blur)


@register
class DepthCuesOp(Op):
    name = "depth_cues"
    version = "2"  # 2: edge-aware base layer, no grain amplified
    stage = "refine"
    Params = DepthCuesParams

    def run(
        self, ctx: OpContext, inputs: list[InputAsset], params: DepthCuesParams
    ) -> list[Output]:
        rgb = load_input(ctx, inputs[0])
        out = enhance(rgb, params)
        before, after = readiness(rgb), readiness(out)
        ctx.report_progress(1.0)
        meta = {
            "readiness_before": round(before.score, 4),
            "readiness_after": round(after.score, 4),
            "readiness": after.message,
        }
        return [Output(data=encode_png(out), meta=meta)]
