"""Request bodies built from a catalog entry's request schema (data, not code).

A host entry in ``models.yaml`` may carry ``request: {fields: …}``: which of
the endpoint's fields carries the prompt, the input image(s), the size, the
duration, the audio switch and so on. Most of 2026's endpoints on fal and
Replicate differ only in those names, so one builder serves them all and a
new model is a catalog edit; a shape that truly differs (BFL's numbered
``input_image_N``, Gemini's parts, ModelArk's content list) stays in its
adapter's code.
"""

from __future__ import annotations

from typing import Any

from routeyard import billing
from routeyard.catalog import Model
from routeyard.catalog import Request as Schema
from routeyard.providers.base import InvalidInputError
from routeyard.providers.mapping import Request, nearest_aspect

COMMON_ASPECTS = ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"]
DEFAULT_LONG_SIDE = 1024


def build(
    schema: Schema,
    req: Request,
    model: Model,
    *,
    images: list[str],
    mask: str | None,
    where: str,
    notes: list[str],
    node: str,
) -> tuple[dict[str, Any], set[str]]:
    """The endpoint's body for ``req``, and the step parameters it honours."""
    f = schema.fields
    video = req.op == "animate"
    body: dict[str, Any] = dict(schema.defaults)
    honoured: set[str] = set()
    if "prompt" in f:
        body[f["prompt"]] = req.prompt_with_camera() if video else (req.prompt or "")
        honoured |= {"prompt", "camera"} if video else {"prompt"}
    if "negative_prompt" in f and req.negative_prompt:
        body[f["negative_prompt"]] = req.negative_prompt
        honoured.add("negative_prompt")
    if "seed" in f:
        body[f["seed"]] = req.seed
    _images(schema, req, model, images, body, node)
    if "mask" in f and mask:
        body[f["mask"]] = mask
        honoured |= {"mask", "box", "polygon", "dilate"}
    if "size" in f and not video:
        honoured |= _size(f["size"], req, model, body, notes, where)
    if "aspect" in f and req.aspect:
        offered = model.limits.aspects if model.limits.aspects != "any" else COMMON_ASPECTS
        body[f["aspect"]] = nearest_aspect(req.aspect, list(offered), offered[0])
        honoured.add("aspect")
    if "resolution" in f:
        tier = _tier(req, model)
        if tier:
            body[f["resolution"]] = schema.values.get("resolution", {}).get(tier, tier)
            honoured.add("resolution")
    if "duration" in f and video:
        offered = tuple(int(d) for d in model.limits.durations) or (5,)
        seconds = req.duration_tier(offered, where, notes)
        body[f["duration"]] = _duration(seconds, schema.duration_format)
        honoured.add("seconds")
    if "audio" in f:
        body[f["audio"]] = req.audio
        honoured.add("audio")
    if "quality" in f and req.quality:
        body[f["quality"]] = req.quality
        honoured.add("quality")
    elif req.quality and "quality" in schema.defaults:
        body["quality"] = req.quality
        honoured.add("quality")
    return body, honoured


def _images(
    schema: Schema, req: Request, model: Model, images: list[str], body: dict, node: str
) -> None:
    f = schema.fields
    if "image" in f:
        if not images:
            raise InvalidInputError(f"step '{node}': {model.id} needs an input image")
        body[f["image"]] = images[0]
    elif "images" in f and images:
        most = model.limits.max_reference_images
        if most is not None and len(images) > most:
            raise InvalidInputError(
                f"step '{node}': {model.id} takes at most {most} reference images, "
                f"got {len(images)}"
            )
        body[f["images"]] = images
    elif req.op in ("edit", "inpaint") and not images:
        raise InvalidInputError(f"step '{node}': {model.id} needs an input image")


def _size(
    field: str, req: Request, model: Model, body: dict, notes: list[str], where: str
) -> set[str]:
    w, h = req.width, req.height
    if not (w and h):
        if not req.aspect:
            return set()
        aw, ah = (int(x) for x in req.aspect.split(":"))
        long = DEFAULT_LONG_SIDE
        w, h = (long, round(long * ah / aw)) if aw >= ah else (round(long * aw / ah), long)
    step = model.limits.side_multiple or 1
    sw, sh = max(step, round(w / step) * step), max(step, round(h / step) * step)
    if (sw, sh) != (w, h) and req.width:
        notes.append(f"{where} renders {sw}x{sh} for the asked {w}x{h}")
    if field == "width_height":
        body.update(width=sw, height=sh)
    else:
        body[field] = {"width": sw, "height": sh}
    return {"width", "height", "aspect"}


def _tier(req: Request, model: Model) -> str:
    """The render tier to ask: the step's, else the one the size needs
    (images), else the model's first (video): the tier billing prices."""
    offered = model.limits.resolutions
    if req.resolution:
        return req.resolution
    if req.op != "animate" and offered:
        return billing.image_tier(req.width, req.height, offered) or offered[0]
    return billing.default_resolution(offered)


def _duration(seconds: float, fmt: str) -> Any:
    n = int(seconds) if float(seconds).is_integer() else seconds
    if fmt == "int":
        return n
    return f"{n}s" if fmt == "{n}s" else str(n)
