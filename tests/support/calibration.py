"""The defect suite: clean items and items with a known defect at known strengths.

Thresholds are only as good as the evidence behind them. This module builds
that evidence from real photographs (scikit-image's samples) and clips
rendered from them with the local parallax engine, injects each gate's
defect at several strengths (0 = clean, 1 = clearly visible), and reports
per gate: detection rate at the default threshold, false alarms on clean
items, and Spearman's ρ between defect strength and score drop. CI runs a
small suite (``tests/checks/test_calibration.py``), ``benchmarks/
calibrate_gates.py`` the full one. Operators can run the same harness on
their own accepted and rejected outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.stats import spearmanr

# A defect at this strength or above is "clearly visible"; the detection target applies there.
CLEAR = 0.5


def photos(
    names: tuple[str, ...] = ("astronaut", "coffee", "chelsea", "rocket"),
) -> dict[str, np.ndarray]:
    from skimage import data

    out = {}
    for name in names:
        img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        out[name] = np.ascontiguousarray(img[..., :3])
    return out


# --------------------------------------------------------------- clips
def parallax_clip(
    rgb: np.ndarray, move: str, count: int, side: int = 360, subject: bool = True
) -> list[np.ndarray]:
    """A clip the way ``animate`` renders it: matte, layers, a named camera move.

    ``subject=False`` renders the background layer alone: the whole frame
    moves with the ground-plane depth prior (real parallax, nothing torn).
    """
    from routeyard.media.matte import subject_matte
    from routeyard.media.pixels import shrink
    from routeyard.ops.parallax import build_layers
    from routeyard.ops.parallax import frames as render_frames

    small, _ = shrink(rgb, side)
    small = small[: small.shape[0] // 2 * 2, : small.shape[1] // 2 * 2].copy()
    alpha = subject_matte(small) if subject else np.zeros(small.shape[:2], np.float32)
    layers = build_layers(small, alpha)
    return list(render_frames(layers, move, count, 1.0))


def camera_clip(
    rgb: np.ndarray, count: int, side: int = 360, speed: float = 2.0
) -> list[np.ndarray]:
    """A smooth pan with a slow zoom over a photo (no layers)."""
    from routeyard.media.pixels import shrink

    small, _ = shrink(rgb, int(side * 1.4))
    h, w = small.shape[:2]
    out_w, out_h = int(w / 1.4) // 2 * 2, int(h / 1.4) // 2 * 2
    clip = []
    for i in range(count):
        z = 1.0 + 0.002 * i
        m = np.float32([[z, 0, -speed * i - (w - out_w) / 4], [0, z, -(h - out_h) / 2]])
        clip.append(
            cv2.warpAffine(
                small, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        )
    return clip


# ------------------------------------------------------------ defects
def _picked(count: int, fraction: float, rng: np.random.Generator) -> list[int]:
    k = max(1, round(count * fraction))
    return sorted(rng.choice(np.arange(2, count - 2), size=k, replace=False).tolist())


def flicker(
    clip: list[np.ndarray], strength: float, rng: np.random.Generator, fraction: float = 0.02
) -> list[np.ndarray]:
    """Brightness pops on 1-3 % of frames: up to ±12 % exposure at strength 1."""
    out = [f.copy() for f in clip]
    for i in _picked(len(clip), fraction, rng):
        gain = 1 + 0.12 * strength * rng.choice([-1, 1])
        out[i] = np.clip(out[i].astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return out


def popping(
    clip: list[np.ndarray], strength: float, rng: np.random.Generator, fraction: float = 0.02
) -> list[np.ndarray]:
    """Texture popping on 1-3 % of frames: a patch re-textured (re-noised, shifted) for a frame."""
    out = [f.copy() for f in clip]
    h, w = clip[0].shape[:2]
    for i in _picked(len(clip), fraction, rng):
        ph, pw = h // 3, w // 3
        y, x = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        patch = out[i][y : y + ph, x : x + pw].astype(np.float32)
        moved = np.roll(patch, (7, 11), axis=(0, 1))
        noise = rng.normal(0, 25, patch.shape)
        popped = patch + strength * ((moved - patch) + noise)
        out[i][y : y + ph, x : x + pw] = np.clip(popped, 0, 255).astype(np.uint8)
    return out


def swirl_field(
    h: int, w: int, centre: tuple[float, float], radius: float, angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Remap grids for a swirl: rotation by ``angle`` at the centre, fading to 0 at ``radius``."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    r = np.sqrt(dx * dx + dy * dy)
    theta = angle * np.clip(1 - r / radius, 0, 1) ** 1.5
    c, s = np.cos(theta), np.sin(theta)
    return (centre[0] + c * dx - s * dy).astype(np.float32), (centre[1] + s * dx + c * dy).astype(
        np.float32
    )


def liquefy(
    clip: list[np.ndarray],
    strength: float,
    rng: np.random.Generator,
    subject: np.ndarray | None = None,
) -> list[np.ndarray]:
    """A local swirl in the background that grows and wobbles: the wall 'melts'.

    The swirl is centred on a background point (away from ``subject``, a
    boolean mask of frame 0), with a radius of a third of the frame and a
    peak angle of up to 2.4 rad at strength 1.
    """
    h, w = clip[0].shape[:2]
    free = ~subject if subject is not None else np.ones((h, w), bool)
    margin = min(h, w) // 6
    free[:margin], free[-margin:], free[:, :margin], free[:, -margin:] = False, False, False, False
    ys, xs = np.nonzero(free) if free.any() else (np.array([h // 2]), np.array([w // 2]))
    k = int(rng.integers(0, len(xs)))
    centre, radius = (float(xs[k]), float(ys[k])), min(h, w) / 3
    out = []
    for i, frame in enumerate(clip):
        t = i / max(1, len(clip) - 1)
        angle = 2.4 * strength * math.sin(math.pi * t) * (1 + 0.3 * math.sin(6 * math.pi * t))
        mx, my = swirl_field(h, w, centre, radius, angle)
        swirled = cv2.remap(frame, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if subject is not None:
            keep = subject[..., None]
            swirled = np.where(keep, frame, swirled)
        out.append(swirled)
    return out


def flatten(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Edge-preserving smoothing, contrast squeezed to grey, and blur: what image-to-video hates."""
    if strength <= 0:
        return rgb.copy()
    smooth = cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.4)
    out = rgb.astype(np.float32) + strength * (smooth.astype(np.float32) - rgb)
    out = out.mean() + (out - out.mean()) * (1 - 0.65 * strength)
    out = cv2.GaussianBlur(out, (0, 0), 0.1 + 2.5 * strength)
    return np.clip(out, 0, 255).astype(np.uint8)


