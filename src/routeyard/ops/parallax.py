"""2.5D parallax from one still: layers, camera moves, per-frame rendering.

A single photo becomes two layers: the subject (from the matte) and a
background *plate* whose hidden part, behind the subject, is inpainted so
that moving the subject reveals plausible background instead of a hole or a
smeared copy of the subject. Each layer has a nearness in [0, 1]: the subject
is nearest (1); the background is a ground-plane prior, farther at the top
of the frame than at the bottom. A camera move is a function of time giving,
for a nearness ``d``, a zoom and a shift; nearer layers move more, which is
the whole effect.

Guarantees the tests check: frame 0 is the input exactly (every move starts
from the identity); the frame never shows the plate's border (zoom always
covers the shift); motion follows a cosine ease, so frame-to-frame change is
smooth and bounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from routeyard.media.pixels import shrink

MOVES = ("dolly-in", "pan-left", "pan-right", "orbit", "float")

_PLATE_SIDE = 480  # inpaint the hidden background at this long side: cost is bounded
_SUBJECT_NEAR = 1.0
_SOFT = 0.02
_BG_FAR, _BG_NEAR = (
    0.5,
    0.7,
)  # top and bottom rows of the background: near the subject, so the bend is gentle


@dataclass(frozen=True)
class Layers:
    plate: np.ndarray  # HxWx3 uint8: the background with the subject filled in
    subject: np.ndarray  # HxWx3 uint8: the subject's own colour, without background halo
    alpha: np.ndarray  # HxW float32 in [0, 1]
    bg_near: np.ndarray  # H float32: nearness of each background row
    centre: tuple[float, float]  # the subject's centroid, or the frame centre
    source: np.ndarray  # HxWx3 uint8: the input, which is frame 0
    depth: np.ndarray | None = None  # HxW float32 nearness, continuous (see soft_depth)


@dataclass(frozen=True)
class Pose:
    """Zoom and shift (pixels) as functions of nearness, about ``centre``."""

    zoom: Callable[[np.ndarray | float], np.ndarray | float]
    tx: Callable[[np.ndarray | float], np.ndarray | float]
    ty: Callable[[np.ndarray | float], np.ndarray | float]
    centre: tuple[float, float]


def build_layers(rgb: np.ndarray, alpha: np.ndarray, keep: np.ndarray | None = None) -> Layers:
    """Split ``rgb`` into a subject layer and an inpainted background plate.

    ``keep`` (HxW, in [0, 1]) marks what must move rigidly with the subject
    whatever the matte says — faces: a face half inside a partial matte
    would be bent by the soft depth, and read as another person.
    """
    h, w = rgb.shape[:2]
    covered = alpha > 0.02
    if covered.any():
        grow = max(3, round(min(h, w) * 0.015)) | 1
        hole = cv2.dilate(covered.astype(np.uint8), np.ones((grow, grow), np.uint8)) > 0
        # Inpaint a margin wider than the matte (no subject colour bleeds into
        # the fill), but show the real pixels outside the matte: frame 0 then
        # rebuilds the still exactly, so the clip does not pop at frame 1.
        plate = np.where(covered[..., None], _fill_hole(rgb, hole), rgb)
        src, bg = rgb.astype(np.float32), plate.astype(np.float32)
        # Solve rgb = a*F + (1-a)*plate for F, so the edge keeps the subject's
        # colour, not the old background's, when the layers separate. Where
        # no F in 0..255 solves it (the fill differs too much from what was
        # there), raise a just enough that one does: frame 0 stays exact.
        need = np.where(
            src > bg, (src - bg) / np.maximum(255 - bg, 1e-3), (bg - src) / np.maximum(bg, 1e-3)
        )
        alpha = np.where(covered, np.maximum(alpha, need.max(-1)), alpha).clip(0, 1)
        a = alpha[..., None].astype(np.float32)
        fg = (src - (1 - a) * bg) / np.maximum(a, 0.02)
        subject = np.where(a > 0.02, np.clip(fg + 0.5, 0, 255), rgb).astype(np.uint8)
        ys, xs = np.nonzero(alpha > 0.5) if (alpha > 0.5).any() else np.nonzero(covered)
        centre = (float(xs.mean()), float(ys.mean()))
    else:
        plate, subject, centre = rgb, rgb, (w / 2, h / 2)
    rows = np.linspace(_BG_FAR, _BG_NEAR, h, dtype=np.float32)
    near = alpha if keep is None else np.maximum(alpha, keep.astype(np.float32))
    depth = soft_depth(near, rows) if (near > 0.02).any() else None
    return Layers(plate, subject, alpha.astype(np.float32), rows, centre, rgb, depth)


def soft_depth(alpha: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A continuous nearness map: the ground-plane prior, raised smoothly over the subject.

    A hard subject layer moves every pixel the matte takes, wall included,
    and cuts whatever crosses its edge (a headline, a shelf) in two. Here
    the subject's nearness fades into the background's over a band a few
    per cent of the frame wide, so the picture bends there instead of
    tearing; nothing is cut, and a matte that took a piece of wall moves it
    only as much as its softened nearness says.
    """
    h, w = alpha.shape
    sigma = max(2.0, _SOFT * min(h, w))
    soft = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), sigma)
    soft = np.clip(soft * 1.6 - 0.3, 0, 1)  # the subject's inside stays fully near
    base = np.broadcast_to(rows[:, None], (h, w))
    return (base + soft * (_SUBJECT_NEAR - base)).astype(np.float32)


def _fill_hole(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    small, _ = shrink(rgb, _PLATE_SIDE)
    size = (small.shape[1], small.shape[0])
    small_hole = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    small_hole = cv2.dilate(small_hole, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_hole * 255, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.5)  # inpainting streaks read as motion; soften them
    up = cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.where(hole[..., None], up, rgb)


def ease(t: float) -> float:
    """Cosine ease-in/out: zero velocity at both ends, no jerk at the start."""
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def pose(move: str, t: float, layers: Layers, intensity: float) -> Pose:
    """The camera at time ``t`` in [0, 1] for a named move."""
    h, w = layers.source.shape[:2]
    e = ease(t)
    mid = (w / 2, h / 2)
    if move == "dolly-in":
        z = 0.35 * intensity * e
        return Pose(lambda d: 1 + z * d, lambda d: 0 * d, lambda d: 0 * d, layers.centre)
    if move in ("pan-left", "pan-right"):
        # pan-left: the camera travels left, so the scene slides right.
        sign = 1.0 if move == "pan-left" else -1.0
        p = sign * 0.12 * intensity * e * w
        return _covered(lambda d: p * d, lambda d: 0 * d, 1.0, mid, w, h)
    if move == "orbit":
        # Circle the subject: it stays put, the background swings past behind it.
        o = 0.10 * intensity * math.sin(math.pi * e) * w
        lift = 0.02 * intensity * math.sin(2 * math.pi * e) * h
        return _covered(
            lambda d: -o * (_SUBJECT_NEAR - d),
            lambda d: lift * (_SUBJECT_NEAR - d),
            1 + 0.04 * intensity * e,
            mid,
            w,
            h,
        )
    if move == "float":
        # One loop, eased, so it starts and ends at rest where it began.
        f, phase = 0.03 * intensity, 2 * math.pi * e
        sx = f * w * math.sin(phase) * 0.6
        sy = -f * h * (1 - math.cos(phase)) / 2
        return _covered(lambda d: sx * d, lambda d: sy * d, 1.0, mid, w, h)
    raise ValueError(f"unknown camera move {move!r}")


def _covered(tx, ty, extra_zoom: float, centre, w: int, h: int) -> Pose:
    """A shift plus the least zoom that keeps the frame inside the layer."""

    def zoom(d):
        return extra_zoom * (1 + 2 * np.maximum(np.abs(tx(d)) / w, np.abs(ty(d)) / h))

    return Pose(zoom, tx, ty, centre)


def render_soft(layers: Layers, p: Pose) -> np.ndarray:
    """One frame warped by the continuous nearness map: no layer, no cut.

    The forward map sends a pixel q of nearness D(q) to c + (q − c)·zoom(D)
    + t(D). Its inverse is found by fixed-point iteration from the output
    pixel (D is smooth, so three rounds converge to a fraction of a pixel),
    and the input is sampled there once.
    """
    assert layers.depth is not None
    h, w = layers.source.shape[:2]
    cx, cy = p.centre
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    qx, qy = gx.copy(), gy.copy()
    for _ in range(3):
        d = cv2.remap(layers.depth, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        z = np.asarray(p.zoom(d), np.float32)
        qx = (cx + (gx - cx - np.asarray(p.tx(d), np.float32)) / z).astype(np.float32)
        qy = (cy + (gy - cy - np.asarray(p.ty(d), np.float32)) / z).astype(np.float32)
    return cv2.remap(layers.source, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def render(layers: Layers, p: Pose) -> np.ndarray:
    """One frame: the plate warped by row nearness, the subject over it."""
    if layers.depth is not None:
        return render_soft(layers, p)
    h, w = layers.source.shape[:2]
    cx, cy = p.centre
    d = layers.bg_near
    zoom, tx, ty = (
        np.broadcast_to(np.asarray(f(d), np.float32), d.shape) for f in (p.zoom, p.tx, p.ty)
    )
    xs = np.arange(w, dtype=np.float32)
    map_x = cx + (xs[None, :] - cx - tx[:, None]) / zoom[:, None]
    map_y = np.broadcast_to(
        (cy + (np.arange(h, dtype=np.float32) - cy - ty) / zoom)[:, None], (h, w)
    )
    frame = cv2.remap(
        layers.plate,
        map_x.astype(np.float32),
        np.ascontiguousarray(map_y, np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    if not layers.alpha.any():
        return frame
    s = float(p.zoom(_SUBJECT_NEAR))
    m = np.array(
        [
            [s, 0, (1 - s) * cx + float(p.tx(_SUBJECT_NEAR))],
            [0, s, (1 - s) * cy + float(p.ty(_SUBJECT_NEAR))],
        ],
        np.float32,
    )
    fg = cv2.warpAffine(
        layers.subject, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    a = cv2.warpAffine(layers.alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    out = frame.astype(np.float32)
    out += (fg.astype(np.float32) - out) * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def frames(layers: Layers, move: str, count: int, intensity: float) -> Iterator[np.ndarray]:
    """``count`` frames of the move; frame 0 is the input, untouched."""
    for i in range(count):
        if i == 0:
            yield layers.source
            continue
        yield render(layers, pose(move, i / max(1, count - 1), layers, intensity))
