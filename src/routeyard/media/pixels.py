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
from typing import Annotated

import cv2
import numpy as np
from PIL import Image
from pydantic import AfterValidator

from routeyard.errors import OpInputError
from routeyard.media import open_image


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
    return mask_pixels(img)


def mask_pixels(img: Image.Image) -> np.ndarray:
    """What a mask image selects: white where opaque (a transparent PNG's clear
    pixels are unselected whatever their colour)."""
    if img.mode in ("RGBA", "LA"):
        alpha = np.asarray(img.getchannel("A"))
        grey = np.asarray(img.convert("L"))
        return (alpha > 127) & (grey > 127) if alpha.min() < 255 else grey > 127
    return np.asarray(img.convert("L")) > 127


def _ordered(box: tuple) -> tuple:
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError("box is [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
    return box


# A rectangle parameter, [x0, y0, x1, y1] in pixels, checked for order on parsing.
PixelBox = Annotated[tuple[int, int, int, int], AfterValidator(_ordered)]
# The same in pixels or, when every value is <= 1, in fractions of the image.
FlexBox = Annotated[tuple[float, float, float, float], AfterValidator(_ordered)]


def check_box_overlaps(box: tuple, size: tuple[int, int], *, where: str) -> None:
    """Refuse a pixel box that misses the (w, h) image entirely; one that overlaps is clipped by the op."""
    w, h = size
    x0, y0, x1, y1 = box
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise OpInputError(f"{where}, parameter 'box': {list(box)} lies outside the {w}x{h} image")


def shrink(image: np.ndarray, side: int, *, short: bool = False) -> tuple[np.ndarray, float]:
    """Downscale so the long (or short) side is at most ``side``; returns the image and the scale.

    Analyses run at a bounded working size so their cost does not grow with the input.
    """
    h, w = image.shape[:2]
    scale = min(1.0, side / (min(h, w) if short else max(h, w)))
    if scale >= 1:
        return image, 1.0
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def encode_png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _open(path: Path, where: str) -> Image.Image:
    data = path.read_bytes()
    if data[4:8] == b"ftyp":
        raise OpInputError(f"{where}: got a video where an image is expected")
    return open_image(data, source=where)
