"""``reframe``: one base, many formats, the subject kept in frame.

A 1:1 photograph made into a 9:16 story by a centre crop cuts off whatever is
off-centre, and a letterbox looks like a mistake. This op finds what must
stay (the subject matte, any frontal face, the operator's ``keep`` boxes),
takes the largest window of the asked aspect that holds it, and only when no
window inside the image can (a wide subject asked as 9:16) extends the plate
beyond the image's edges. The extension is local and says so on the step: the
border colours are continued by inpainting at low resolution (a smooth field,
no mirrored copies of the subject), with the photograph's grain added back so
the seam does not show as a flat band. Hosted outpainting is a separate step.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from routeyard.media.matte import detect_faces, subject_matte
from routeyard.media.pixels import FlexBox, encode_png, load_input
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.ops.resize import target_size
from routeyard.ops.typeset import pixel_box

# Beyond this a "format" is no longer the same picture: more than half of
# the frame would be invented plate.
MAX_EXTEND = 2.0
_MARGIN = 0.04  # room kept around what must stay, as a fraction of the image
_TRIM = 0.05  # how much of its own edges a subject may lose before the plate is extended


class ReframeParams(OpParams):
    aspect: str = Field(pattern=r"^[1-9]\d*:[1-9]\d*$")
    # The output size (default: the largest the window gives at the aspect).
    width: int | None = Field(default=None, ge=16, le=7680)
    height: int | None = Field(default=None, ge=16, le=7680)
    # Regions that must stay whole in every format (a logo, text in the base),
    # [x0, y0, x1, y1] in pixels or fractions of the input.
    keep: list[FlexBox] = Field(default_factory=list)
    # "auto": extend the plate when nothing fits; "never": fail instead.
    extend: str = Field(default="auto", pattern=r"^(auto|never)$")


def ratio(aspect: str) -> float:
    a, b = (int(x) for x in aspect.split(":"))
    return a / b


def regions(
    rgb: np.ndarray, keep: list[tuple[int, int, int, int]]
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    """What must stay (faces, the operator's ``keep`` boxes) and what should
    (the bulk of the subject matte)."""
    h, w = rgb.shape[:2]
    must = list(keep)
    for fx, fy, fw, fh in detect_faces(rgb)[:3]:  # the head, with room for hair and chin
        must.append((fx - fw // 3, fy - fh // 2, fx + fw + fw // 3, fy + fh + fh // 3))
    alpha = subject_matte(rgb)
    ys, xs = np.nonzero(alpha > 0.5)
    prefer = []
    if len(xs) > 0.01 * w * h:
        # its outermost 2 % is often a stray limb or a matte leak
        lo_x, hi_x = np.percentile(xs, [2, 98])
        lo_y, hi_y = np.percentile(ys, [2, 98])
        prefer.append((int(lo_x), int(lo_y), int(hi_x), int(hi_y)))
    return must, prefer


def union(boxes, size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    w, h = size
    m = round(margin * max(w, h))
    return (
        max(0, min(b[0] for b in boxes) - m),
        max(0, min(b[1] for b in boxes) - m),
        min(w, max(b[2] for b in boxes) + m),
        min(h, max(b[3] for b in boxes) + m),
    )


def inside(win: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    x0, y0, cw, ch = win
    return x0 >= 0 and y0 >= 0 and x0 + cw <= size[0] and y0 + ch <= size[1]


def choose(size, must, prefer, r: float):
    """The frame: the whole subject inside the image if it fits (with room,
    then tight); else the faces and keep boxes inside, the rest cropped as an
    editor would; else (a product wider than the format) the whole subject
    with the plate extended."""
    w, h = size
    everything = must + prefer
    if not everything:
        return window(size, (0, 0, w, h), r)
    tight = union(everything, size, 0.0)
    tries = [union(everything, size, _MARGIN), tight, _shrunk(tight, _TRIM)]
    if must:
        tries += [union(must, size, _MARGIN), union(must, size, 0.0)]
    for subject in tries:
        win = window(size, subject, r, toward=_centre(tight))
        if inside(win, size):
            return win
    return window(size, union(everything, size, _MARGIN), r)


def _shrunk(box, by: float):
    """A box trimmed by ``by`` of its size on each side: a subject's own edges
    cropped slightly look better than an invented plate."""
    dx, dy = round((box[2] - box[0]) * by), round((box[3] - box[1]) * by)
    return box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy


def _centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def window(size: tuple[int, int], subject: tuple[int, int, int, int], r: float, toward=None):
    """The frame (x0, y0, cw, ch) of aspect ``r``: inside the image when that
    holds the subject, else the smallest that does (reaching past the edges)."""
    w, h = size
    sx0, sy0, sx1, sy1 = subject
    cw, ch = (h * r, h) if w / h > r else (w, w / r)  # the largest inside the image
    if cw < sx1 - sx0:  # the subject is wider than that: grow the frame around it
        cw = sx1 - sx0
        ch = cw / r
    if ch < sy1 - sy0:
        ch = sy1 - sy0
        cw = ch * r
    cx, cy = toward or ((sx0 + sx1) / 2, (sy0 + sy1) / 2)
    # centred on ``toward`` as far as the subject box still fits the frame
    cx = min(max(cx, sx1 - cw / 2), sx0 + cw / 2) if cw >= sx1 - sx0 else cx
    cy = min(max(cy, sy1 - ch / 2), sy0 + ch / 2) if ch >= sy1 - sy0 else cy
    x0 = _place(cx - cw / 2, cw, w, sx0, sx1)
    y0 = _place(cy - ch / 2, ch, h, sy0, sy1)
    return round(x0), round(y0), round(cw), round(ch)


def _place(start: float, length: float, limit: int, lo: int, hi: int) -> float:
    """Slide the frame into the image as far as the subject allows."""
    if length <= limit:
        return min(max(start, 0.0), limit - length)
    return min(max(start, limit - length), 0.0) if lo >= 0 and hi <= limit else start


def extend(rgb: np.ndarray, x0: int, y0: int, cw: int, ch: int, seed: int) -> np.ndarray:
    """The window, with what lies past the image's edges filled locally."""
    h, w = rgb.shape[:2]
    canvas = np.zeros((ch, cw, 3), np.uint8)
    known = np.zeros((ch, cw), np.uint8)
    ix0, iy0 = max(0, x0), max(0, y0)
    ix1, iy1 = min(w, x0 + cw), min(h, y0 + ch)
    canvas[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = rgb[iy0:iy1, ix0:ix1]
    known[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = 255
    if known.all():
        return canvas
    # a smooth continuation of the border colours, computed small (cheap and
    # free of streaks), then upsampled
    scale = min(1.0, 160 / max(cw, ch))
    small = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hole = cv2.resize(255 - known, small.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA)
    field = cv2.GaussianBlur(cv2.resize(filled, (cw, ch), interpolation=cv2.INTER_CUBIC), (0, 0), 6)
    # the photograph's own grain, so the plate is not a flat band
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grain = float(np.std(grey - cv2.GaussianBlur(grey, (0, 0), 2)))
    noise = np.random.default_rng(seed).normal(0, min(grain, 6.0), (ch, cw, 1)).astype(np.float32)
    plate = np.clip(field.astype(np.float32) + noise, 0, 255)
    # feather the seam a few pixels into the photograph's edge; outside it, plate only
    seen = known.astype(np.float32) / 255
    soft = (cv2.GaussianBlur(seen, (0, 0), 3) * seen)[..., None]
    out = canvas.astype(np.float32) * soft + plate * (1 - soft)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@register
class ReframeOp(Op):
    name = "reframe"
    stage = "refine"
    Params = ReframeParams

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: ReframeParams) -> list[Output]:
        rgb = load_input(ctx, inputs[0])
        h, w = rgb.shape[:2]
        where = f"step '{ctx.node}'"
        keep = [pixel_box(tuple(b), w, h) for b in params.keep]
        for b in keep:
            if b[2] <= 0 or b[3] <= 0 or b[0] >= w or b[1] >= h:
                raise OpInputError(
                    f"{where}, parameter 'keep': box {list(b)} lies outside the {w}x{h} image"
                )
        must, prefer = regions(rgb, keep)
        r = ratio(params.aspect)
        x0, y0, cw, ch = choose((w, h), must, prefer, r)
        grown = max(cw / w, ch / h)
        outside = not inside((x0, y0, cw, ch), (w, h))
        if outside and (params.extend == "never" or grown > MAX_EXTEND):
            raise OpInputError(
                f"{where}, parameter 'aspect': {params.aspect} cannot hold the subject of the "
                f"{w}x{h} image without inventing {grown:.1f}x of plate",
                hint="choose a closer aspect, or a base framed wider",
            )
        frame = extend(rgb, x0, y0, cw, ch, ctx.seed)
        tw, th = target_size((cw, ch), params.width, params.height)
        interp = cv2.INTER_AREA if tw < cw else cv2.INTER_LANCZOS4
        out = cv2.resize(frame, (tw, th), interpolation=interp)
        if outside:
            sides = [
                s
                for s, past in (
                    ("left", x0 < 0),
                    ("top", y0 < 0),
                    ("right", x0 + cw > w),
                    ("bottom", y0 + ch > h),
                )
                if past
            ]
            ctx.warn(
                f"extended the plate locally past the {', '.join(sides)} edge "
                f"({cw}x{ch} frame from a {w}x{h} image)"
            )
        meta = {
            "window": [x0, y0, cw, ch],
            "kept": [list(b) for b in must + prefer],
            "extended": outside,
        }
        return [Output(data=encode_png(out), meta=meta)]
