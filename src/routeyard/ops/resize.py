"""``resize``: scale an image to a width and/or height (Lanczos).

Giving only one side keeps the aspect ratio, which is what an operator means
by "make it 1024 wide"; giving both stretches to exactly that size.
"""

from __future__ import annotations

import io

from PIL import Image
from pydantic import PositiveInt, model_validator

from routeyard.media import open_image
from routeyard.ops.base import InputAsset, Op, OpContext, OpParams, Output, register

_MAX_SIDE = 16384


class ResizeParams(OpParams):
    width: PositiveInt | None = None
    height: PositiveInt | None = None

    @model_validator(mode="after")
    def _one_side(self) -> ResizeParams:
        if self.width is None and self.height is None:
            raise ValueError("give width, height or both")
        for side in (self.width, self.height):
            if side is not None and side > _MAX_SIDE:
                raise ValueError(f"sides above {_MAX_SIDE} px are not supported")
        return self


def target_size(src: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    w, h = src
    if width and height:
        return width, height
    if width:
        return width, max(1, round(h * width / w))
    return max(1, round(w * height / h)), height  # type: ignore[operator]


@register
class ResizeOp(Op):
    name = "resize"
    stage = "refine"
    Params = ResizeParams

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: ResizeParams) -> list[Output]:
        src = inputs[0]
        img = open_image(src.path.read_bytes(), source=f"step '{ctx.node}' input {src.id[:12]}")
        size = target_size(img.size, params.width, params.height)
        resized = img.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        resized.save(out, format="PNG", compress_level=6)
        return [Output(data=out.getvalue())]
