"""A subject matte without a downloaded model (``remove_background``, parallax, gates).

No segmentation network that works offline can be installed beside our
OpenCV (mediapipe drags in jax and a second OpenCV build, see QUALITY.md
§0), so the matte is classical and deterministic:

1. *Seeds.* Pixels whose Lab colour is far from every colour seen along the
   top and upper sides of the frame (k-means of the border strip) are likely subject; fine-grained
   saliency and a mild centre prior refine that. A frontal face (OpenCV's
   shipped Haar cascade) marks the face as sure subject and the body below it
   as probable subject, which keeps people whole when their clothes match the
   background. A ``box`` hint from the operator marks everything outside it
   as sure background, as in classic GrabCut.
2. *GrabCut* (colour GMMs + graph cut) settles the labels at a working
   resolution of at most 400 px, which bounds the cost whatever the input.
3. *Clean-up and edges.* Small islands are dropped, and the upsampled mask is
   refined with a guided filter so the alpha follows hair and soft edges of
   the full-resolution image instead of the working grid.

The same matte feeds ``animate`` (the subject layer of the parallax) and
``composite``.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from routeyard.media.pixels import shrink

_WORK_SIDE = 400
_BORDER_COLOURS = 8
# Subjects often run off the bottom of the frame (portraits, products on a
# table) and the lower sides, so only the top edge and the upper part of
# the sides are taken as background.
_SIDE_BORDER = 0.6


def detect_faces(rgb: np.ndarray, min_fraction: float = 0.05) -> list[tuple[int, int, int, int]]:
    """Frontal faces as (x, y, w, h), largest first, from OpenCV's shipped Haar cascade."""
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    side = max(20, round(min(grey.shape) * min_fraction))
    with _FACE_LOCK:  # one cascade object; OpenCV's detector is not safe to share
        found = _cascade().detectMultiScale(grey, 1.1, 5, minSize=(side, side))
    return sorted((tuple(int(v) for v in f) for f in found), key=lambda f: -f[2] * f[3])


_CASCADE: cv2.CascadeClassifier | None = None
# Two steps reframing at once crashed inside detectMultiScale (its scale data
# is per object), so calls are serialised; a detection takes milliseconds.
_FACE_LOCK = threading.Lock()


def _cascade() -> cv2.CascadeClassifier:
    global _CASCADE
    if _CASCADE is None:
        _CASCADE = cv2.CascadeClassifier(
            cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        )
    return _CASCADE


# OpenCV's random state (GrabCut's and k-means' seeding) is not safe to share
# between threads: two mattes computed at once came out different. One at a
# time keeps every matte, and so every cache key downstream, reproducible.
_LOCK = threading.Lock()


def subject_matte(
    rgb: np.ndarray,
    *,
    box: tuple[int, int, int, int] | None = None,
    feather: int = 4,
    iterations: int = 5,
    use_faces: bool = True,
) -> np.ndarray:
    """Alpha in [0, 1] (float32, HxW): 1 on the subject, 0 on the background."""
    with _LOCK:
        return _matte(rgb, box, feather, iterations, use_faces)


def _matte(rgb, box, feather, iterations, use_faces) -> np.ndarray:
    h, w = rgb.shape[:2]
    small, scale = shrink(rgb, _WORK_SIDE)
    sh, sw = small.shape[:2]
    border = max(2, round(min(sh, sw) * 0.03))
    score = _subject_score(small, border)

    labels = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    labels[score > max(0.25, float(np.percentile(score, 60)))] = cv2.GC_PR_FGD
    labels[score > max(0.5, float(np.percentile(score, 85)))] = cv2.GC_FGD
    if use_faces:
        for x, y, fw, fh in detect_faces(small)[:3]:
            x0, x1 = max(0, x - fw), min(sw, x + 2 * fw)
            body = labels[y + fh // 2 :, x0:x1]
            body[body != cv2.GC_FGD] = cv2.GC_PR_FGD
            labels[y + fh // 6 : y + fh * 5 // 6, x + fw // 6 : x + fw * 5 // 6] = cv2.GC_FGD
    if box is not None:
        bx0, by0, bx1, by1 = (round(v * scale) for v in box)
        outside = np.ones((sh, sw), bool)
        outside[max(0, by0) : max(0, by1), max(0, bx0) : max(0, bx1)] = False
        labels[outside] = cv2.GC_BGD
        inside = ~outside
        labels[inside & (labels == cv2.GC_PR_BGD)] = cv2.GC_PR_FGD
    else:
        side = round(sh * _SIDE_BORDER)
        labels[:border] = cv2.GC_BGD
        labels[:side, :border] = labels[:side, -border:] = cv2.GC_BGD
    if not np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
        return np.zeros((h, w), np.float32)

    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's GMM initialisation draws from OpenCV's RNG
    cv2.grabCut(
        cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
        labels,
        None,
        bgd,
        fgd,
        iterations,
        cv2.GC_INIT_WITH_MASK,
    )
    fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    fg = _keep_main_parts(fg)

    alpha = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    if feather:
        guide = rgb.astype(np.float32) / 255.0
        alpha = cv2.ximgproc.guidedFilter(guide, alpha, feather, 1e-3)
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)


def _subject_score(small: np.ndarray, border: int) -> np.ndarray:
    """How subject-like each pixel is, in [0, 1]: colour distinct from the border, salient, central."""
    sh, sw = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    side = round(sh * _SIDE_BORDER)
    strip = np.concatenate(
        [
            lab[:border].reshape(-1, 3),
            lab[:side, :border].reshape(-1, 3),
            lab[:side, -border:].reshape(-1, 3),
        ]
    )
    k = min(_BORDER_COLOURS, len(strip))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(strip, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    flat = lab.reshape(-1, 3)
    dist = np.full(len(flat), np.inf, np.float32)
    for c in centres:
        np.minimum(dist, np.linalg.norm(flat - c, axis=1), out=dist)
    dist = cv2.GaussianBlur(dist.reshape(sh, sw), (0, 0), 2)
    dist = np.clip(dist / (float(np.percentile(dist, 99)) + 1e-6), 0, 1)

    ok, saliency = cv2.saliency.StaticSaliencyFineGrained_create().computeSaliency(
        cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    )
    saliency = (
        cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), 4) if ok else np.zeros_like(dist)
    )
    saliency /= float(saliency.max()) + 1e-6

    yy, xx = np.mgrid[0:sh, 0:sw]
    centre = np.exp(-(((xx - sw / 2) / (0.45 * sw)) ** 2 + ((yy - sh / 2) / (0.45 * sh)) ** 2))
    return ((0.7 * dist + 0.3 * saliency) * (0.5 + 0.5 * centre)).astype(np.float32)


def _keep_main_parts(fg: np.ndarray) -> np.ndarray:
    """Drop islands smaller than 15 % of the largest part, and fill holes inside parts."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, 8)
    if n <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.isin(labels, np.flatnonzero(areas >= 0.15 * areas.max()) + 1).astype(np.uint8)
    contours, _ = cv2.findContours(keep, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(keep)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled
