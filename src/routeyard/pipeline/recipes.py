"""Recipes: a brief alone becomes an ordinary pipeline.

A recipe is a YAML template in ``pipeline/recipes/`` (one file each; a team
adds its own in ``~/.config/routeyard/recipes/`` or ``ROUTEYARD_RECIPES``).
``expand`` fills it from the brief and returns a pipeline document, the same
``brief:`` + ``steps:`` a person would write, so the engine, the cache, the
lineage and re-runs treat it like any other; ``plan --write`` saves it as an
editable file. The brief's deliverables become the steps' parameters, so a
brief that asks for 5 s at 24 fps gets a 5 s, 24 fps render.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from routeyard import config
from routeyard.brief import Brief
from routeyard.errors import PipelineError
from routeyard.ops.reframe import ratio
from routeyard.ops.typeset import pixel_box

PACKAGED = Path(__file__).with_name("recipes")
DEFAULT_SECONDS = 4.0
DEFAULT_FPS = 24
VIDEO_SHORT_SIDE = 720
MAX_ASPECT = 3.0  # 3:1 … 1:3: banners beyond that are not a format of one picture
MAX_ASPECT_TEXT = "1:3 to 3:1"
_REF = re.compile(r"^\$\{([\w.]+)\}$")


def folders() -> list[Path]:
    """Where recipes are looked up: the user's folder first, then the package."""
    own = config.env("ROUTEYARD_RECIPES")
    user = Path(own) if own else config.catalog_overlay_path().parent / "recipes"
    return [user, PACKAGED]


def available() -> list[str]:
    names = {p.stem for folder in folders() if folder.is_dir() for p in folder.glob("*.yaml")}
    return sorted(names)


def load(name: str) -> dict[str, Any]:
    for folder in folders():
        path = folder / f"{name}.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
                raise PipelineError(f"{path}: a recipe is a mapping with a 'steps:' list")
            return data
    raise PipelineError(
        f"brief field 'recipe': unknown recipe '{name}'",
        hint=f"recipes: {', '.join(available())}",
    )


def chosen(brief: Brief) -> str:
    """The brief's ``recipe``, else ``still`` for ``motion: none``, else ``social-video``."""
    if brief.recipe:
        return brief.recipe
    return "still" if brief.motion == "none" else "social-video"


def context(brief: Brief, recipe: dict[str, Any], stem: str | None = None) -> dict[str, Any]:
    """The values a recipe's ``${…}`` names: the brief's, with the defaults filled."""
    deliver = brief.deliver
    image = deliver.image if deliver and deliver.image else None
    video = deliver.video if deliver and deliver.video else None
    source = brief.source or brief.references.get("base")
    width, height = (image.width, image.height) if image else (None, None)
    vw, vh = _video_size(video.aspect if video else None, width, height)
    intent = brief.motion if brief.motion in ("cinematic", "gentle") else "gentle"
    cameras = (recipe.get("cameras") or {}).get(intent) or ["dolly-in"]
    text = brief.text
    return {
        "source": source,
        "character": brief.references.get("character"),
        "text": text,
        # the text judged on the base only where the scene itself shows it (a sign
        # that reads "…"); a headline is typeset by routeyard over a clean plate
        "text_gate": (
            {"check": "typography", "on_fail": "reroute"}
            if text and _quotes(brief.prompt or "", text)
            else None
        ),
        "text_box": None,
        "image": {"width": width, "height": height},
        # the exact asked size, whatever the source or the model gave
        "resize": bool(width and height) or None,
        "upscale": None,
        "video": {
            "seconds": (video.seconds if video and video.seconds else DEFAULT_SECONDS),
            "fps": (video.fps if video and video.fps else DEFAULT_FPS),
            "width": vw,
            "height": vh,
        },
        "cameras": list(cameras),
        "fixes": list(brief.fixes),
        "dir": (deliver.dir if deliver and deliver.dir else "out/"),
        "name": _name(stem, video.aspect if video else None, brief.motion == "none"),
        "motion": brief.motion != "none" or None,
        "formats": _formats(brief, stem, (width, height), (vw, vh)),
    }


PRODUCT_AT = (0.5, 0.62)  # where the product sits on the base (its centre)
PRODUCT_HEIGHT = 0.42  # and its height, as fractions of the base


def _product(
    brief: Brief, ctx: dict[str, Any], source_size, base_dir: Path | None
) -> dict[str, Any] | None:
    """``references.product``: the layer to composite and the box every format keeps.

    A PNG with transparency is used as it is; anything else is cut out first.
    """
    file = brief.references.get("product")
    if not file:
        return None
    size, alpha = (1, 1), False
    if base_dir is not None:
        from PIL import Image

        try:
            with Image.open(_file(base_dir, file)) as img:
                size = img.size
                alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        except OSError:
            pass  # preflight names a missing file; the import step a bad one
    image = ctx["image"]
    bw, bh = (image["width"], image["height"]) if image["width"] else (source_size or (1, 1))
    height = PRODUCT_HEIGHT
    width = min(0.9, height * bh / bw * size[0] / size[1])
    if width == 0.9:
        height = width * bw / bh * size[1] / size[0]
    x, y = PRODUCT_AT
    box = [round(v, 4) for v in (x - width / 2, y - height / 2, x + width / 2, y + height / 2)]
    return {
        "file": file,
        "cutout": None if alpha else True,
        "layer": "product" if alpha else "cutout",
        "at": list(PRODUCT_AT),
        "height": round(height, 4),
        "box": [box],
    }


def _quotes(prompt: str, text: str) -> bool:
    """The prompt asks for ``text`` in the picture: quoted, or after "reads"/"says"."""
    low, want = prompt.lower(), text.lower()
    return any(f"{q}{want}" in low for q in ('"', "'", "“", "«")) or bool(
        re.search(rf"\b(reads|says|saying|reading|spells)\s*:?\s*{re.escape(want)}", low)
    )


def _formats(brief: Brief, stem, image, frame) -> list[dict[str, Any]]:
    """One entry per deliverable set. ``deliver.formats`` asks several (each
    reframed from the same base, named ``<brief>-<format>``); without it there
    is one, at the video's aspect, and the steps keep their plain ids."""
    deliver = brief.deliver
    video = deliver.video if deliver else None
    asked = list(deliver.formats) if deliver and deliver.formats else []
    if not asked:
        name = _name(stem, video.aspect if video else None, brief.motion == "none")
        return [{"aspect": video.aspect if video else None, "label": None, "name": name,
                 "width": frame[0], "height": frame[1], "reframe": None}]  # fmt: skip
    for i, aspect in enumerate(asked):
        if not (1 / MAX_ASPECT <= ratio(aspect) <= MAX_ASPECT):
            raise PipelineError(
                f"brief field 'deliver.formats[{i}]': {aspect} is outside the formats "
                f"routeyard can frame ({MAX_ASPECT_TEXT}); no video model makes it and a "
                "reframe of one base would keep only a sliver of it",
                hint="use a platform format such as 9:16, 4:5, 1:1 or 16:9",
            )
    if video and video.aspect and video.aspect not in asked:
        raise PipelineError(
            f"brief field 'deliver.video.aspect': {video.aspect} contradicts "
            f"deliver.formats {asked}",
            hint="list the aspect in 'formats', or drop 'video.aspect'",
        )
    if len(set(asked)) != len(asked):
        raise PipelineError(f"brief field 'deliver.formats': {asked} names a format twice")
    out = []
    for aspect in asked:
        w, h = _video_size(aspect, *image)
        label = aspect.replace(":", "x")
        name = f"{_name(stem, None, True)}-{label}" if stem else None
        # a format the base already has needs no reframe (only a resize, by the steps after)
        same = bool(image[0] and image[1] and abs(image[0] / image[1] - ratio(aspect)) < 0.01)
        out.append({"aspect": aspect, "label": label, "name": name, "width": w, "height": h,
                    "reframe": None if same else True, "resize": True if same else None})  # fmt: skip
    return out


def _name(stem: str | None, aspect: str | None, still: bool) -> str | None:
    """Deliverable file names: ``<brief>-<format>`` (``space-week-1x1.mp4``)."""
    if not stem:
        return None
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "brief"
    label = aspect.replace(":", "x") if aspect and not still else None
    return f"{clean}-{label}" if label else clean


def _video_size(aspect: str | None, width: int | None, height: int | None):
    if not aspect:
        return None, None
    aw, ah = (int(x) for x in aspect.split(":"))
    short = min(v for v in (width, height, VIDEO_SHORT_SIDE) if v) if (width or height) else 720
    short = min(short, VIDEO_SHORT_SIDE)
    if aw >= ah:
        return round(short * aw / ah) // 2 * 2, short // 2 * 2
    return short // 2 * 2, round(short * ah / aw) // 2 * 2


def expand(
    brief: Brief,
    raw_brief: dict[str, Any] | None = None,
    stem: str | None = None,
    source_size: tuple[int, int] | None = None,
    base_dir: Path | None = None,
) -> dict[str, Any]:
    """The pipeline document (``brief:`` and ``steps:``) the brief's recipe makes;
    ``stem`` (the brief file's name) names the deliverables. Fix boxes are in
    the source's pixels; when the base is resized first, they become
    fractions of it (``source_size`` known)."""
    name = chosen(brief)
    recipe = load(name)
    ctx = context(brief, recipe, stem)
    ctx["product"] = _product(brief, ctx, source_size, base_dir)
    image = ctx["image"]
    if ctx.get("resize") and source_size and source_size != (image["width"], image["height"]):
        target = (image["width"], image["height"])
        ctx["fixes"] = [_scaled(fix, source_size, target) for fix in ctx["fixes"]]
    steps: dict[str, dict[str, Any]] = {}
    sets: list[tuple[dict[str, str], dict[str, Any]]] = []
    prev = _chain(recipe["steps"], ctx, steps, None, sets, {})
    ctx.setdefault("hero", prev)
    for step in steps.values():  # names resolved late (${hero} before the mark)
        if step.get("input") is None:
            step.pop("input", None)
    if not sets:  # a recipe without a per-format block: one set from the main chain
        sets.append(({k: k for k in steps}, {"name": ctx["name"], "hero": ctx.get("hero")}))
    document = {"brief": raw_brief if raw_brief is not None else _brief_dict(brief)}
    document["steps"] = _outputs(steps, sets)
    document["recipe"] = name
    return document


def _chain(
    entries: list[dict[str, Any]],
    ctx: dict[str, Any],
    steps: dict[str, dict[str, Any]],
    prev: str | None,
    sets: list,
    ids: dict[str, str],
) -> str | None:
    """Add a recipe's entries to ``steps``; returns the last step of the chain.
    ``ids`` renames the block's own step ids (``motion`` → ``motion-9x16``)."""
    for entry in entries:
        if "mark" in entry:
            ctx[entry["mark"]] = prev
            continue
        if entry.get("each") == "fixes":
            for i, fix in enumerate(ctx["fixes"], 1):
                step_id, step = _fix(i, fix, prev)
                steps[step_id], prev = step, step_id
            continue
        if entry.get("each") == "formats":
            for fmt in ctx["formats"]:
                inner = {**ctx, "format": fmt, "name": fmt["name"]}
                suffix = f"-{fmt['label']}" if fmt.get("label") else ""
                own = {e["id"]: e["id"] + suffix for e in entry.get("steps", []) if "id" in e}
                _chain(entry.get("steps", []), inner, steps, prev, sets, own)
                sets.append((own, inner))
            continue
        if not _kept(entry, ctx):
            continue
        step = {k: v for k, v in entry.items() if k not in ("id", "when", "unless", "aside")}
        explicit = "input" in step
        # an explicit input that names ${prev} (a layer over the chain) still continues it
        continues = explicit and "${prev}" in str(step["input"])
        ctx["prev"] = prev
        step = _fill(step, ctx)
        if explicit:
            step["input"] = _renamed(step.get("input"), ids)
        if not explicit and prev is not None and step["op"] != "import":
            step = {"op": step.pop("op"), "input": prev, **step}
        step_id = ids.get(entry["id"], entry["id"])
        steps[step_id] = step
        if (not explicit or continues) and not entry.get("aside"):
            prev = step_id
    return prev


