"""Read typeset text back with Tesseract, the way a legibility check would.

The test knows the text colour and box, so it keys the glyphs out by colour
(dark text on white is what Tesseract reads best) before recognising them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract OCR is not installed (.ci/run installs it)"
)


def read_text(rgb: np.ndarray, box, colour: tuple[int, int, int], tolerance: float = 60) -> str:
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1].astype(np.float32)
    ink = np.linalg.norm(crop - np.array(colour, np.float32), axis=2) < tolerance
    ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    page = np.where(ink > 0, 0, 255).astype(np.uint8)
    page = cv2.copyMakeBorder(
        cv2.resize(page, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
        20,
        20,
        20,
        20,
        cv2.BORDER_CONSTANT,
        value=255,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        cv2.imwrite(str(path), page)
        result = subprocess.run(
            ["tesseract", str(path), "-", "--psm", "6"], capture_output=True, text=True, check=True
        )
    return result.stdout


def normalise(text: str) -> str:
    """Letters, digits and price punctuation, no spaces: PP-OCR/Tesseract often drop or add spaces."""
    return re.sub(r"[^A-Za-z0-9$€£%]", "", text)
