"""Read text in an image with Tesseract (a Debian package, run as a command).

Tesseract reads dark text on a light page, and generated media rarely is
one: a yellow headline with a dark stroke over a photograph defeats a grey
page and its Otsu threshold (the offline hero's "SPACE WEEK" read as
"PA GE WwW FE KK"). So each image is read as several *pages*: grey,
inverted, Otsu both ways, and one page per dominant colour (k-means in
CIELAB), where the pixels of that colour are black on white. Typeset text is
one fill colour, so one of those pages holds its glyphs clean whatever is
around them. Every reading is returned; the typography gate keeps the one
closest to the requested text, as EvalCrafter keeps the best frame.

A page is made by a :class:`Recipe`, so the page that read a video's first
frame can be made again for every later frame: the text's pixels then mean
the same thing in each, which is what the glyph-consistency measure needs.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from routeyard import config

INSTALL_HINT = "install Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng"

_MAX_SIDE = 1600  # larger pages cost seconds and read no better: text that matters is big
_COLOURS = 8  # k-means clusters: a headline's fill is one of them on busy photographs
_COLOUR_RADIUS = 28.0  # ΔE (CIE76) that still counts as the fill colour: anti-aliasing, encodes


def available() -> bool:
    return shutil.which("tesseract") is not None


@dataclass(frozen=True)
class Recipe:
    """How a page is made from an image: ``kind`` and, for a colour page, the colour."""

    kind: str  # grey | inverse | otsu | otsu_inverse | colour
    lab: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Reading:
    text: str
    recipe: Recipe
    psm: str


def _scaled(grey: np.ndarray) -> np.ndarray:
    if max(grey.shape) < 1200:
        return cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    if max(grey.shape) > _MAX_SIDE:
        f = _MAX_SIDE / max(grey.shape)
        return cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return grey


def recipes(rgb: np.ndarray) -> list[Recipe]:
    """The pages worth reading for this image: the plain four, then its colours."""
    out = [Recipe("grey"), Recipe("inverse"), Recipe("otsu"), Recipe("otsu_inverse")]
    h, w = rgb.shape[:2]
    f = 160 / max(h, w)
    small = cv2.resize(
        rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
    )
    lab = _lab(small).reshape(-1, 3)
    k = min(_COLOURS, len(np.unique(lab.round(), axis=0)))
    if k < 2:
        return out
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)  # the same pages for the same image, every time
    _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    # Text is a minority of the frame; the largest colour is the background.
    for c in np.argsort(share):
        if 0.002 <= share[c] <= 0.45:
            out.append(Recipe("colour", tuple(float(v) for v in centres[c])))
    return out


def _lab(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255
    lab[..., 1:] -= 128
    return lab


def ink(rgb: np.ndarray, recipe: Recipe) -> np.ndarray:
    """The pixels the recipe takes for text (bool), at the image's own size."""
    if recipe.kind == "colour":
        assert recipe.lab is not None
        dist = np.linalg.norm(_lab(rgb) - np.asarray(recipe.lab, np.float32), axis=2)
        mask = (dist < _COLOUR_RADIUS).astype(np.uint8)
        return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if recipe.kind in ("otsu", "otsu_inverse"):
        _, otsu = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return (otsu == 0) if recipe.kind == "otsu" else (otsu > 0)
    thr = grey.mean()
    return (grey < thr) if recipe.kind == "grey" else (grey >= thr)


def page(rgb: np.ndarray, recipe: Recipe) -> np.ndarray:
    """The grey page Tesseract reads: dark text on light, scaled to read well."""
    if recipe.kind == "grey":
        return _scaled(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if recipe.kind == "inverse":
        return _scaled(255 - cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    mask = ink(rgb, recipe)
    sheet = np.where(mask, 0, 255).astype(np.uint8)
    return _scaled(cv2.copyMakeBorder(sheet, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=255))


def _tesseract(path: Path, psm: str, timeout: float, tsv: bool = False) -> str:
    done = subprocess.run(
        ["tesseract", str(path), "-", "--psm", psm, *(["tsv"] if tsv else [])],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # One thread each: the readings run side by side instead.
        env={**config.environ(), "OMP_THREAD_LIMIT": "1"},
    )
    return done.stdout


def readings(
    rgb: np.ndarray,
    timeout: float = 30.0,
    target: str | None = None,
    order: list[Recipe] | None = None,
) -> list[Reading]:
    """Readings of the image's text, one per page and layout mode.

    Readings run in parallel, in ``order`` (by default :func:`recipes`); with
    ``target`` (normalised), the search stops at the first batch that holds
    it exactly, since no other reading can do better.
    """
    found: list[Reading] = []
    workers = max(2, os.cpu_count() or 2)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        jobs = []
        for i, recipe in enumerate(order if order is not None else recipes(rgb)):
            path = Path(tmp) / f"page{i}.png"
            cv2.imwrite(str(path), page(rgb, recipe))
            jobs += [(path, psm, recipe) for psm in ("11", "6")]
        for start in range(0, len(jobs), workers):
            batch = jobs[start : start + workers]
            texts = pool.map(lambda job: _tesseract(job[0], job[1], timeout), batch)
            found += [Reading(t, r, psm) for t, (_, psm, r) in zip(texts, batch, strict=True)]
            if target and any(target in normalise(r.text) for r in found):
                break
    return found


_PREFER = {"colour": 0, "otsu": 1, "otsu_inverse": 1, "grey": 2, "inverse": 2}


def best_ink(found: list[Reading], target: str) -> Reading:
    """The reading to take the text's pixels from: least error, then the cleanest page.

    A colour page's ink is the glyphs alone; a grey page's is half the frame.
    """
    return min(
        found,
        key=lambda r: (substring_distance(target, normalise(r.text)), _PREFER[r.recipe.kind]),
    )


def word_boxes(rgb: np.ndarray, reading: Reading, words: list[str], timeout: float = 30.0):
    """Pixel boxes (x0, y0, x1, y1) of the requested words in one reading's page.

    Tesseract's TSV output places each word it read; the boxes of those that
    match a requested word (normalised) locate the text in the frame.
    """
    sheet = page(rgb, reading.recipe)
    fy = sheet.shape[0] / rgb.shape[0]
    pad = 8 * fy if reading.recipe.kind not in ("grey", "inverse") else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        cv2.imwrite(str(path), sheet)
        tsv = _tesseract(path, reading.psm, timeout, tsv=True)
    boxes = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = normalise(row.get("text") or "")
        if text and any(w in text or (len(text) >= 3 and text in w) for w in words):
            x, y = (float(row["left"]) - pad) / fy, (float(row["top"]) - pad) / fy
            bw, bh = float(row["width"]) / fy, float(row["height"]) / fy
            boxes.append((int(x), int(y), int(x + bw + 0.999), int(y + bh + 0.999)))
    return boxes


def normalise(text: str) -> str:
    """Lower case, letters, digits and price signs only, no spaces (OCR drops and adds them)."""
    return re.sub(r"[^0-9a-z$€£%]", "", text.lower())


def substring_distance(target: str, text: str) -> int:
    """Fewest edits turning ``target`` into some substring of ``text`` (Sellers, 1980).

    The reading holds whatever else the image shows (texture read as
    letters); only the best-matching stretch of it is the rendered text.
    """
    prev = np.zeros(len(text) + 1, np.int32)  # a match may start anywhere: row 0 is free
    for i, ch in enumerate(target, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, tj in enumerate(text, 1):
            cur[j] = min(prev[j - 1] + (ch != tj), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return int(prev.min())
