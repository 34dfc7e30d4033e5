"""Read text in an image with Tesseract (a Debian package, run as a command).

Tesseract reads dark text on a light page best, so each image is read a
few ways (grey, inverted, Otsu-binarised both ways, enlarged when small) and
every reading is returned; the typography gate keeps the one closest to
the requested text, as EvalCrafter keeps the best frame.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from routeyard import config

INSTALL_HINT = "install Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng"


def available() -> bool:
    return shutil.which("tesseract") is not None


_MAX_SIDE = 1600  # larger pages cost seconds and read no better: text that matters is big


def _pages(rgb: np.ndarray) -> list[np.ndarray]:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if max(grey.shape) < 1200:
        grey = cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    elif max(grey.shape) > _MAX_SIDE:
        f = _MAX_SIDE / max(grey.shape)
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    _, otsu = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return [grey, 255 - grey, otsu, 255 - otsu]


def _tesseract(path: Path, psm: str, timeout: float) -> str:
    done = subprocess.run(
        ["tesseract", str(path), "-", "--psm", psm],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # One thread each: the readings run side by side instead.
        env={**config.environ(), "OMP_THREAD_LIMIT": "1"},
    )
    return done.stdout


def read(rgb: np.ndarray, timeout: float = 30.0, target: str | None = None) -> list[str]:
    """Readings of the image's text (one per page variant and layout mode).

    Readings run in parallel, the plain grey page first; with ``target``
    (normalised), the search stops at the first batch that contains it
    exactly, since no other reading can do better.
    """
    readings: list[str] = []
    workers = max(2, os.cpu_count() or 2)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        jobs = []
        for i, page in enumerate(_pages(rgb)):
            path = Path(tmp) / f"page{i}.png"
            cv2.imwrite(str(path), page)
            jobs += [(path, psm) for psm in ("11", "6")]
        for start in range(0, len(jobs), workers):
            batch = jobs[start : start + workers]
            readings += pool.map(lambda job: _tesseract(*job, timeout), batch)
            if target and any(target in normalise(r) for r in readings):
                break
    return readings


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
