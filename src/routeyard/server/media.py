"""What the studio shows of an asset: thumbnails, video frames, gate curves, masks.

Thumbnails and gate results are computed once and kept in the store as
derived assets (content-addressed like everything else), so a gallery of
thousands opens from cached files and a variant's scores are measured once
per video, not once per page view. Frames for review are decoded on the
server so stepping is exact to the frame whatever codecs the browser has.
"""

from __future__ import annotations

import dataclasses
import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from routeyard.errors import MediaError, RouteyardError
from routeyard.media.pixels import mask_pixels
from routeyard.media.video import read_frames
from routeyard.store import AssetRecord, Store

THUMB_PX = 320
THUMB_KIND = f"thumb:{THUMB_PX}"
VIEW_GATES = ("temporal", "background")  # the curves the variants and review pages plot
MASK_MAX_BYTES = 25 * 1024 * 1024
BRIEF_MAX_BYTES = 256 * 1024
MASK_TYPES = {"image/png", "image/jpeg", "image/webp"}


def thumbnail(store: Store, asset: AssetRecord) -> str | None:
    """The id of the asset's JPEG thumbnail (a video's is its first frame), made once."""
    cached = store.catalog.derived(asset.id, THUMB_KIND)
    if cached is not None and store.blobs.has(cached):
        return cached
    if asset.kind in ("image", "mask"):
        with Image.open(store.path_of(asset.id)) as img:
            img.load()
            picture = _flatten(img)
    elif asset.kind == "video":
        picture = Image.fromarray(
            next(read_frames(store.path_of(asset.id), where=f"asset {asset.id[:12]}"))
        )
    else:
        return None
    picture.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=82)
    new = store.put_bytes(
        out.getvalue(), source=f"thumbnail of {asset.id[:12]}", meta={"thumbnail_of": asset.id}
    )
    store.catalog.set_derived(asset.id, THUMB_KIND, new)
    return new.id


def placeholder_svg(label: str) -> str:
    from html import escape

    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160">'
        '<rect width="160" height="160" fill="#0d0f11"/>'
        f'<text x="80" y="84" fill="#9aa3ad" font-size="12" font-family="sans-serif" '
        f'text-anchor="middle">{escape(label)}</text></svg>'
    )


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        base = Image.new("RGB", rgba.size, (40, 40, 40))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return img.convert("RGB")


class FrameCache:
    """Recently viewed videos, decoded once into JPEG frames (review pages step through them)."""

    def __init__(self, videos: int = 4) -> None:
        self._videos: OrderedDict[str, list[bytes]] = OrderedDict()
        self._size = videos
        self._lock = threading.Lock()

    def frame(self, store: Store, asset: AssetRecord, index: int) -> bytes:
        if asset.kind != "video":
            raise MediaError(f"asset {asset.id[:12]} is a {asset.kind}, not a video")
        with self._lock:
            frames = self._videos.get(asset.id)
            if frames is None:
                frames = [
                    _jpeg(f)
                    for f in read_frames(store.path_of(asset.id), where=f"asset {asset.id[:12]}")
                ]
                self._videos[asset.id] = frames
                while len(self._videos) > self._size:
                    self._videos.popitem(last=False)
            self._videos.move_to_end(asset.id)
        if not 0 <= index < len(frames):
            raise MediaError(
                f"frame {index} is out of range: the video has {len(frames)} frames",
                hint=f"frames are 0..{len(frames) - 1}",
            )
        return frames[index]


def _jpeg(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG", quality=88)
    return out.getvalue()


def gate_result(store: Store, asset: AssetRecord, gate: str) -> dict[str, Any]:
    """A gate's full result on an asset (score, per-frame curve), from the record.

    The run's own gate outcome is used when it measured this gate version with
    the default parameters; otherwise the studio measures once and records the
    result the same way, unattributed (no model), so the router learns nothing
    from what a viewer looked at.
    """
    from routeyard.checks import GATES
    from routeyard.pipeline import gating

    params = GATES[gate].Params()
    found = gating.memoised(store.catalog, asset.id, gate, params)
    if found is not None and (found.series is not None or asset.kind != "video"):
        return found.to_dict()
    result = GATES[gate].evaluate([store.path_of(asset.id)], params, None)
    if result.score is not None:
        store.catalog.record_gate(
            step_id=None,
            asset_id=asset.id,
            model=None,
            stage=None,
            tags=[],
            **gating.record_fields(result, params),
        )
    return result.to_dict()


def save_mask(store: Store, data: bytes, *, size: tuple[int, int], source: str) -> str:
    """Store a painted mask (white = fill) as a clean 8-bit PNG at the image's size."""
    if len(data) > MASK_MAX_BYTES:
        raise MediaError(
            f"{source}: the mask is {len(data) // 1024} KiB, over the {MASK_MAX_BYTES // 2**20} MiB limit",
            hint="send a PNG at the image's size",
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            if Image.MIME.get(img.format or "") not in MASK_TYPES:
                raise MediaError(
                    f"{source}: a mask must be PNG, JPEG or WebP, not {img.format}",
                    hint="export the mask as PNG",
                )
            img.load()
            if img.size != size:
                raise MediaError(
                    f"{source}: the mask is {img.size[0]}x{img.size[1]} but the image is "
                    f"{size[0]}x{size[1]}",
                    hint="paint the mask at the image's size",
                )
            selected = mask_pixels(img)
    except (OSError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{source}: not an image ({exc})", hint="send a PNG") from None
    if not selected.any():
        raise MediaError(f"{source}: the mask selects no pixels", hint="paint the area to fill")
    out = io.BytesIO()
    Image.fromarray(selected.astype(np.uint8) * 255, mode="L").save(out, format="PNG")
    asset = store.put_bytes(out.getvalue(), source=source, meta={"source": "studio mask editor"})
    asset = dataclasses.replace(asset, kind="mask")
    store.catalog.add_asset(asset)
    return asset.id


def current_region(store: Store, params: dict[str, Any], op_name: str, image: AssetRecord) -> bytes:
    """The region an inpaint/remove step fills now, as a PNG: the mask editor starts from it."""
    from routeyard import ops
    from routeyard.ops.base import OpInputError
    from routeyard.ops.inpaint import region_mask

    op = ops.get_op(op_name)
    if op is None or not op.edits_region:
        raise RouteyardError(
            f"step op '{op_name}' has no mask", hint="masks edit inpaint and remove_object steps"
        )
    validated = op.Params.model_validate({**params, "dilate": 0})
    mask_file = Path(validated.mask) if validated.mask else None
    try:
        region = region_mask(
            validated, (image.width or 0, image.height or 0), mask_file, where="current region"
        )
    except OpInputError:
        region = np.zeros((image.height or 1, image.width or 1), bool)
    out = io.BytesIO()
    Image.fromarray(region.astype(np.uint8) * 255, mode="L").save(out, format="PNG")
    return out.getvalue()
