"""``import``: bring a file or a bundled sample photograph into the store.

Samples are scikit-image's photographs that ship inside its wheel
(``sample:astronaut``, ``coffee``, ``chelsea``, ``rocket``…), so the offline
journey needs no download and no committed third-party image.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register

SAMPLE_PREFIX = "sample:"
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "cat", "horse", "page")


class ImportParams(OpParams):
    source: str


def sample_png(name: str) -> bytes:
    """A bundled sample as PNG bytes (deterministic for a given Pillow/scikit-image)."""
    from skimage import data as skdata

    if name not in SAMPLES:
        raise OpInputError(f"unknown sample '{name}' (known: {', '.join(SAMPLES)})")
    array = getattr(skdata, name)()
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=6)
    return out.getvalue()


@register
class ImportOp(Op):
    name = "import"
    stage = "base"
    Params = ImportParams
    min_inputs = 0
    max_inputs = 0
    file_params = ("source",)

    def file_paths(self, params: ImportParams, base_dir: Path) -> dict[str, Path]:
        if params.source.startswith(SAMPLE_PREFIX):
            return {}
        return super().file_paths(params, base_dir)

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: ImportParams) -> list[Output]:
        if params.source.startswith(SAMPLE_PREFIX):
            name = params.source[len(SAMPLE_PREFIX) :]
            return [Output(data=sample_png(name), meta={"source": params.source})]
        source = ctx.files["source"]
        return [Output(existing=source.id, meta={"source": params.source})]
