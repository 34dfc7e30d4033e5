"""``remove_background``: the RGBA cut-out and its matte, from ``media.matte``."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from routeyard.errors import OpInputError
from routeyard.media.matte import subject_matte
from routeyard.media.pixels import PixelBox, check_box_overlaps, encode_png, load_input
from routeyard.ops.base import InputAsset, Op, OpContext, OpParams, Output, register


class RemoveBackgroundParams(OpParams):
    box: PixelBox | None = None  # the subject lies inside [x0, y0, x1, y1]
    feather: int = Field(default=4, ge=0, le=64)  # edge softness in pixels (guided filter radius)
    iterations: int = Field(default=5, ge=1, le=20)
    faces: bool = True  # use detected faces as a person prior


@register
class RemoveBackgroundOp(Op):
    """Two outputs: the RGBA cut-out, then the matte as a greyscale PNG."""

    name = "remove_background"
    stage = "refine"
    Params = RemoveBackgroundParams

    def run(
        self, ctx: OpContext, inputs: list[InputAsset], params: RemoveBackgroundParams
    ) -> list[Output]:
        rgb = load_input(ctx, inputs[0])
        if params.box is not None:
            size = (rgb.shape[1], rgb.shape[0])
            check_box_overlaps(params.box, size, where=f"step '{ctx.node}'")
        alpha = subject_matte(
            rgb,
            box=params.box,
            feather=params.feather,
            iterations=params.iterations,
            use_faces=params.faces,
        )
        coverage = float((alpha > 0.5).mean())
        if coverage == 0.0:
            raise OpInputError(
                f"step '{ctx.node}': no subject stands out from the background; "
                "give a 'box' around the subject"
            )
        a8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        ctx.report_progress(1.0)
        meta = {"subject_fraction": round(coverage, 4)}
        return [
            Output(data=encode_png(np.dstack([rgb, a8])), meta={**meta, "role": "cutout"}),
            Output(data=encode_png(a8), meta={**meta, "role": "mask"}),
        ]
