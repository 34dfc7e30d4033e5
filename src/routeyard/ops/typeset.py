"""``typeset``: exact text (headline, price, call to action) with a real font.

Diffusion models misspell; an operator sets the words afterwards. The text
goes into a box: words wrap to its width and, with ``size: auto``, the
largest size that fits is found by bisection. For legibility over a busy
photo the glyphs get an outline (``stroke``, a fraction of the size) and a
soft drop shadow, both in a colour that contrasts with the text colour
unless one is given. Text that cannot fit even at ``min_size`` is an error,
never silently cropped or shrunk to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont
from pydantic import Field, field_validator

from routeyard.media.pixels import FlexBox, encode_png, load_input
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.ops.fonts import DEFAULT_FONT, available, find_font


class TypesetParams(OpParams):
    text: str = Field(min_length=1)
    # [x0, y0, x1, y1] in pixels, or in fractions of the image when all are <= 1.
    box: FlexBox = (0.06, 0.70, 0.94, 0.94)
    align: Literal["left", "center", "right"] = "center"
    valign: Literal["top", "middle", "bottom"] = "middle"
    font: str = DEFAULT_FONT
    font_file: str | None = None
    size: int | Literal["auto"] = "auto"
    min_size: int = Field(default=10, ge=4, le=400)
    max_size: int = Field(default=400, ge=4, le=2000)
    color: str = "#FFFFFF"
    stroke: float = Field(default=0.06, ge=0, le=0.3)  # outline width as a fraction of the size
    stroke_color: str | None = None
    shadow: bool = True
    line_spacing: float = Field(default=1.15, ge=0.8, le=3)
    # layer: the text alone on a transparent canvas (the input's size, or
    # width x height), to composite over a video after motion, as a rigid
    # layer no parallax can warp.
    layer: bool = False
    width: int | None = Field(default=None, ge=16, le=7680)
    height: int | None = Field(default=None, ge=16, le=7680)

    @field_validator("color", "stroke_color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ImageColor.getrgb(value)
            except ValueError:
                raise ValueError(
                    f"'{value}' is not a colour; use '#RRGGBB' or a CSS name"
                ) from None
        return value


@dataclass(frozen=True)
class Layout:
    size: int
    lines: list[str]
    line_height: int
    stroke: int
    width: int
    height: int


def pixel_box(box: tuple[float, float, float, float], w: int, h: int) -> tuple[int, int, int, int]:
    if all(0 <= v <= 1 for v in box):
        box = (box[0] * w, box[1] * h, box[2] * w, box[3] * h)
    x0, y0, x1, y1 = (round(v) for v in box)
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float, stroke: int) -> list[str] | None:
    """Greedy word wrap to ``width``; ``None`` if a single word is wider."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}" if line else word
            if font.getlength(trial) + 2 * stroke <= width:
                line = trial
            elif not line or font.getlength(word) + 2 * stroke > width:
                return None
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def layout(
    text: str, font_path: str, size: int, box_w: int, box_h: int, p: TypesetParams
) -> Layout | None:
    font = ImageFont.truetype(font_path, size)
    stroke = round(size * p.stroke)
    lines = wrap(text, font, box_w, stroke)
    if lines is None:
        return None
    ascent, descent = font.getmetrics()
    line_height = round((ascent + descent) * p.line_spacing)
    height = line_height * (len(lines) - 1) + ascent + descent + 2 * stroke
    width = max(round(font.getlength(line)) for line in lines) + 2 * stroke
    if height > box_h or width > box_w:
        return None
    return Layout(size, lines, line_height, stroke, width, height)


def fit(text: str, font_path: str, box_w: int, box_h: int, p: TypesetParams) -> Layout | None:
    """The largest size in [min_size, max_size] whose layout fits (bisection)."""
    if p.size != "auto":
        return layout(text, font_path, p.size, box_w, box_h, p)
    lo, hi, best = p.min_size, min(p.max_size, max(p.min_size, box_h)), None
    while lo <= hi:
        mid = (lo + hi) // 2
        found = layout(text, font_path, mid, box_w, box_h, p)
        if found:
            best, lo = found, mid + 1
        else:
            hi = mid - 1
    return best


