"""Background stability: does the world behind the subject hold its shape?

Image-to-video models "liquefy" backgrounds: walls melt, lines bend and
crawl while the camera moves. Flicker metrics are blind to it (the optical
flow follows the melt, QUALITY.md (a)), so this gate asks a geometric
question instead, after taking out the camera: between frames t and t+k,
the background's motion should be one smooth field (a pan, a zoom, a
parallax gradient with depth), which a quadratic flow model in x and y
captures. What the model cannot explain, on textured background pixels
whose flow is trustworthy, is deformation.

The subject is excluded: its matte is cut on the first frame (the same
classical matte ``remove_background`` uses) and follows the subject through
the clip by a similarity transform fitted to ORB matches inside it. The
score is driven by the worst stretch of the clip: the deformed fraction of
the background (points off the model by more than ``TOLERANCE_PX``) in the
worst sampled pair, and the deformed fraction of the worst window (a fifth
of the short side): a melt is local, and a swirl over a tenth of the frame
is plain to see while it barely moves the global fraction. A heat map shows
where it happened.

This is the dense variant of VBench-2.0's geometric check (SIFT + RANSAC
inlier ratio) with a quadratic flow model in place of the fundamental
matrix: the 2.5D parallax of generated clips has no single rigid camera, and
a smooth model also holds for zooms of near-planar scenes.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np

from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import clip_info, frames, is_clip, sample_step
from routeyard.checks.temporal import _occlusion_mask
from routeyard.media.pixels import shrink

_SHORT_SIDE = 360
_PAIRS = 24  # sampled pairs per clip
_GRID = 4  # sample the flow every 4 px
TOLERANCE_PX = 0.75  # residual (working-size px) beyond which a point counts as deformed…
TOLERANCE_REL = (
    0.12  # …plus this fraction of the point's modelled motion (flow error grows with it)
)
GAP = 6  # a pair spans this many sampled frames: a melt shows over time, not between neighbours
SCALE = 0.06  # deformed fraction at which the score is 1/e
WINDOW = 5  # the local measure looks at windows of 1/WINDOW of the short side…
LOCAL_FREE = 0.6  # …where a clean clip's worst window reaches this deformed fraction…
LOCAL_SCALE = 0.2  # …and the local score is 1/e this far above it
_CELLS = 12


def _design(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


def _fit(points: np.ndarray, flow: np.ndarray, use: np.ndarray | None = None) -> np.ndarray:
    """Robust quadratic flow model, fitted on ``use``: least squares, then twice
    refitted without outliers; evaluated at every point."""
    a = _design(points[:, 0], points[:, 1])
    use = np.ones(len(points), bool) if use is None else use
    keep = use.copy()
    coef = np.zeros((6, 2))
    for _ in range(3):
        if keep.sum() < 12:
            break
        coef, *_ = np.linalg.lstsq(a[keep], flow[keep], rcond=None)
        resid = np.linalg.norm(a @ coef - flow, axis=1)
        cut = max(3.0 * float(np.median(resid[keep])) * 1.4826, TOLERANCE_PX)
        keep = (resid <= cut) & use
    return a @ coef


def first_subject(frame: np.ndarray) -> np.ndarray:
    """The first frame's subject: the classical matte, generously grown.

    Soft matte edges move half with the subject and half with the wall, and
    belong to neither motion, so they are excluded too.
    """
    from routeyard.media.matte import subject_matte

    mask = (subject_matte(frame) > 0.05).astype(np.uint8)
    grow = max(5, min(frame.shape[:2]) // 25) | 1
    return cv2.dilate(mask, np.ones((grow, grow), np.uint8)) > 0


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares scale + rotation + shift taking src to dst (Umeyama), 2x3."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    cov = b.T @ a / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ sign @ vt
    scale = float((d * np.diag(sign)).sum() / max((a * a).sum() / len(src), 1e-9))
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - m[:, :2] @ ms
    return m


def subject_motion(subject: np.ndarray, flow: np.ndarray) -> np.ndarray | None:
    """The similarity (2x3) that best moves the subject's pixels along ``flow``."""
    ys, xs = np.nonzero(subject[::_GRID, ::_GRID])
    if len(xs) < 12:
        return None
    xs, ys = xs * _GRID, ys * _GRID
    src = np.stack([xs, ys], 1).astype(np.float64)
    return _similarity(src, src + flow[ys, xs].astype(np.float64))


