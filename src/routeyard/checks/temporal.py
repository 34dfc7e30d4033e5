"""Temporal stability: flicker and texture boil that motion does not explain.

The CPU recipe of QUALITY.md (a). VBench's MAE flicker score is only valid on
static shots (any motion lowers it), so the core is Lai et al.'s warping
error: frame t+1 is warped back onto frame t along DIS optical flow, and the
photometric error is averaged over pixels the flow can explain (not
occluded, not on motion boundaries). Camera motion costs nothing; lighting
pops and boiling texture do. A per-frame L* series catches global flicker.

Approximations, stated: DIS instead of RAFT, a working short side of 360 px,
at most 48 frame pairs sampled evenly, and the score mapping below (to be
calibrated against accepted clips by the gates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from routeyard.ops.pixels import shrink

_SHORT_SIDE = 360
_MAX_PAIRS = 48
E_WARP_SCALE = 5e-4  # E_warp at which the warp sub-score is 1/e (≈ 4 % exposure jitter)
FLICKER_SCALE = 2.0  # L* flicker sd (0..100 scale) at which the flicker sub-score is 0


@dataclass(frozen=True)
class Temporal:
    score: float
    e_warp: float
    flicker_sd: float
    max_jump: float
    per_pair: list[float] = field(default_factory=list)  # warping error of each sampled pair


def _occlusion_mask(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Pixels whose flow is trustworthy: forward-backward consistent, off motion boundaries."""
    h, w = fw.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    bw_at = cv2.remap(bw, xs + fw[..., 0], ys + fw[..., 1], cv2.INTER_LINEAR)
    total = fw + bw_at
    consistent = (total**2).sum(-1) <= 0.01 * ((fw**2).sum(-1) + (bw_at**2).sum(-1)) + 0.5
    gx = cv2.Sobel(fw, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(fw, cv2.CV_32F, 0, 1, ksize=1)
    boundary = (gx**2 + gy**2).sum(-1) > 0.01 * (fw**2).sum(-1) + 0.002
    return consistent & ~boundary


def warping_error(a: np.ndarray, b: np.ndarray, dis) -> float:
    """Lai et al. E_warp of b warped onto a (RGB in [0, 1], mean over channels)."""
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    fw, bw = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
    h, w = ga.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(
        b, xs + fw[..., 0], ys + fw[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask = _occlusion_mask(fw, bw)
    if not mask.any():
        return 0.0
    diff = (a.astype(np.float32) - warped.astype(np.float32)) / 255.0
    return float(((diff**2).mean(-1) * mask).sum() / mask.sum())


def stability(frames: Iterable[np.ndarray]) -> Temporal:
    """Score a clip's frames (RGB uint8) in [0, 1]; 1 = no unexplained change.

    Frames are shrunk to the working size as they arrive, so a decoder can
    stream a long clip in without every full-size frame being held.
    """
    small = [shrink(f, _SHORT_SIDE, short=True)[0] for f in frames]
    if len(small) < 2:
        return Temporal(1.0, 0.0, 0.0, 0.0)
    lum = np.array([cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 0].mean() * 100 / 255 for f in small])
    if len(lum) >= 5:
        pad = np.pad(lum, 2, mode="edge")
        median = np.array([np.median(pad[i : i + 5]) for i in range(len(lum))])
        flicker = lum - median
    else:
        flicker = lum - lum.mean()
    step = max(1, (len(small) - 1) // _MAX_PAIRS)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    pairs = [warping_error(small[i], small[i + 1], dis) for i in range(0, len(small) - 1, step)]
    e_warp = float(np.mean(pairs))
    flicker_sd = float(flicker.std())
    score = 0.5 * float(np.exp(-e_warp / E_WARP_SCALE)) + 0.5 * max(
        0.0, 1 - flicker_sd / FLICKER_SCALE
    )
    return Temporal(score, e_warp, flicker_sd, float(np.abs(np.diff(lum)).max()), pairs)


def score_file(path: Path) -> float:
    from routeyard.ops.video import read_frames

    return stability(read_frames(path, where=str(path))).score