def contrasting(rgb: tuple[int, ...]) -> tuple[int, int, int]:
    luminance = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255
    return (0, 0, 0) if luminance > 0.5 else (255, 255, 255)


def draw(
    image: Image.Image,
    box: tuple[int, int, int, int],
    lay: Layout,
    font_path: str,
    p: TypesetParams,
) -> Image.Image:
    font = ImageFont.truetype(font_path, lay.size)
    colour = ImageColor.getrgb(p.color)[:3]
    edge = ImageColor.getrgb(p.stroke_color)[:3] if p.stroke_color else contrasting(colour)
    x0, y0, x1, y1 = box
    top = {"top": y0, "middle": y0 + (y1 - y0 - lay.height) // 2, "bottom": y1 - lay.height}[
        p.valign
    ]
    positions = []
    for i, line in enumerate(lay.lines):
        w = round(font.getlength(line)) + 2 * lay.stroke
        left = {"left": x0, "center": x0 + (x1 - x0 - w) // 2, "right": x1 - w}[p.align]
        positions.append((left + lay.stroke, top + lay.stroke + i * lay.line_height, line))

    base = image.convert("RGBA")
    if p.shadow:
        shadow = Image.new("RGBA", base.size, (0, 0, 0, 0))
        sd = ImageDraw.Draw(shadow)
        offset = max(1, round(lay.size * 0.05))
        for x, y, line in positions:
            sd.text(
                (x + offset, y + offset),
                line,
                font=font,
                fill=(*edge, 150),
                stroke_width=lay.stroke,
                stroke_fill=(*edge, 150),
            )
        base = Image.alpha_composite(
            base, shadow.filter(ImageFilter.GaussianBlur(max(1, lay.size * 0.06)))
        )
    d = ImageDraw.Draw(base)
    for x, y, line in positions:
        d.text(
            (x, y),
            line,
            font=font,
            fill=(*colour, 255),
            stroke_width=lay.stroke,
            stroke_fill=(*edge, 255),
        )
    return base


@register
class TypesetOp(Op):
    name = "typeset"
    stage = "refine"
    Params = TypesetParams
    file_params = ("font_file",)

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: TypesetParams) -> list[Output]:
        where = f"step '{ctx.node}'"
        rgba = load_input(ctx, inputs[0], keep_alpha=True)
        if params.layer:
            h, w = rgba.shape[:2]
            w, h = params.width or w, params.height or h
            rgba = np.zeros((h, w, 4), np.uint8)
        h, w = rgba.shape[:2]
        font_path = self._font(ctx, params, where)
        box = pixel_box(params.box, w, h)
        bw, bh = box[2] - box[0], box[3] - box[1]
        if bw < 4 or bh < 4:
            raise OpInputError(
                f"{where}, parameter 'box': {list(params.box)} leaves no room on the {w}x{h} image"
            )
        lay = fit(params.text, font_path, bw, bh, params)
        if lay is None:
            at = (
                f"{params.size} px"
                if params.size != "auto"
                else f"{params.min_size} px ('min_size')"
            )
            raise OpInputError(
                f"{where}, parameter 'text': {params.text!r} does not fit the {bw}x{bh} box even at {at}; "
                "shorten the text, enlarge 'box' or lower the size"
            )
        out = draw(Image.fromarray(rgba), box, lay, font_path, params)
        mode = "RGBA" if rgba.shape[2] == 4 or params.layer else "RGB"
        ctx.report_progress(1.0)
        meta = {
            "font": font_path.rsplit("/", 1)[-1],
            "size": lay.size,
            "lines": lay.lines,
            "box": list(box),
            "text": params.text,
        }
        return [Output(data=encode_png(np.asarray(out.convert(mode))), meta=meta)]

    @staticmethod
    def _font(ctx: OpContext, params: TypesetParams, where: str) -> str:
        if "font_file" in ctx.files:
            path = str(ctx.files["font_file"].path)
            try:
                ImageFont.truetype(path, 12)
            except OSError:
                raise OpInputError(
                    f"{where}, parameter 'font_file': not a TrueType/OpenType font"
                ) from None
            return path
        found = find_font(params.font)
        if found is None:
            raise OpInputError(
                f"{where}, parameter 'font': no font named '{params.font}' on this machine; "
                f"try one of: {', '.join(available())}, or give 'font_file'"
            )
        return str(found)
