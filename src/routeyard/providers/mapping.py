"""routeyard's task in one provider-neutral shape, for the adapters to map.

Each adapter reads the fields it can send and names the step parameters it
honours; ``Request.unsupported`` turns the rest into warnings on the step,
so a parameter a model cannot take is reported, never silently dropped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from math import gcd
from typing import Any

import numpy as np
from PIL import Image

from routeyard.ops import InputAsset
from routeyard.providers.base import InvalidInputError, Task

# Camera moves said in words, for models that take motion only through the prompt.
CAMERA_WORDS = {
    "dolly-in": "slow dolly-in toward the subject",
    "dolly-out": "slow dolly-out away from the subject",
    "pan-left": "smooth pan to the left",
    "pan-right": "smooth pan to the right",
    "orbit": "gentle orbit around the subject",
    "float": "subtle floating handheld drift",
    "zoom-in": "slow zoom in",
    "static": "locked-off static camera",
}
# Step parameters that describe routeyard's own encoder, not the model's render.
_LOCAL_ONLY = {"crf", "method", "radius", "iterations"}


@dataclass
class Request:
    op: str
    prompt: str | None
    negative_prompt: str | None
    seed: int
    width: int | None = None
    height: int | None = None
    aspect: str | None = None
    seconds: float | None = None
    fps: int | None = None
    camera: str | None = None
    intensity: float | None = None
    scale: int | None = None
    resolution: str | None = None  # the model's render tier, as routeyard names it
    audio: bool = False  # native audio asked (step, else the brief)
    quality: str | None = None
    images: list[InputAsset] = field(default_factory=list)
    mask_png: bytes | None = None
    set_params: dict[str, Any] = field(default_factory=dict)  # what the step named explicitly

    def unsupported(self, honoured: set[str], where: str) -> list[str]:
        """A warning per explicitly set step parameter that ``where`` cannot take."""
        out = []
        for key in sorted(self.set_params):
            if key in honoured or self.set_params[key] is None:
                continue
            note = "it only tunes routeyard's local engine" if key in _LOCAL_ONLY else "not sent"
            out.append(f"{where} does not support '{key}' ({note})")
        return out

    def duration_tier(self, offered: tuple[int, ...], where: str, warnings: list[str]) -> int:
        """The shortest offered duration that covers the asked one, saying so when it differs."""
        asked = self.seconds or offered[0]
        tier = next((d for d in offered if d >= asked - 1e-9), offered[-1])
        if abs(tier - asked) > 1e-9:
            warnings.append(f"{where} renders {tier} s for the asked {asked:g} s")
        return tier

    def camera_hint(self) -> str | None:
        return CAMERA_WORDS.get(self.camera or "") if self.camera else None

    def prompt_with_camera(self) -> str:
        """The prompt with the camera move in words, for models without a camera field."""
        base = self.prompt or ""
        hint = self.camera_hint()
        return f"{base}. Camera: {hint}." if hint and base else (hint or base)


def normalise(task: Task) -> Request:
    params = task.params.model_dump()
    brief = task.brief
    set_params = task.params.model_dump(exclude_defaults=True)
    op = task.op.name
    prompt = params.get("prompt") or (brief.prompt if brief else None)
    negative = params.get("negative_prompt") or (brief.negative_prompt if brief else None)
    width, height, aspect = params.get("width"), params.get("height"), params.get("aspect")
    video = brief.deliver.video if brief and brief.deliver else None
    image = brief.deliver.image if brief and brief.deliver else None
    if op == "generate" and not (width and height) and image and image.width and image.height:
        width, height = image.width, image.height
    if op == "animate":
        aspect = aspect or (video.aspect if video else None)
        if aspect is None and task.inputs and task.inputs[0].record.width:
            rec = task.inputs[0].record
            aspect = ratio(rec.width, rec.height)
    if aspect is None and width and height:
        aspect = ratio(width, height)
    req = Request(
        op=op,
        prompt=prompt,
        negative_prompt=negative,
        seed=task.seed,
        width=width,
        height=height,
        aspect=aspect,
        seconds=params.get("seconds"),
        fps=params.get("fps"),
        camera=params.get("camera") if "camera" in set_params or op == "animate" else None,
        intensity=params.get("intensity"),
        scale=params.get("scale"),
        resolution=params.get("resolution"),
        audio=bool(
            params.get("audio") if params.get("audio") is not None else brief and brief.audio
        ),
        quality=params.get("quality"),
        set_params=set_params,
    )
    req.images = [a for a in task.inputs if a.record.kind == "image"]
    others = [a for a in task.inputs if a.record.kind not in ("image", "mask")]
    if others:
        raise InvalidInputError(
            f"step '{task.node}': '{op}' on a hosted model takes images, "
            f"got a {others[0].record.kind} ({others[0].id[:12]})"
        )
    if task.op.edits_region:
        req.mask_png = _mask(task)
    return req


def ratio(width: int, height: int) -> str:
    g = gcd(width, height) or 1
    return f"{width // g}:{height // g}"


def nearest_aspect(aspect: str | None, offered: list[str], default: str) -> str:
    """The offered aspect closest to ``aspect`` (1080x1920 is 9:16)."""
    if not aspect:
        return default
    w, h = (float(x) for x in aspect.split(":"))
    target = w / h

    def distance(a: str) -> float:
        aw, ah = (float(x) for x in a.split(":"))
        return abs(np.log(aw / ah) - np.log(target))

    return min(offered, key=distance)


def _mask(task: Task) -> bytes:
    """The step's fill region (mask file, box or polygon) as a white-on-black PNG."""
    from routeyard.ops.inpaint import region_mask

    image = next((a for a in task.inputs if a.record.kind == "image"), None)
    if image is None or not image.record.width:
        raise InvalidInputError(f"step '{task.node}': '{task.op.name}' needs an image input")
    size = (image.record.width, image.record.height)
    mask_file = task.ctx.files.get("mask")
    region = region_mask(
        task.params,
        size,
        mask_file.path if mask_file is not None else None,
        where=f"step '{task.node}'",
    )
    dilate = getattr(task.params, "dilate", 0) or 0
    if dilate:  # grow the region as the local op does: the seam must fall outside the object
        import cv2

        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        region = cv2.dilate(region.astype(np.uint8), kernel) > 0
    buf = io.BytesIO()
    Image.fromarray((region * 255).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def png_bytes(asset: InputAsset) -> tuple[bytes, str]:
    """The asset's bytes and mime; anything but PNG/JPEG/WebP is converted to PNG."""
    data = asset.path.read_bytes()
    mime = asset.record.mime or ""
    if mime in ("image/png", "image/jpeg", "image/webp"):
        return data, mime
    buf = io.BytesIO()
    with Image.open(io.BytesIO(data)) as im:
        im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB").save(buf, "PNG")
    return buf.getvalue(), "image/png"
