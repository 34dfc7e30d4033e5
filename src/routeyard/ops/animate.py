"""``animate`` (local): a still becomes a short camera move, as H.264 MP4.

This is the offline motion engine: 2.5D parallax (see ``parallax``) with a
named camera move, rendered frame by frame straight into the encoder. The
subject matte comes from a second input (a ``remove_background`` step, or a
mask PNG) or an RGBA input's alpha; otherwise it is computed here.

Output size: ``width`` and ``height`` crop the still to that aspect around
its centre before scaling (cover), one of them keeps the still's aspect,
neither keeps its size. Dimensions are rounded down to even numbers, which
yuv420p needs.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from routeyard.media.matte import detect_faces, subject_matte
from routeyard.media.pixels import load_input
from routeyard.media.video import Mp4Writer
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.ops.parallax import build_layers, frames

Camera = Literal["dolly-in", "pan-left", "pan-right", "orbit", "float"]
_MAX_FRAME_PIXELS = 3840 * 2160


class AnimateParams(OpParams):
    camera: Camera = "dolly-in"
    seconds: float = Field(default=4.0, gt=0, le=60)
    fps: int = Field(default=24, ge=1, le=60)
    width: int | None = Field(default=None, ge=16, le=7680)
    height: int | None = Field(default=None, ge=16, le=7680)
    intensity: float = Field(default=0.5, gt=0, le=1)
    crf: int = Field(default=18, ge=0, le=51)  # x264 quality: lower is better and bigger
    prompt: str | None = None  # used by hosted models; the local engine records it only
    # Hosted models only: the render tier (720p, 1080p, 4k) and native audio
    # (default: the brief's wish, else none).
    resolution: str | None = None
    audio: bool | None = None


def frame_size(w: int, h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width and height:
        out = (width, height)
    elif width:
        out = (width, round(h * width / w))
    elif height:
        out = (round(w * height / h), height)
    else:
        out = (w, h)
    return out[0] // 2 * 2, out[1] // 2 * 2


def cover(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop ``rgb`` to the aspect of ``size``, then scale to it."""
    h, w = rgb.shape[:2]
    tw, th = size
    if (tw, th) == (w, h):
        return rgb
    scale = max(tw / w, th / h)
    cw, ch = min(w, round(tw / scale)), min(h, round(th / scale))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    crop = rgb[y0 : y0 + ch, x0 : x0 + cw]
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4
    return cv2.resize(crop, (tw, th), interpolation=interp)


def _faces(rgb: np.ndarray) -> np.ndarray | None:
    """Generous ellipses over the still's faces: they move rigidly (see build_layers)."""
    found = detect_faces(rgb)
    if not found:
        return None
    mask = np.zeros(rgb.shape[:2], np.uint8)
    for x, y, w, h in found:
        centre = (round(x + w / 2), round(y + h / 2))
        cv2.ellipse(mask, centre, (round(w * 0.75), round(h * 0.95)), 0, 0, 360, 1, -1)
    return mask.astype(np.float32)


@register
class AnimateOp(Op):
    name = "animate"
    produces = "video"
    stage = "motion"
    version = "3"  # 3: continuous nearness map, faces rigid (2: exact rebuild of the still)
    Params = AnimateParams
    max_inputs = 2  # the still, and optionally its subject matte

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: AnimateParams) -> list[Output]:
        rgba = load_input(ctx, inputs[0], keep_alpha=True)
        rgb = np.ascontiguousarray(rgba[..., :3])
        h, w = rgb.shape[:2]
        size = frame_size(w, h, params.width, params.height)
        if size[0] < 16 or size[1] < 16 or size[0] * size[1] > _MAX_FRAME_PIXELS:
            raise OpInputError(
                f"step '{ctx.node}', parameters 'width'/'height': a {size[0]}x{size[1]} frame is "
                "outside 16x16 .. 3840x2160"
            )
        alpha = self._matte(ctx, inputs, rgba, (w, h))
        if alpha is None:
            alpha = subject_matte(rgb)  # on the whole still: cropping first would cut the subject
        still, alpha = cover(rgb, size), cover(alpha, size)
        if not (alpha > 0.5).any():
            ctx.warn("no subject found: the whole still moves as one plane")
        layers = build_layers(still, alpha, keep=_faces(still))

        count = max(2, round(params.seconds * params.fps))
        path = ctx.scratch("clip.mp4")
        with Mp4Writer(path, size[0], size[1], params.fps, crf=params.crf) as out:
            for i, frame in enumerate(frames(layers, params.camera, count, params.intensity)):
                out.write(frame)
                if i % 8 == 0:
                    ctx.report_progress(i / count)
        ctx.report_progress(1.0)
        meta = {
            "camera": params.camera,
            "frames": count,
            "fps": params.fps,
            "subject_fraction": round(float((alpha > 0.5).mean()), 4),
        }
        return [Output(path=path, mime_hint="video/mp4", meta=meta)]

    @staticmethod
    def _matte(
        ctx: OpContext, inputs: list[InputAsset], rgba: np.ndarray, size
    ) -> np.ndarray | None:
        """The subject's alpha from a second input or the still's own alpha channel."""
        if len(inputs) == 2:
            mask = load_input(ctx, inputs[1], keep_alpha=True)
            if (mask.shape[1], mask.shape[0]) != size:
                raise OpInputError(
                    f"step '{ctx.node}': the matte input is {mask.shape[1]}x{mask.shape[0]} but the "
                    f"still is {size[0]}x{size[1]}"
                )
            plane = mask[..., 3] if mask.shape[2] == 4 else mask[..., 0]
            return plane.astype(np.float32) / 255.0
        if rgba.shape[2] == 4 and rgba[..., 3].min() < 255:
            return rgba[..., 3].astype(np.float32) / 255.0
        return None
