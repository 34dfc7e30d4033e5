"""``composite``: layers over a background, still or video.

Inputs are read in order: the **last** is the background (an image or an
MP4); every earlier input is a layer painted over it, first one lowest. A
layer's alpha is its own alpha channel, or the greyscale input right after
it (so a ``remove_background`` step, which yields a cut-out then its matte,
can be read whole). Each layer is placed with ``at`` (where its ``anchor``
point lands, in pixels or in fractions of the background), scaled by
``scale``, and its edge ``feather``-ed inwards so it sits in the scene
instead of looking cut out with scissors.

Over a video, the same layers are painted on every frame as it streams
through; the result is H.264 MP4 at the background's frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from routeyard.media.pixels import encode_png, load_input
from routeyard.media.video import Mp4Writer, is_video, read_frames, video_info
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register


class CompositeParams(OpParams):
    at: tuple[float, float] = (0.5, 0.5)
    anchor: Literal["center", "bottom", "top-left"] = "center"
    scale: float = Field(default=1.0, gt=0, le=16)
    # the layer's height as a fraction of the background's (instead of ``scale``):
    # a product placed at a size that holds whatever resolution either comes in
    height_fraction: float | None = Field(default=None, gt=0, le=1)
    feather: int = Field(default=2, ge=0, le=64)
    opacity: float = Field(default=1.0, ge=0, le=1)
    crf: int = Field(default=18, ge=0, le=51)


@dataclass(frozen=True)
class Placed:
    """A layer ready to paint: premultiplied colour and alpha, both at the background's size."""

    colour: np.ndarray  # HxWx3 float32, alpha-premultiplied
    alpha: np.ndarray  # HxWx1 float32


def feather_alpha(alpha: np.ndarray, px: int) -> np.ndarray:
    """Soften the edge inwards: erode by ``px`` then blur back out, so no halo forms outside."""
    if px <= 0:
        return alpha
    k, pad = 2 * (px // 2) + 1, 2 * px
    padded = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    inner = cv2.erode(padded, np.ones((k, k), np.uint8)) if px > 1 else padded
    soft = cv2.GaussianBlur(inner, (0, 0), px / 2)[pad:-pad, pad:-pad]
    return np.clip(soft, 0, 1) * (alpha > 0)


def place(rgb: np.ndarray, alpha: np.ndarray, size: tuple[int, int], p: CompositeParams) -> Placed:
    w, h = size
    scale = p.height_fraction * h / rgb.shape[0] if p.height_fraction else p.scale
    lw, lh = max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))
    if (lw, lh) != (rgb.shape[1], rgb.shape[0]):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        rgb, alpha = (
            cv2.resize(rgb, (lw, lh), interpolation=interp),
            cv2.resize(alpha, (lw, lh), interpolation=interp),
        )
    alpha = feather_alpha(alpha, p.feather) * p.opacity
    ax, ay = p.at
    x = ax * w if 0 <= ax <= 1 else ax
    y = ay * h if 0 <= ay <= 1 else ay
    left, top = {
        "center": (x - lw / 2, y - lh / 2),
        "bottom": (x - lw / 2, y - lh),
        "top-left": (x, y),
    }[p.anchor]
    m = np.float32([[1, 0, round(left)], [0, 1, round(top)]])
    canvas_a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    canvas_c = cv2.warpAffine(
        rgb.astype(np.float32) * alpha[..., None], m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0
    )
    return Placed(canvas_c, canvas_a[..., None])


def paint(background: np.ndarray, layers: list[Placed]) -> np.ndarray:
    out = background.astype(np.float32)
    for layer in layers:
        out = layer.colour + out * (1 - layer.alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@register
class CompositeOp(Op):
    name = "composite"
    stage = "refine"
    Params = CompositeParams
    min_inputs = 2
    max_inputs = None

    def run(
        self, ctx: OpContext, inputs: list[InputAsset], params: CompositeParams
    ) -> list[Output]:
        background = inputs[-1]
        layers = self._layers(ctx, inputs[:-1])
        if is_video(background.path):
            return [self._over_video(ctx, background, layers, params)]
        bg = load_input(ctx, background)
        size = (bg.shape[1], bg.shape[0])
        out = paint(bg, [place(rgb, a, size, params) for rgb, a in layers])
        ctx.report_progress(1.0)
        return [Output(data=encode_png(out), meta={"layers": len(layers)})]

    def _over_video(self, ctx, background: InputAsset, layers, params: CompositeParams) -> Output:
        where = f"step '{ctx.node}', background"
        w, h, fps = video_info(background.path, where=where)
        placed = [place(rgb, a, (w, h), params) for rgb, a in layers]
        path = ctx.scratch("composite.mp4")
        total = background.record.frames or 0
        with Mp4Writer(path, w // 2 * 2, h // 2 * 2, round(fps), crf=params.crf) as out:
            for i, frame in enumerate(read_frames(background.path, where=where)):
                out.write(paint(frame, placed)[: h // 2 * 2, : w // 2 * 2])
                if total and i % 8 == 0:
                    ctx.report_progress(i / total)
        return Output(
            path=path, mime_hint="video/mp4", meta={"layers": len(layers), "frames": out.frames}
        )

    @staticmethod
    def _layers(ctx: OpContext, items: list[InputAsset]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rgb, alpha in [0, 1]) per layer; a greyscale input is the matte of the layer before it."""
        layers: list[tuple[np.ndarray, np.ndarray]] = []
        for item in items:
            if is_video(item.path):
                raise OpInputError(
                    f"step '{ctx.node}': only the last input (the background) may be a video"
                )
            rgba = load_input(ctx, item, keep_alpha=True)
            grey = (
                rgba.shape[2] == 3
                and np.array_equal(rgba[..., 0], rgba[..., 1])
                and np.array_equal(rgba[..., 1], rgba[..., 2])
            )
            if grey and layers:
                rgb, _ = layers[-1]
                if rgba.shape[:2] != rgb.shape[:2]:
                    raise OpInputError(
                        f"step '{ctx.node}': matte {item.id[:12]} does not match its layer's size"
                    )
                layers[-1] = (rgb, rgba[..., 0].astype(np.float32) / 255.0)
                continue
            alpha = (
                rgba[..., 3].astype(np.float32) / 255.0
                if rgba.shape[2] == 4
                else np.ones(rgba.shape[:2], np.float32)
            )
            layers.append((np.ascontiguousarray(rgba[..., :3]), alpha))
        return layers
