"""Real images and videos for the fake providers to hand back, made with
routeyard's own local engines, so the steps and gates downstream of a fake
job work on real pixels.

- ``generate``: one of scikit-image's photographs (picked by the seed; the prompt
  shifts its framing and colour cast),
  cropped to the asked size, with any quoted text in the prompt set in a
  real font (a "Flux" image of a billboard can then pass the typography gate);
- ``edit``: an edge-preserving "painterly" filter with a warm grade;
- ``animate``: the local 2.5D parallax renderer, at a small size.
"""

from __future__ import annotations

import io
import re
import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data as samples

_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def generate(prompt: str, width: int, height: int, seed: int = 0) -> bytes:
    from routeyard.ops.animate import cover

    # a different prompt is a different picture of the same kind of scene, as
    # with a real model and a campaign's shared prompt: its own framing and cast
    photo = getattr(samples, _PHOTOS[abs(int(seed)) % len(_PHOTOS)])()[..., :3]
    h = zlib.crc32((prompt or "").encode())
    dy, dx = (h % 7) * photo.shape[0] // 40, (h // 7 % 7) * photo.shape[1] // 40
    warm = ((h >> 8) % 9 - 4) * 0.04  # -16 % … +16 % warmer
    green = ((h >> 16) % 5 - 2) * 0.04
    gains = np.array([1 + warm, 1 + green, 1 - warm], np.float32)
    cast = photo[dy:, dx:].astype(np.float32) * gains
    rgb = cover(np.clip(cast, 0, 255).astype(np.uint8), (width, height))
    quoted = re.findall(r"['\"“]([^'\"”]{2,40})['\"”]", prompt or "")
    if quoted:
        im = Image.fromarray(rgb)
        draw = ImageDraw.Draw(im)
        from matplotlib import font_manager

        font_path = font_manager.findfont("DejaVu Sans:bold")
        size = max(12, width // (len(quoted[0]) + 4))
        font = ImageFont.truetype(font_path, size)
        box = draw.textbbox((0, 0), quoted[0], font=font)
        x = (width - (box[2] - box[0])) // 2
        y = height // 10
        draw.rectangle(
            (x - 8, y - 8, x + box[2] - box[0] + 8, y + box[3] - box[1] + 16), fill="white"
        )
        draw.text((x, y), quoted[0], fill="black", font=font)
        rgb = np.asarray(im)
    return png(np.ascontiguousarray(rgb))


def edit(data: bytes, prompt: str = "") -> bytes:
    rgb = decode(data)
    smooth = cv2.edgePreservingFilter(np.ascontiguousarray(rgb), flags=1, sigma_s=30, sigma_r=0.3)
    warm = smooth.astype(np.float32) * np.array([1.06, 1.0, 0.92], np.float32)
    return png(np.clip(warm, 0, 255).astype(np.uint8))


def inpaint(data: bytes, mask: bytes) -> bytes:
    rgb = decode(data)
    with Image.open(io.BytesIO(mask)) as m:
        region = (np.asarray(m.convert("L")) > 127).astype(np.uint8)
    return png(cv2.inpaint(np.ascontiguousarray(rgb), region, 5, cv2.INPAINT_TELEA))


def upscale(data: bytes, factor: int) -> bytes:
    rgb = decode(data)
    h, w = rgb.shape[:2]
    return png(cv2.resize(rgb, (w * factor, h * factor), interpolation=cv2.INTER_LANCZOS4))


def animate(data: bytes, seconds: float, fps: int = 24, width: int = 320) -> bytes:
    from routeyard.media.matte import subject_matte
    from routeyard.media.video import Mp4Writer
    from routeyard.ops.animate import cover
    from routeyard.ops.parallax import build_layers, frames

    rgb = decode(data)
    h, w = rgb.shape[:2]
    size = (width, max(16, round(width * h / w / 2) * 2))
    still = cover(rgb, size)
    layers = build_layers(still, cover(subject_matte(rgb), size))
    count = max(2, round(seconds * fps))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        with Mp4Writer(path, size[0], size[1], fps, crf=23) as out:
            for frame in frames(layers, "dolly-in", count, 0.5):
                out.write(frame)
        return path.read_bytes()