def blur(rgb: np.ndarray, strength: float) -> np.ndarray:
    return rgb.copy() if strength <= 0 else cv2.GaussianBlur(rgb, (0, 0), 3.0 * strength)


def noise(rgb: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(rgb + rng.normal(0, 25 * strength, rgb.shape), 0, 255).astype(np.uint8)


def colour_cast(rgb: np.ndarray, strength: float) -> np.ndarray:
    """A warm white-balance shift: up to +16 % red, -16 % blue at strength 1."""
    gain = np.array([1 + 0.16 * strength, 1.0, 1 - 0.16 * strength], np.float32)
    return np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)


# ------------------------------------------------------------- report
@dataclass
class GateReport:
    gate: str
    threshold: float
    clean: list[float] = field(default_factory=list)
    defects: list[tuple[float, float]] = field(default_factory=list)  # (strength, score)
    by_item: list[list[tuple[float, float]]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def false_alarms(self) -> float:
        return float(np.mean([s < self.threshold for s in self.clean])) if self.clean else 0.0

    @property
    def detection(self) -> float:
        clear = [s for k, s in self.defects if k >= CLEAR]
        return float(np.mean([s < self.threshold for s in clear])) if clear else 0.0

    @property
    def spearman(self) -> float:
        """Median over items of ρ(strength, −score), strength 0 being the clean item."""
        rhos = []
        for curve in self.by_item:
            k, s = zip(*curve, strict=True)
            if np.ptp(s) == 0:
                rhos.append(0.0)
                continue
            rhos.append(float(spearmanr(k, -np.array(s)).statistic))
        return float(np.median(rhos)) if rhos else 0.0

    def row(self) -> dict:
        return {
            "gate": self.gate,
            "threshold": self.threshold,
            "clean_items": len(self.clean),
            "defect_items": len(self.defects),
            "detection": round(self.detection, 3),
            "false_alarms": round(self.false_alarms, 3),
            "spearman": round(self.spearman, 3),
            "clean_min": round(min(self.clean), 3) if self.clean else None,
            "clear_defect_max": round(
                max((s for k, s in self.defects if k >= CLEAR), default=0), 3
            ),
        }


Scorer = Callable[[object], float]


def run_suite(
    gate: str,
    threshold: float,
    items: Iterator[tuple[str, object, list[tuple[float, object]]]],
    score: Scorer,
) -> GateReport:
    """Score each item clean and at each defect strength."""
    report = GateReport(gate, threshold)
    for name, clean, variants in items:
        report.names.append(name)
        base = score(clean)
        report.clean.append(base)
        curve = [(0.0, base)]
        for strength, media in variants:
            s = score(media)
            report.defects.append((strength, s))
            curve.append((strength, s))
        report.by_item.append(curve)
    return report


def write_clip(path, clip: list[np.ndarray], fps: int = 24):
    """Encode frames as the H.264 MP4 a gate would be given."""
    from routeyard.media.video import Mp4Writer

    h, w = clip[0].shape[:2]
    with Mp4Writer(path, w, h, fps) as out:
        for frame in clip:
            out.write(frame)
    return path


def subject_of(frame: np.ndarray) -> np.ndarray:
    from routeyard.media.matte import subject_matte

    return subject_matte(frame) > 0.3
