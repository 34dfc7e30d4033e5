"""``denoise`` and ``upscale``: technical polish before delivery.

``denoise`` is OpenCV's non-local means. Its filter strength is set from the
image's own noise level (Immerkær's fast estimate), scaled by ``strength``,
so the default removes the noise that is there instead of a fixed amount
that either leaves grain or smears a clean image.

``upscale`` is Lanczos interpolation refined by iterative back-projection:
the enlarged image is corrected until, shrunk back, it reproduces the input.
That restores detail plain interpolation loses (it beats bicubic on PSNR and
SSIM) without a network, and it never invents content.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from routeyard.config import MAX_IMAGE_PIXELS
from routeyard.media.pixels import encode_png, load_input
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def noise_sigma(rgb: np.ndarray) -> float:
    """Standard deviation of additive noise (Immerkær 1996), in 0..255 units.

    Estimated per colour channel and averaged: a grey conversion would average
    independent channel noise away and under-report it by about a third.
    """
    h, w = rgb.shape[:2]
    sigmas = []
    for c in range(rgb.shape[2]):
        channel = rgb[..., c].astype(np.float64)
        response = np.abs(cv2.filter2D(channel, -1, _IMMERKAER))[1:-1, 1:-1].sum()
        sigmas.append(np.sqrt(np.pi / 2) * response / (6.0 * (w - 2) * (h - 2)))
    return float(np.mean(sigmas))


class DenoiseParams(OpParams):
    strength: float = Field(default=1.0, gt=0, le=4)
    sigma: float | None = Field(default=None, gt=0, le=100)  # skip the estimate


@register
class DenoiseOp(Op):
    name = "denoise"
    stage = "refine"
    Params = DenoiseParams

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: DenoiseParams) -> list[Output]:
        rgb = load_input(ctx, inputs[0])
        sigma = params.sigma if params.sigma is not None else noise_sigma(rgb)
        h = max(1.0, sigma * params.strength)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21)
        return [
            Output(
                data=encode_png(cv2.cvtColor(out, cv2.COLOR_BGR2RGB)),
                meta={"noise_sigma": round(sigma, 3), "h": round(h, 3)},
            )
        ]


class UpscaleParams(OpParams):
    scale: Literal[2, 3, 4] = 2
    iterations: int = Field(default=6, ge=0, le=20)


def upscale(rgb: np.ndarray, scale: int, iterations: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    big = (w * scale, h * scale)
    low = rgb.astype(np.float32)
    hr = cv2.resize(low, big, interpolation=cv2.INTER_LANCZOS4)
    for _ in range(iterations):
        error = low - cv2.resize(hr, (w, h), interpolation=cv2.INTER_AREA)
        hr += cv2.resize(error, big, interpolation=cv2.INTER_CUBIC)
    return np.clip(hr + 0.5, 0, 255).astype(np.uint8)


@register
class UpscaleOp(Op):
    name = "upscale"
    produces = "image"
    stage = "refine"
    Params = UpscaleParams

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: UpscaleParams) -> list[Output]:
        rgb = load_input(ctx, inputs[0])
        h, w = rgb.shape[:2]
        if w * h * params.scale**2 > MAX_IMAGE_PIXELS:
            raise OpInputError(
                f"step '{ctx.node}', parameter 'scale': {w}x{h} ×{params.scale} would be "
                f"{w * params.scale}x{h * params.scale}, above the {MAX_IMAGE_PIXELS / 1e6:.0f} MP limit"
            )
        return [Output(data=encode_png(upscale(rgb, params.scale, params.iterations)))]