def _renamed(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [ids.get(v, v) if isinstance(v, str) else v for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


def _outputs(
    steps: dict[str, dict[str, Any]], sets: list[tuple[dict[str, str], dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """The export's inputs: per format the titled still and video where there is
    text, named ``<brief>-<format>``."""
    inputs: list[str] = []
    names: list[str] = []
    for own, ctx in sets:
        present = {k: v for k, v in own.items() if v in steps}
        still = present.get("still") or ctx.get("hero")
        video = next(
            (present[s] for s in ("titled", "final", "same", "best") if s in present), None
        )
        for item in (still, video):
            if item:
                inputs.append(item)
                names.append(ctx.get("name"))
    for step in steps.values():
        if step.get("op") == "export":
            step["input"] = inputs
            if len(sets) > 1 and all(names):
                step.pop("name", None)
                step["names"] = names
        if step.get("input") == "${hero}":
            step["input"] = sets[-1][1].get("hero")
    return steps


def _kept(entry: dict[str, Any], ctx: dict[str, Any]) -> bool:
    when, unless = entry.get("when"), entry.get("unless")
    if when and not _value(when, ctx):
        return False
    return not (unless and _value(unless, ctx))


def _value(path: str, ctx: dict[str, Any]) -> Any:
    value: Any = ctx
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _fill(value: Any, ctx: dict[str, Any]) -> Any:
    """``${name}`` replaced by its value (None drops the key); ``${hero}`` kept
    for the chain to resolve."""
    if isinstance(value, str):
        m = _REF.match(value)
        if not m:
            return value
        if m[1] in ("hero", "still_out", "video_out") and m[1] not in ctx:
            return value
        return _value(m[1], ctx)
    if isinstance(value, list):
        return [x for x in (_fill(v, ctx) for v in value) if x is not None]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            filled = _fill(v, ctx)
            if filled is not None:
                out[k] = filled
        return out
    return value


def _scaled(fix: Any, size: tuple[int, int], target: tuple[int, int]) -> Any:
    """A fix's box in the source's pixels, moved onto the resized base."""
    if not isinstance(fix, dict) or len(fix) != 1:
        return fix
    ((kind, spec),) = fix.items()
    box = spec if isinstance(spec, list) else (spec or {}).get("box")
    if not isinstance(box, list) or len(box) != 4 or all(0 <= v <= 1 for v in box):
        return fix
    sx, sy = target[0] / size[0], target[1] / size[1]
    moved = [round(v * (sx if j % 2 == 0 else sy)) for j, v in enumerate(box)]
    return {kind: moved if isinstance(spec, list) else {**spec, "box": moved}}


def _fix(i: int, fix: dict[str, Any], prev: str | None) -> tuple[str, dict[str, Any]]:
    """One of the brief's local fixes as a step: ``{remove: [x0, y0, x1, y1]}``,
    ``{remove: {mask: FILE}}``, ``{inpaint: {box: […], prompt: …}}``."""
    if not isinstance(fix, dict) or len(fix) != 1:
        raise PipelineError(
            f"brief field 'fixes[{i - 1}]': one of remove or inpaint, e.g. "
            "{remove: [274, 334, 332, 366]}"
        )
    ((kind, spec),) = fix.items()
    ops = {"remove": "remove_object", "inpaint": "inpaint"}
    if kind not in ops:
        raise PipelineError(
            f"brief field 'fixes[{i - 1}]': unknown fix '{kind}'", hint="fixes: remove, inpaint"
        )
    params = {"box": spec} if isinstance(spec, list) else dict(spec or {})
    step = {"op": ops[kind], **({"input": prev} if prev else {}), **params}
    return f"fix{i}", step


def _brief_dict(brief: Brief) -> dict[str, Any]:
    return brief.model_dump(mode="json", exclude_defaults=True)


def brief_of(data: Any, source: str) -> tuple[Brief, dict[str, Any]] | None:
    """The brief, when a document is a brief alone (``brief:`` only, or bare
    brief fields); None for a pipeline."""
    from pydantic import ValidationError

    if not isinstance(data, dict) or "steps" in data:
        return None
    raw = data["brief"] if set(data) == {"brief"} else data
    try:
        return Brief.model_validate(raw or {}), dict(raw or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "brief"
        raise PipelineError(
            f"{source}: brief field '{field}': {err['msg']}",
            hint=f"known fields: {', '.join(Brief.model_fields)}",
        ) from None


def expand_file(
    brief: Brief, raw: dict[str, Any], path: Path, *, check_files: bool = True
) -> dict[str, Any]:
    """``expand`` for a brief file: its files checked first, its name the deliverables'."""
    if not check_files:
        return expand(brief, raw, stem=path.stem)
    size = preflight(brief, path)
    return expand(brief, raw, stem=path.stem, source_size=size, base_dir=path.resolve().parent)


def preflight(brief: Brief, path: Path) -> tuple[int, int] | None:
    """What a brief names is checked before anything runs, in the brief's own
    terms: every file it names exists (relative to the brief), and every fix's
    box lies on the source image. Returns the source's size when known."""
    base = path.resolve().parent
    named = [("source", brief.source)] + [
        (f"references.{k}", v) for k, v in sorted(brief.references.items())
    ]
    for i, fix in enumerate(brief.fixes):
        for kind, spec in fix.items() if isinstance(fix, dict) else []:
            if isinstance(spec, dict) and spec.get("mask"):
                named.append((f"fixes[{i}].{kind}.mask", spec["mask"]))
    for field, value in named:
        if value and not str(value).startswith("sample:") and not _file(base, value).is_file():
            raise PipelineError(
                f"{path}: brief field '{field}': file {_file(base, value)} not found",
                hint="paths are relative to the brief file's folder",
            )
    size = _source_size(base, brief.source or brief.references.get("base"))
    if size is None:
        return None
    w, h = size
    for i, fix in enumerate(brief.fixes):
        for kind, spec in fix.items() if isinstance(fix, dict) else []:
            box = spec if isinstance(spec, list) else (spec or {}).get("box")
            if not (isinstance(box, list) and len(box) == 4 and all(
                isinstance(v, (int, float)) for v in box
            )):  # fmt: skip
                continue
            x0, y0, x1, y1 = pixel_box(tuple(box), w, h)  # clipped to the image
            if x1 <= x0 or y1 <= y0:
                raise PipelineError(
                    f"{path}: brief field 'fixes[{i}].{kind}': box {box} lies outside the "
                    f"{w}x{h} source image",
                    hint="boxes are [x0, y0, x1, y1] in the source's pixels",
                )
    return size


def _file(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _source_size(base: Path, source: str | None) -> tuple[int, int] | None:
    """The source image's size, when it can be known without running anything."""
    if not source:
        return None
    from PIL import Image

    if source.startswith("sample:"):
        from routeyard.ops.importing import SAMPLES, sample_png

        if source[7:] not in SAMPLES:
            return None  # the import step names the known samples
        import io

        return Image.open(io.BytesIO(sample_png(source[7:]))).size
    try:
        with Image.open(_file(base, source)) as img:
            return img.size
    except OSError:
        return None  # not an image: the import step says so


def document_text(document: dict[str, Any]) -> str:
    """The expansion as an editable pipeline file."""
    head = (
        f"# Expanded from a brief by routeyard's '{document.get('recipe')}' recipe. Edit freely:\n"
        "# this file is an ordinary pipeline (`routeyard run` it as it stands).\n"
    )
    body = {k: document[k] for k in ("brief", "steps")}
    return head + yaml.dump(body, Dumper=_Plain, sort_keys=False, allow_unicode=True, width=100)


class _Plain(yaml.SafeDumper):
    """No ``&id001`` anchors: a shared value is written out again, as a person would."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
