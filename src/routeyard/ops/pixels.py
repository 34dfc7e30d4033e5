"""Decode op inputs to 8-bit RGB(A) arrays, and encode results as PNG.

Every local op reads pixels through ``load_rgb`` so that unusual inputs are
handled once, the same way: CMYK and paletted images are converted to RGB(A),
16-bit and float images are scaled to 8-bit, greyscale is expanded to RGB.
Videos and animated images are refused with the step and parameter named,
because silently taking one frame would be a silently wrong output.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from routeyard.media import open_image
from routeyard.ops.base import OpInputError


def load_rgb(path: Path, *, where: str, keep_alpha: bool = False) -> np.ndarray:
    """An HxWx3 (or HxWx4 with ``keep_alpha``) uint8 array; ``where`` names the step/parameter."""
    img = _open(path, where)
    if getattr(img, "n_frames", 1) > 1:
        raise OpInputError(
            f"{where}: animated image with {img.n_frames} frames; give a still image"
        )
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    mode = "RGBA" if keep_alpha and has_alpha else "RGB"
    return np.asarray(img.convert(mode))


def load_input(ctx, item, *, keep_alpha: bool = False) -> np.ndarray:
    """``load_rgb`` for one of a step's inputs, labelled with the step and asset in errors."""
    return load_rgb(
        item.path, where=f"step '{ctx.node}', input {item.id[:12]}", keep_alpha=keep_alpha
    )


def load_mask(path: Path, *, where: str, size: tuple[int, int]) -> np.ndarray:
    """A boolean HxW mask (white = selected), checked against the image's size (w, h)."""
    img = _open(path, where)
    if img.size != size:
        raise OpInputError(
            f"{where}: mask is {img.size[0]}x{img.size[1]} but the image is {size[0]}x{size[1]}; "
            "paint the mask at the image's size"
        )
    if img.mode in ("RGBA", "LA"):
        alpha = np.asarray(img.getchannel("A"))
        grey = np.asarray(img.convert("L"))
        return (alpha > 127) & (grey > 127) if alpha.min() < 255 else grey > 127
    return np.asarray(img.convert("L")) > 127


def encode_png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _open(path: Path, where: str) -> Image.Image:
    data = path.read_bytes()
    if data[4:8] == b"ftyp":
        raise OpInputError(f"{where}: got a video where an image is expected")
    return open_image(data, source=where)
