"""``color_match``: one colour profile across a series of images.

The reference is the step's first input, or a ``reference:`` file; every
other input is matched to it by transferring the per-channel mean and
standard deviation in CIE Lab (Reinhard et al. 2001). Lab separates
lightness from colour, so a cast is removed without flattening contrast.
``strength`` blends between the original (0) and the full match (1).
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from routeyard.media.pixels import encode_png, load_input, load_rgb
from routeyard.ops.base import InputAsset, Op, OpContext, OpParams, Output, register


class ColorMatchParams(OpParams):
    reference: str | None = None
    strength: float = Field(default=1.0, ge=0, le=1)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _stats(lab: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pixels = lab[mask] if mask is not None else lab.reshape(-1, 3)
    return pixels.mean(axis=0), pixels.std(axis=0)


def lab_stats(rgb: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel Lab mean and standard deviation, over ``mask`` if given."""
    return _stats(_lab(rgb), mask)


def match(
    rgb: np.ndarray,
    ref_mean: np.ndarray,
    ref_std: np.ndarray,
    strength: float,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Transfer the reference statistics onto ``rgb``, measuring its own over ``mask`` if given."""
    lab = _lab(rgb)
    mean, std = _stats(lab, mask)
    matched = (lab - mean) * (ref_std / np.maximum(std, 1e-6)) + ref_mean
    blended = lab + strength * (matched - lab)
    blended[..., 0] = np.clip(blended[..., 0], 0, 100)
    out = cv2.cvtColor(blended.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


@register
class ColorMatchOp(Op):
    name = "color_match"
    stage = "refine"
    Params = ColorMatchParams
    max_inputs = None
    aggregates = True  # a series is matched as a whole, against one reference
    file_params = ("reference",)

    def run(
        self, ctx: OpContext, inputs: list[InputAsset], params: ColorMatchParams
    ) -> list[Output]:
        where = f"step '{ctx.node}'"
        if "reference" in ctx.files:
            ref = load_rgb(ctx.files["reference"].path, where=f"{where}, parameter 'reference'")
            series = inputs
        else:
            ref = load_input(ctx, inputs[0])
            series = inputs[1:]
            if not series:
                ctx.warn("only a reference was given: nothing to match")
        ref_mean, ref_std = lab_stats(ref)
        outputs = []
        for i, item in enumerate(series):
            rgb = load_input(ctx, item)
            outputs.append(Output(data=encode_png(match(rgb, ref_mean, ref_std, params.strength))))
            ctx.report_progress((i + 1) / len(series))
        return outputs
