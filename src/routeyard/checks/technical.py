"""Technical compliance: the file a client receives meets the spec.

Drafts that miss the deliverable look cheap however good the picture:
too few pixels for the placement (HD, 4K, print at 300 dpi), soft focus or
fake resolution (an upscale with no new detail), noise, clipped highlights
and shadows, an unexpected colour profile. QUALITY.md (f) takes sharpness as the
variance of the Laplacian (still reported, noise's 20σ² taken out); but that
counts how much texture there is as much as how crisp it is, and flat
designs and seamless backdrops failed as "soft". Sharpness is scored by
edge crispness instead (``edge_crispness``: second over first derivative
at the strongest edges, the inverse of their width). Noise is the wavelet MAD estimate (Haar diagonal detail, what
``skimage.restoration.estimate_sigma`` computes with PyWavelets). The score
is the worst sub-score; a missed resolution fails outright. Resolution and
frame rate are read from the file, never from the request.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from routeyard.checks.base import Gate, GateParams, GateResult, ramp
from routeyard.checks.media import clip_info, frames, is_clip, sample_step, still
from routeyard.errors import OpInputError
from routeyard.media.pixels import shrink

_WORK_SIDE = 768
DELIVERABLES = {  # name: (width, height) of the long × short side, landscape
    "hd": (1280, 720),
    "fhd": (1920, 1080),
    "4k": (3840, 2160),
    "square": (1080, 1080),
}
PRINT_MM = {"a5": (210, 148), "a4": (297, 210), "a3": (420, 297), "letter": (279.4, 215.9)}


class TechnicalParams(GateParams):
    deliver: str | None = None  # hd | fhd | 4k | square | print-a4 | print-a3 | WxH
    dpi: int = 300


def required_size(deliver: str, dpi: int) -> tuple[int, int]:
    """(long, short) pixel sides a deliverable needs."""
    key = deliver.lower().strip()
    if key in DELIVERABLES:
        return DELIVERABLES[key]
    if key.startswith("print-") and key[6:] in PRINT_MM:
        long_mm, short_mm = PRINT_MM[key[6:]]
        return math.ceil(long_mm / 25.4 * dpi), math.ceil(short_mm / 25.4 * dpi)
    m = re.fullmatch(r"(\d+)x(\d+)", key)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        return max(a, b), min(a, b)
    raise OpInputError(
        f"technical: unknown deliverable '{deliver}'; use one of "
        f"{', '.join(DELIVERABLES)}, {', '.join('print-' + p for p in PRINT_MM)} or WxH"
    )


def noise_sigma(rgb: np.ndarray) -> float:
    """Wavelet MAD noise estimate (8-bit units), mean over channels."""
    f = rgb.astype(np.float32)
    h, w = (f.shape[0] // 2) * 2, (f.shape[1] // 2) * 2
    f = f[:h, :w]
    hh = (f[0::2, 0::2] - f[0::2, 1::2] - f[1::2, 0::2] + f[1::2, 1::2]) / 2
    return float(np.mean([np.median(np.abs(hh[..., c])) / 0.6745 for c in range(hh.shape[-1])]))


def edge_crispness(grey: np.ndarray) -> float | None:
    """How steep the image's strongest edges are: Laplacian over gradient at them.

    The global Laplacian variance counts texture as much as focus, so a flat
    design or a product on a seamless backdrop read as "soft" however crisp
    their edges. At the strongest 2 % of edges the ratio of second to first
    derivative is the inverse of the edge's width — content-independent:
    photographs and crisp graphics sit at 0.14–0.30, a σ-1.5 blur under
    0.08 (measured on the fit split, benchmarks/calibrate_gates.py).
    ``None`` when there are too few edges to judge (a smooth gradient).
    """
    g = cv2.GaussianBlur(grey, (0, 0), 0.5)
    mag = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    lap = cv2.dilate(np.abs(cv2.Laplacian(g, cv2.CV_32F)), np.ones((3, 3), np.uint8))
    edges = mag >= max(float(np.percentile(mag, 98)), 20.0)
    if edges.sum() < 50:
        return None
    return float(np.median(lap[edges] / mag[edges]))


def measure_image(rgb: np.ndarray) -> dict[str, float]:
    sigma = noise_sigma(rgb)
    small, scale = shrink(rgb, _WORK_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    # Noise shrinks with the image's downscale too.
    sharp = max(float(lap.var()) - 20 * (sigma * scale) ** 2, 0.0)
    # Blown highlights: every channel at the top (one saturated channel in a
    # vivid colour is not clipping). Pure black is reported, not scored:
    # black backdrops are a deliberate look.
    clipped = float((rgb.min(-1) >= 253).mean())
    crushed = float((rgb.max(-1) <= 2).mean())
    crisp = edge_crispness(grey)
    return {
        "sharpness": sharp,
        "crispness": -1.0 if crisp is None else crisp,
        "noise_sigma": sigma,
        "clipped": clipped,
        "crushed": crushed,
    }


def sharpness_map(rgb: np.ndarray, cells: int = 12) -> np.ndarray:
    small, _ = shrink(rgb, _WORK_SIDE)
    lap = cv2.Laplacian(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)
    h, w = lap.shape
    rows, cols = max(1, round(cells * h / max(h, w))), max(1, round(cells * w / max(h, w)))
    sq = cv2.resize(lap * lap, (cols, rows), interpolation=cv2.INTER_AREA)
    return np.log10(sq + 1)


def _profile(path: Path) -> str | None:
    try:
        with Image.open(path) as img:
            icc = img.info.get("icc_profile")
    except OSError:
        return None
    if not icc:
        return None
    from PIL import ImageCms

    try:
        return ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(__import__("io").BytesIO(icc))
        ).strip()
    except (OSError, ImageCms.PyCMSError):
        return "unreadable ICC profile"


class TechnicalGate(Gate):
    name = "technical"
    version = "2"  # 2: sharpness from edge crispness, not texture amount
    threshold = 0.70
    media = "any"
    Params = TechnicalParams

    def measure(self, files: list[Path], params: TechnicalParams, ref: Path | None) -> GateResult:
        path = files[0]
        details: dict = {}
        if is_clip(path):
            info = clip_info(path)
            width, height = info.width, info.height
            picks = [f for _, f in frames(path, sample_step(info.frames, 5))]
            details.update({"fps": round(info.fps, 3), "frames": info.frames})
            details["colour"] = _video_colour(path)
        else:
            rgb = still(path)
            height, width = rgb.shape[:2]
            picks = [rgb]
            details["colour_profile"] = _profile(path) or "none (read as sRGB)"
        values = [measure_image(f) for f in picks]
        m = {k: float(np.median([v[k] for v in values])) for k in values[0]}
        crisp = m["crispness"]
        subs = {
            # edges too few to judge (a smooth gradient): sharpness is not scored
            "sharpness": 1.0 if crisp < 0 else ramp(crisp, 0.085, 0.135),
            "noise": ramp(m["noise_sigma"], 8.0, 3.0),
            "clipping": ramp(m["clipped"], 0.10, 0.02),
        }
        failing = []
        hard = False
        details.update({"width": width, "height": height})
        if params.deliver:
            need_long, need_short = required_size(params.deliver, params.dpi)
            have_long, have_short = max(width, height), min(width, height)
            ratio = min(have_long / need_long, have_short / need_short)
            subs["resolution"] = ramp(ratio, 0.5, 1.0)
            details["required"] = f"{need_long}x{need_short} ({params.deliver})"
            if ratio < 1:
                hard = True
                failing.append(
                    f"undersized for {params.deliver}: {width}x{height}, needs {need_long}x{need_short}"
                )
        labels = {
            "sharpness": "soft or upscaled (little real detail)",
            "noise": "noisy",
            "clipping": "blown highlights",
        }
        failing += [labels[k] for k, v in subs.items() if k in labels and v < 0.5]
        details.update(
            {
                "sharpness_laplacian_var": round(m["sharpness"], 2),
                "edge_crispness": None if crisp < 0 else round(crisp, 4),
                "noise_sigma": round(m["noise_sigma"], 3),
                "clipped_fraction": round(m["clipped"], 4),
                "crushed_black_fraction": round(m["crushed"], 4),
                "sub_scores": {k: round(v, 4) for k, v in subs.items()},
                "failing": failing,
            }
        )
        return GateResult(
            score=min(subs.values()),
            message="meets the spec" if not failing else "; ".join(failing),
            details=details,
            heatmap=sharpness_map(picks[0]),
            heatmap_label="log10 local Laplacian energy",
            hard_fail=hard,
        )


def _video_colour(path: Path) -> dict:
    import av

    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return {
            "codec": cc.name,
            "pix_fmt": cc.pix_fmt,
            "colorspace": str(getattr(cc, "colorspace", None)),
        }