def _carry(subject: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Where the subject of frame a is in frame b, and the similarity that took it there."""
    m = subject_motion(subject, flow)
    if m is None:
        return subject, None
    h, w = subject.shape
    moved = cv2.warpAffine(subject.astype(np.uint8), m, (w, h), flags=cv2.INTER_NEAREST) > 0
    return moved, m


def local_worst(usable: np.ndarray, bad: np.ndarray, side: int) -> float:
    """The deformed fraction of the worst window of ``side`` px with enough usable points."""
    count = cv2.boxFilter(usable, -1, (side, side), normalize=False)
    hits = cv2.boxFilter(bad, -1, (side, side), normalize=False)
    enough = count >= 0.15 * (side / _GRID) ** 2
    return float((hits / np.maximum(count, 1))[enough].max()) if enough.any() else 0.0


def deformation(
    a: np.ndarray, b: np.ndarray, subject: np.ndarray, dis
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Fraction of textured background points of ``a`` that the smooth model cannot
    explain (over the frame and in the worst window), their residual map, and the
    subject carried into ``b``."""
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    fw, bw = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
    h, w = ga.shape
    carried, with_subject = _carry(subject, fw)
    # Points the flow can follow in both directions (Shi-Tomasi: the structure
    # tensor's smaller eigenvalue). Along a straight edge of a flat design the
    # flow is free to slide (the aperture problem) and its error is not the
    # background deforming; gradient magnitude alone counted those.
    # (Grain and smooth gradients stay under 20 at this size; corners of real
    # structure are in the hundreds.)
    eig = cv2.cornerMinEigenVal(ga.astype(np.float32), 5, 3)
    textured = eig > max(20.0, float(np.percentile(eig, 40)))
    usable = _occlusion_mask(fw, bw) & ~subject & textured
    ys, xs = np.mgrid[0:h:_GRID, 0:w:_GRID]
    pick = usable[ys, xs]
    heat = np.zeros((h, w), np.float32)
    if pick.sum() < 50:
        return 0.0, 0.0, heat, carried
    px, py = xs[pick], ys[pick]
    norm = np.stack([px / w * 2 - 1, py / h * 2 - 1], axis=1).astype(np.float64)
    flow = fw[py, px].astype(np.float64)
    with_it = np.zeros(len(px), bool)
    if with_subject is not None:
        # A fin, a wheel or a soft edge the matte missed moves with the
        # subject, not the wall: it is neither fitted nor counted as the
        # background deforming.
        pts = np.stack([px, py], 1).astype(np.float64)
        subject_flow = pts @ with_subject[:, :2].T + with_subject[:, 2] - pts
        with_it = np.linalg.norm(
            subject_flow - flow, axis=1
        ) <= TOLERANCE_PX + TOLERANCE_REL * np.linalg.norm(subject_flow, axis=1)
    fit_on = ~with_it if (~with_it).sum() >= 50 else np.ones(len(px), bool)
    model = _fit(norm, flow, fit_on)
    resid = np.linalg.norm(model - flow, axis=1)
    bad = (resid > TOLERANCE_PX + TOLERANCE_REL * np.linalg.norm(model, axis=1)) & ~with_it
    heat[py, px] = np.where(bad, np.minimum(resid, 5.0), 0.0) + 1e-3
    usable_grid, bad_grid = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    usable_grid[py, px] = 1
    bad_grid[py, px] = bad
    local = local_worst(usable_grid, bad_grid, min(h, w) // WINDOW)
    return float(bad.mean()), local, heat, carried


def _cells(heat: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    h, w = heat.shape
    rows = max(1, round(_CELLS * h / max(h, w)))
    cols = max(1, round(_CELLS * w / max(h, w)))
    total = cv2.resize(heat, (cols, rows), interpolation=cv2.INTER_AREA)
    count = cv2.resize(sampled, (cols, rows), interpolation=cv2.INTER_AREA)
    return np.where(count > 0, total / np.maximum(count, 1e-6), 0)


def stability(path: Path, pairs: int = _PAIRS) -> dict:
    info = clip_info(path)
    every = sample_step(max(1, info.frames - 1), pairs + GAP - 1)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    subject = None
    recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=GAP)  # (frame, its subject)
    per_pair: list[float] = []
    per_pair_local: list[float] = []
    index: list[int] = []
    heat_sum = sampled = None
    for i, frame in frames(path, every):
        small, _ = shrink(frame, _SHORT_SIDE, short=True)
        if subject is None:
            subject = first_subject(small)
            heat_sum = np.zeros(small.shape[:2], np.float32)
            sampled = np.zeros(small.shape[:2], np.float32)
        else:
            # Pair with the frame GAP samples back (the oldest kept), or with
            # the first frame while the clip is shorter than that; the subject
            # is carried along the flow from there.
            first, first_subject_mask = recent[0]
            fraction, local, heat, subject = deformation(first, small, first_subject_mask, dis)
            per_pair.append(fraction)
            per_pair_local.append(local)
            index.append(i)
            heat_sum += heat
            sampled[heat > 0] += 1
        recent.append((small, subject))
    return {
        "frames": info.frames,
        "every": every,
        "per_pair": per_pair,
        "per_pair_local": per_pair_local,
        "pair_end_frames": index,
        "heat": None if heat_sum is None else _cells(heat_sum, np.maximum(sampled, 0)),
    }


class BackgroundGate(Gate):
    """Liquefying backgrounds: deformation the camera's motion does not explain."""

    name = "background"
    version = "2"  # 2: trackable points are corners (no aperture problem), not edges
    threshold = 0.75
    media = "video"

    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> GateResult:
        path = files[0]
        if not is_clip(path):
            return GateResult(
                None,
                "not applicable: a still image has no background motion",
                status="not_applicable",
            )
        s = stability(path)
        if not s["per_pair"]:
            return GateResult(
                None,
                f"not applicable: the clip has {s['frames']} frame(s); two or more are needed",
                details={"frames": s["frames"]},
                status="not_applicable",
            )
        values, local = np.array(s["per_pair"]), np.array(s["per_pair_local"])
        worst, worst_local = float(values.max()), float(local.max())
        whole = float(np.exp(-worst / SCALE))
        region = float(np.exp(-max(0.0, worst_local - LOCAL_FREE) / LOCAL_SCALE))
        score = min(whole, region)
        if whole <= region:
            at = s["pair_end_frames"][int(values.argmax())]
            what = f"{worst:.0%} of it off the camera's motion near frame {at}"
        else:
            at = s["pair_end_frames"][int(local.argmax())]
            what = f"{worst_local:.0%} of one region off the camera's motion near frame {at}"
        message = "background holds its shape" if score >= 0.95 else f"background deforms: {what}"
        return GateResult(
            score=score,
            message=message,
            details={
                "frames": s["frames"],
                "pair_gap_frames": s["every"],
                "worst_deformed_fraction": round(worst, 4),
                "median_deformed_fraction": round(float(np.median(values)), 4),
                "worst_region_deformed_fraction": round(worst_local, 4),
                "sub_scores": {"whole": round(whole, 4), "region": round(region, 4)},
                "worst_near_frame": at,
                "tolerance_px": TOLERANCE_PX,
            },
            series=[float(v) for v in values],
            series_label="deformed background fraction",
            heatmap=s["heat"],
            heatmap_label="mean residual (px)",
        )
