"""Temporal stability: flicker, texture popping and boil that motion does not explain.

The CPU recipe of QUALITY.md (a). VBench's temporal-flickering score (mean
absolute frame difference) is only valid on static shots, since any motion
lowers it; it is computed exactly, on the decoded frames, and reported with
VBench's static filter. The score itself rests on Lai et al.'s warping
error: frame t+1 is warped back onto frame t along DIS optical flow and the
photometric error is averaged over pixels the flow explains (not occluded,
off motion boundaries). Camera motion costs nothing; lighting pops and
popping texture do. Three failure modes, each its own sub-score, the worst
one is the score (so one popped frame in a hundred is not averaged away):

- ``pops``: frames whose warping error against *both* neighbours jumps above
  the clip's own baseline (texture popping, a frame that does not belong);
  one high pair alone is a cut or an encoder keyframe, not a pop;
- ``flicker``: the L* series *along the motion* (each frame's lightness
  change on the pixels the flow carries over, accumulated; globally and per
  4x4 tile, for local light pops) minus its 5-frame moving median —
  brightness that jumps and returns. Measured at a fixed place in the frame
  instead, a fast pan or a handheld shake that brings a brighter part of
  the scene into view read as flicker (held-out calibration);
- ``boil``: the baseline warping error itself — texture that crawls on
  every frame.

Approximations, stated: DIS instead of RAFT (for the warp and for VBench's
static filter), a working short side of 360 px, every consecutive pair
scored, no shot detection (a hard cut is not flagged by any sub-score).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import frames as clip_frames
from routeyard.checks.media import is_clip
from routeyard.media.pixels import shrink

_SHORT_SIDE = 360
BOIL_FLOOR = 2.0e-4  # E_warp a clean camera move reaches from resampling alone
BOIL_SCALE = 4.0e-4  # excess baseline E_warp at which the boil sub-score is 1/e
POP_SCALE = 3.5e-4  # excess pair error over twice the baseline at which the pop sub-score is 1/e
POP_FLOOR = 1.0e-4
FLICKER_SCALE = 3.5  # |ΔL*| from the local median at which the flicker sub-score is 0
FLICKER_FREE = 0.5  # |ΔL*| a steady clip reaches from compression noise


@dataclass(frozen=True)
class Temporal:
    score: float
    e_warp: float  # mean Lai warping error over the pairs
    flicker_sd: float  # sd of the detrended L* series
    max_jump: float  # the largest |ΔL*| from the local median, globally or in a tile
    per_pair: list[float] = field(default_factory=list)  # each pair's error over every pixel
    per_frame_flicker: list[float] = field(default_factory=list)  # |ΔL*| per frame
    sub_scores: dict[str, float] = field(default_factory=dict)
    vbench_flicker: float = 1.0  # (255 - mean MAE) / 255 on the full-size frames
    static: bool = True  # VBench's static filter (on DIS flow)
    frames: int = 0
    baseline: float = 0.0  # median masked warping error: the steady boil
    pop_frame: int = 0  # the frame most at odds with both its neighbours


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


def _pair(a: np.ndarray, b: np.ndarray, dis) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Lai et al. E_warp of b warped onto a (RGB in [0, 1], mean over channels), the same
    error over every pixel, and the flow.

    The occlusion mask is right for steady boil (it ignores what motion
    hides), but it also hides a popped patch (the flow there is
    inconsistent), so pops are judged on the unmasked error.
    """
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    fw, bw = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
    h, w = ga.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(
        b, xs + fw[..., 0], ys + fw[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask = _occlusion_mask(fw, bw)
    err = (((a.astype(np.float32) - warped.astype(np.float32)) / 255.0) ** 2).mean(-1)
    masked = float((err * mask).sum() / mask.sum()) if mask.any() else 0.0
    return masked, float(err.mean()), fw, _light_change(a, warped, mask)


def _light_change(a: np.ndarray, warped: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The L* change from ``a`` to the next frame warped onto it, on the pixels the
    flow explains: the whole frame and a 4x4 grid of tiles.

    Comparing the same pixels after motion, not the same place in the frame:
    a pan that brings a bright sky into a tile changes that tile's mean but
    not this, while a light that pops changes both.
    """

    def lum(rgb):
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (100 / 255)

    diff = (lum(warped) - lum(a)) * mask
    m = mask.astype(np.float32)
    whole = float(diff.sum() / max(m.sum(), 1.0))
    tiles = cv2.resize(diff, (4, 4), interpolation=cv2.INTER_AREA)
    weight = cv2.resize(m, (4, 4), interpolation=cv2.INTER_AREA)
    local = np.where(weight > 0.05, tiles / np.maximum(weight, 1e-6), 0.0).ravel()
    return np.concatenate([[whole], local]).astype(np.float32)


def warping_error(a: np.ndarray, b: np.ndarray, dis) -> float:
    return _pair(a, b, dis)[0]


def _detrend(series: np.ndarray) -> np.ndarray:
    """Each value minus the median of its 5-frame neighbourhood (edges padded)."""
    if len(series) < 5:
        return series - np.median(series, axis=0)
    pad = np.pad(series, ((2, 2), (0, 0)), mode="edge")
    windows = np.stack([pad[i : i + len(series)] for i in range(5)])
    return series - np.median(windows, axis=0)


def stability(frames: Iterable[np.ndarray]) -> Temporal:
    """Score a clip's frames (RGB uint8) in [0, 1]; 1 = no unexplained change.

    Frames are consumed one at a time: only the previous frame (full size,
    for the VBench difference) and small per-frame numbers are kept, so the
    memory use does not grow with the clip's length.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    prev_full = prev_small = None
    scale = 1.0
    pairs, whole, maes, motion, change = [], [], [], [], []
    for frame in frames:
        small, scale = shrink(frame, _SHORT_SIDE, short=True)
        if prev_full is not None:
            maes.append(float(cv2.absdiff(prev_full, frame).mean()))
            e, e_all, fw, dl = _pair(prev_small, small, dis)
            change.append(dl)
            pairs.append(e)
            whole.append(e_all)
            mag = np.sqrt((fw**2).sum(-1)).ravel() / scale
            top = max(1, mag.size // 50)  # VBench's static filter: mean of the top 2 %
            motion.append(float(np.partition(mag, -top)[-top:].mean()))
        prev_full, prev_small = frame, small
        h, w = frame.shape[:2]
    n = len(change) + (1 if prev_full is not None else 0)
    if n < 2:
        return Temporal(1.0, 0.0, 0.0, 0.0, frames=n)

    e = np.array(pairs)
    baseline = float(np.median(e))
    boil = float(np.exp(-max(0.0, baseline - BOIL_FLOOR) / BOIL_SCALE))
    e_all = np.array(whole)
    # A popped frame disagrees with both neighbours; one high pair alone is a
    # cut or the encoder's keyframe (frame 0 is sharper than the frames it predicts).
    both = np.minimum(e_all[:-1], e_all[1:]) if len(e_all) > 1 else e_all
    excess = both - 2 * float(np.median(e_all)) - POP_FLOOR
    pops = float(np.exp(-max(0.0, float(excess.max())) / POP_SCALE))
    # Lightness along the motion: frame 0's L*, then each frame's change on
    # the pixels the flow carried over; a flicker jumps and returns in it.
    light = np.vstack([np.zeros((1, 17), np.float32), np.cumsum(np.array(change), axis=0)])
    jumps = np.abs(_detrend(light))  # frames x (1 + 16 tiles)
    per_frame = jumps.max(axis=1)
    worst = float(per_frame.max())
    flicker = float(np.clip(1 - max(0.0, worst - FLICKER_FREE) / FLICKER_SCALE, 0, 1))
    score = min(boil, pops, flicker)

    moving = sum(m > 3 * min(h, w) / 256 for m in motion)
    return Temporal(
        score=score,
        e_warp=float(e.mean()),
        flicker_sd=float(jumps[:, 0].std()),
        max_jump=worst,
        per_pair=[float(x) for x in e_all],
        per_frame_flicker=[float(x) for x in per_frame],
        sub_scores={"boil": boil, "pops": pops, "flicker": flicker},
        vbench_flicker=(255 - float(np.mean(maes))) / 255,
        static=moving <= round(2 * n / 16),
        frames=n,
        baseline=baseline,
        pop_frame=int(np.argmax(both)) + (1 if len(e_all) > 1 else 0),
    )


def score_file(path: Path) -> float:
    from routeyard.media.video import read_frames

    return stability(read_frames(path, where=str(path))).score


class TemporalGate(Gate):
    """Flicker and popping that camera motion does not explain."""

    name = "temporal"
    version = "2"  # 2: flicker measured along the motion
    threshold = 0.75
    media = "video"

    def measure(self, files: list[Path], params: GateParams, ref: Path | None) -> GateResult:
        path = files[0]
        if not is_clip(path):
            return GateResult(
                None, "not applicable: a still image has no motion", status="not_applicable"
            )
        t = stability(f for _, f in clip_frames(path))
        if t.frames < 2:
            return GateResult(
                None,
                f"not applicable: the clip has {t.frames} frame(s); flicker needs two or more",
                details={"frames": t.frames},
                status="not_applicable",
            )
        worst = min(t.sub_scores, key=t.sub_scores.get)
        labels = {
            "pops": f"texture popping at frame {t.pop_frame}",
            "flicker": f"brightness flicker (max |ΔL*| {t.max_jump:.1f} at frame {int(np.argmax(t.per_frame_flicker))})",
            "boil": f"texture boil (warping error {t.baseline:.1e})",
        }
        message = "stable" if t.score >= 0.99 else labels[worst]
        return GateResult(
            score=t.score,
            message=message,
            details={
                "frames": t.frames,
                "sub_scores": {k: round(v, 4) for k, v in t.sub_scores.items()},
                "e_warp_mean": t.e_warp,
                "e_warp_median": t.baseline,
                "max_lightness_jump": round(t.max_jump, 3),
                "flicker_sd": round(t.flicker_sd, 4),
                "vbench_temporal_flickering": round(t.vbench_flicker, 6),
                "vbench_static": t.static,
                "per_frame_lightness_jump": [round(x, 3) for x in t.per_frame_flicker],
            },
            series=[x * 1e4 for x in t.per_pair],
            series_label="warp error ×1e-4 (frame t→t+1)",
        )
