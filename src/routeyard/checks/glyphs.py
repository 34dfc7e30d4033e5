"""Glyph consistency: does the text keep its shape from frame to frame?

OCR fails late: a headline torn by a parallax move (the W sliding over the
E) still reads until the letters overlap. The shape of the text's pixels
changes first. Each letter of the reference frame (a connected component of
the text's ink, inside the located words) is carried to a later frame by
the one affine transform that best explains the whole text (ECC alignment,
started from the words' boxes), and compared there with the ink the frame
actually has: intersection over union per letter. Text that moves, zooms or
shears as one keeps every letter near 1; a tear, a melt or a letter that
morphs drops that letter's overlap however well the rest aligns. The clip's
measure for a frame is its worst letter.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Letters:
    """The reference frame's letters: their masks in the region's coordinates."""

    region: Box  # where the text is, in frame pixels
    ink: np.ndarray  # the region's ink (bool)
    labels: np.ndarray  # component label per pixel of the region (0: none)
    ids: list[int]  # the components that are letters


def union(boxes: list[Box], shape: tuple[int, int], pad: float = 0.25) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[2] for b in boxes)
    y1 = max(b[3] for b in boxes)
    m = round((y1 - y0) * pad)
    h, w = shape
    return max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)


def letters(ink: np.ndarray, region: Box) -> Letters | None:
    x0, y0, x1, y1 = region
    crop = ink[y0:y1, x0:x1]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(crop.astype(np.uint8), connectivity=8)
    if n < 2:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.median(areas[areas >= max(4, areas.max() * 0.05)])
    ids = [i + 1 for i, a in enumerate(areas) if a >= 0.15 * big]
    return Letters(region, crop, labels, ids) if ids else None


def consistency(
    ref: Letters,
    ink: np.ndarray,
    guess: np.ndarray | None = None,
    baseline: list[float] | None = None,
) -> float:
    """The worst letter's overlap in ``ink`` (a later frame's text pixels), in [0, 1].

    With ``baseline`` (:func:`overlaps` of the reference frame itself), each
    letter is judged against its own overlap there: ink near a letter that
    is not a letter (a stroke's speck, an outline) costs nothing it did not
    cost in the reference.
    """
    got = overlaps(ref, ink, guess)
    if baseline is None:
        return min(got)
    return min(min(1.0, g / b) if b > 0 else 1.0 for g, b in zip(got, baseline, strict=True))


def overlaps(ref: Letters, ink: np.ndarray, guess: np.ndarray | None = None) -> list[float]:
    """Each reference letter's intersection over union with ``ink`` after alignment.

    ``guess`` is a 2x3 affine from region to frame coordinates (e.g. from
    the words' boxes); without it, the text is assumed where it was.
    """
    x0, y0, x1, y1 = ref.region
    h, w = ink.shape
    rh, rw = y1 - y0, x1 - x0
    warp = (
        guess.astype(np.float32)
        if guess is not None
        else np.array([[1, 0, x0], [0, 1, y0]], np.float32)
    )
    # Search the frame around where the guess puts the region.
    corners = np.array([[0, 0, 1], [rw, 0, 1], [0, rh, 1], [rw, rh, 1]], np.float32) @ warp.T
    m = max(rh, rw // 8)
    sx0 = int(max(0, corners[:, 0].min() - m))
    sy0 = int(max(0, corners[:, 1].min() - m))
    sx1 = int(min(w, corners[:, 0].max() + m))
    sy1 = int(min(h, corners[:, 1].max() + m))
    if sx1 - sx0 < 4 or sy1 - sy0 < 4:
        return [0.0] * len(ref.ids)
    search = ink[sy0:sy1, sx0:sx1]
    local = warp.copy()
    local[:, 2] -= (sx0, sy0)
    size = (sx1 - sx0, sy1 - sy0)
    sigma = max(1.0, rh / 40)
    tmpl = cv2.GaussianBlur(ref.ink.astype(np.float32), (0, 0), sigma)
    dest = cv2.GaussianBlur(search.astype(np.float32), (0, 0), sigma)
    # ECC maps template coordinates to the search image: warp the template by it.
    try:
        _, local = cv2.findTransformECC(
            tmpl,
            dest,
            local.astype(np.float32),
            cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5),
            None,
            5,
        )
        local = local[:2]
    except cv2.error:
        pass  # no convergence: the guess stands, and the overlaps say how wrong it is
    moved_all = {
        i: cv2.warpAffine(
            (ref.labels == i).astype(np.uint8), local, size, flags=cv2.INTER_NEAREST, borderValue=0
        ).astype(bool)
        for i in ref.ids
    }
    every = np.zeros(search.shape, bool)
    for m in moved_all.values():
        every |= m
    grow = np.ones((3, 3), np.uint8)
    reach = max(1, round(rh * 0.04))
    got = []
    for i in ref.ids:
        moved = moved_all[i]
        area = (ref.labels == i).sum() * float(abs(np.linalg.det(local[:, :2])))
        if moved.sum() < 0.5 * area or not moved.any():
            got.append(0.0)  # the letter left the frame or collapsed
            continue
        # The frame's ink near this letter, less what belongs to its neighbours.
        near = cv2.dilate(moved.astype(np.uint8), grow, iterations=reach).astype(bool)
        theirs = search & near & ~(every & ~moved)
        # Agreement within a pixel or two (anti-aliased edges over a moving
        # background flip from frame to frame; a tear moves whole strokes).
        slack = max(1, round(rh * 0.02))
        inter = float(
            (moved & cv2.dilate(theirs.astype(np.uint8), grow, iterations=slack) > 0).sum()
        )
        extra = float(
            (theirs & ~(cv2.dilate(moved.astype(np.uint8), grow, iterations=slack) > 0)).sum()
        )
        uni = float(moved.sum() + extra)
        got.append(inter / uni if uni else 0.0)
    return got


def region_warp(region: Box, ref_words: Box, now_words: Box) -> np.ndarray:
    """Region coordinates to frame coordinates, from where the words were and are now."""
    s = (
        (now_words[3] - now_words[1]) / max(1, ref_words[3] - ref_words[1])
        + (now_words[2] - now_words[0]) / max(1, ref_words[2] - ref_words[0])
    ) / 2
    tx = now_words[0] + s * (region[0] - ref_words[0])
    ty = now_words[1] + s * (region[1] - ref_words[1])
    return np.array([[s, 0, tx], [0, s, ty]], np.float32)
