"""The one price calculation: what a provider bills for a request, and for a result.

The router's estimate, the budget guard and the adapters' reconciliation all
call these functions, so the figure a step is refused for, the figure it
reserves and the figure its adapter records cannot disagree. Pure: a model's
price and duration tiers in, a ``Bill`` out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MEGAPIXELS = 1.0  # an image of unknown size is billed as 1 MP
DEFAULT_SECONDS = 5.0  # a video of unknown length as 5 s
MIN_MEGAPIXELS = 0.25  # providers bill small images as at least a quarter megapixel
# An encoder's last-frame rounding (5.04 s) is not a longer duration tier.
MEASURED_SLACK_S = 0.25


# The pixel count of an image resolution tier, and of a video resolution's
# short side (a 16:9 720p frame is 1280x720).
IMAGE_TIERS_MP = {"0.5K": 0.26, "1K": 1.05, "2K": 4.2, "4K": 16.8}
VIDEO_SHORT_SIDE = {"360p": 360, "480p": 480, "720p": 720, "768p": 768, "1080p": 1080,
                    "2k": 1440, "4k": 2160}  # fmt: skip
DEFAULT_VIDEO_RESOLUTION = "720p"
DEFAULT_QUALITY = "medium"


class _Price(Protocol):
    unit: str
    usd: float
    per_resolution: Mapping[str, float]


class _Limits(Protocol):
    durations: Sequence[int]


class Priced(Protocol):
    """What billing needs of a catalog model."""

    price: _Price
    limits: _Limits

    def price_for(self, provider: str | None) -> Any: ...


@dataclass(frozen=True)
class Request:
    """What a request asks for, as far as its bill is concerned."""

    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    resolution: str | None = None
    audio: bool = False
    aspect: str | None = None
    quality: str | None = None
    # (width, height) of each reference image sent with the request
    inputs: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Line:
    what: str
    quantity: float
    usd_per_unit: float


@dataclass(frozen=True)
class Bill:
    """A provider's bill: ``quantity`` of ``unit`` at ``usd_per_unit``, plus any
    further lines (FLUX.2's first megapixel, reference megapixels). ``known``
    is False where the catalog has no confirmed price."""

    unit: str
    quantity: float
    usd_per_unit: float
    extra: tuple[Line, ...] = ()
    known: bool = True
    tier: str = ""

    @property
    def usd(self) -> float:
        total = self.quantity * self.usd_per_unit + sum(
            x.quantity * x.usd_per_unit for x in self.extra
        )
        return round(total, 6)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": self.unit,
            "quantity": round(self.quantity, 4),
            "usd_per_unit": self.usd_per_unit,
            "usd": self.usd,
        }
        if self.extra:
            out["lines"] = [
                {"what": x.what, "quantity": round(x.quantity, 4), "usd_per_unit": x.usd_per_unit}
                for x in self.extra
            ]
        if self.tier:
            out["tier"] = self.tier
        if not self.known:
            out["known"] = False
        return out


def request_for(
    op: str,
    params: Mapping[str, Any],
    brief: Any = None,
    input_size: tuple[int, int] | None = None,
    inputs: Sequence[tuple[int, int]] = (),
) -> Request:
    """The billed request of a step: its output size and duration, from the
    step's parameters, then the brief's deliverables, then its input image
    (times ``scale`` for an upscale). The same rule the adapters map onto
    the provider's fields."""
    width, height = params.get("width"), params.get("height")
    deliver = getattr(brief, "deliver", None) if brief is not None else None
    image = getattr(deliver, "image", None) if deliver is not None else None
    video = getattr(deliver, "video", None) if deliver is not None else None
    if not (width and height) and op == "generate" and image and image.width and image.height:
        width, height = image.width, image.height
    if not (width and height) and input_size and input_size[0]:
        scale = params.get("scale") or 1
        width, height = round(input_size[0] * scale), round(input_size[1] * scale)
    seconds = params.get("seconds") or (video.seconds if video is not None else None)
    audio = params.get("audio")
    if audio is None:
        audio = getattr(brief, "audio", None) if brief is not None else None
    aspect = params.get("aspect") or (video.aspect if video is not None else None)
    return Request(
        width=width or None,
        height=height or None,
        seconds=float(seconds) if seconds else None,
        resolution=params.get("resolution"),
        audio=bool(audio),
        aspect=aspect,
        quality=params.get("quality"),
        inputs=tuple(inputs),
    )


def billed_seconds(durations: Iterable[int], seconds: float, *, slack: float = 1e-9) -> float:
    """The duration tier a provider renders and bills for ``seconds``: the shortest
    offered tier that covers it, the longest when none does, ``seconds`` itself
    for a model billed by the second."""
    offered = sorted(durations)
    for d in offered:
        if d >= seconds - slack:
            return float(d)
    return float(offered[-1]) if offered else float(round(seconds, 2))


def image_tier(width: int | None, height: int | None, offered: Iterable[str]) -> str:
    """The smallest image resolution tier (0.5K/1K/2K/4K) that holds the size."""
    tiers = sorted((t for t in offered if t in IMAGE_TIERS_MP), key=IMAGE_TIERS_MP.get)
    if not tiers:
        return ""
    mp = (width * height / 1e6) if width and height else DEFAULT_MEGAPIXELS
    return next((t for t in tiers if IMAGE_TIERS_MP[t] >= mp * 0.98), tiers[-1])


def video_frame(resolution: str | None, aspect: str | None) -> tuple[int, int]:
    """The frame a video resolution tier renders at an aspect (720p 16:9: 1280x720)."""
    short = VIDEO_SHORT_SIDE.get((resolution or DEFAULT_VIDEO_RESOLUTION).lower(), 720)
    w, h = (float(x) for x in (aspect or "16:9").split(":"))
    ratio = max(w, h) / min(w, h)
    long = round(short * ratio)
    return (long, short) if w >= h else (short, long)


def video_tokens(seconds: float, frame: tuple[int, int], fps: float) -> float:
    """ByteDance's video token count: seconds x W x H x fps / 1024."""
    return seconds * frame[0] * frame[1] * fps / 1024


def second_rate(price: Any, resolution: str | None, audio: bool = False) -> float:
    """The per-unit rate at a tier, with audio where asked and priced."""
    tier = resolution or ""
    base = price.per_resolution.get(tier, price.usd)
    if audio:
        if price.with_audio:
            return price.with_audio.get(tier, price.with_audio.get("", base))
        if price.audio_multiplier:
            return base * price.audio_multiplier
    return base


def default_resolution(offered: Sequence[str]) -> str:
    """The video tier rendered when the step names none: 720p where offered
    (the tier most briefs are cut at), else the model's first."""
    if DEFAULT_VIDEO_RESOLUTION in offered:
        return DEFAULT_VIDEO_RESOLUTION
    return offered[0] if offered else ""


def _resolution(model: Any, request: Request) -> str:
    offered = getattr(model.limits, "resolutions", ())
    if request.resolution:
        return request.resolution
    if offered and offered[0] in IMAGE_TIERS_MP:  # an image model: the size decides
        return image_tier(request.width, request.height, offered)
    return default_resolution(offered)


def _megapixels(price: Any, request: Request, out_mp: float) -> Bill:
    mp = max(out_mp, MIN_MEGAPIXELS)
    ins = [w * h / 1e6 for w, h in request.inputs]
    if price.round_mp_up:
        mp = float(math.ceil(mp - 1e-9))
        ins = [float(max(1, math.ceil(x - 1e-9))) for x in ins]
    extra: list[Line] = []
    if price.first_mp_usd is not None:
        extra.append(Line("first megapixel", 1.0, price.first_mp_usd))
        mp = max(mp - 1.0, 0.0)
    if ins and price.input_mp_usd:
        extra.append(Line("input megapixel", sum(ins), price.input_mp_usd))
    return Bill("megapixel", mp, price.usd, tuple(extra))


def _image(model: Any, price: Any, request: Request, count: float) -> Bill:
    if price.per_quality:
        quality = request.quality or DEFAULT_QUALITY
        if quality in price.per_quality:
            return Bill("image", count, price.per_quality[quality], tier=quality)
        if price.usd:  # the endpoint's own default tier
            return Bill("image", count, price.usd)
        quality = next(iter(price.per_quality))
        return Bill("image", count, price.per_quality[quality], tier=quality)
    if price.per_resolution:
        tier = request.resolution or image_tier(request.width, request.height, price.per_resolution)
        return Bill("image", count, price.per_resolution.get(tier, price.usd), tier=tier)
    return Bill("image", count, price.usd)


def _tokens(model: Any, price: Any, request: Request, seconds: float, images: float) -> Bill:
    per_token = second_rate(price, _resolution(model, request), request.audio) / 1e6
    if "fps" in price.tokens:  # video: the formula
        frame = video_frame(_resolution(model, request), request.aspect)
        count = video_tokens(seconds, frame, price.tokens["fps"])
        return Bill("token", count, per_token, tier=_resolution(model, request))
    tier = request.resolution or image_tier(request.width, request.height, price.tokens)
    return Bill("token", images * price.tokens.get(tier, 0.0), per_token, tier=tier)


def estimate(model: Priced, request: Request, provider: str | None = None) -> Bill:
    """The bill before submitting, in the provider's unit (``provider``'s own
    price where its host lists one)."""
    p = model.price_for(provider) if provider is not None else model.price
    if p.unit == "unknown":
        return Bill("unknown", 1.0, 0.0, known=False)
    if p.unit == "free":
        return Bill(p.unit, 1.0, p.usd)
    if p.unit == "image":
        return _image(model, p, request, 1.0)
    if p.unit == "megapixel":
        w, h = request.width, request.height
        return _megapixels(p, request, (w * h / 1e6) if w and h else DEFAULT_MEGAPIXELS)
    seconds = billed_seconds(model.limits.durations, request.seconds or DEFAULT_SECONDS)
    if p.unit == "token":
        return _tokens(model, p, request, seconds, 1.0)
    return Bill(
        "video_second",
        seconds,
        second_rate(p, _resolution(model, request), request.audio),
        tier=_resolution(model, request),
    )


def actual(
    model: Priced,
    request: Request,
    results: Sequence[Any],
    provider: str | None = None,
    usage_tokens: float | None = None,
) -> Bill:
    """The bill from what came back (media facts with width, height, duration):
    output megapixels, rendered video seconds, image count, or the token count
    the provider reported (``usage_tokens``)."""
    p = model.price_for(provider) if provider is not None else model.price
    if p.unit == "unknown":
        return Bill("unknown", float(len(results)), 0.0, known=False)
    if p.unit == "free":
        return Bill(p.unit, float(len(results)), p.usd)
    if p.unit == "image":
        first = results[0] if results else None
        sized = Request(
            width=getattr(first, "width", None) or request.width,
            height=getattr(first, "height", None) or request.height,
            resolution=request.resolution,
            quality=request.quality,
        )
        return _image(model, p, sized, float(len(results)))
    if p.unit == "megapixel":
        mp = sum((f.width or 0) * (f.height or 0) for f in results) / 1e6
        bill = _megapixels(p, request, mp)
        return bill
    seconds = sum(
        billed_seconds(model.limits.durations, f.duration or 0.0, slack=MEASURED_SLACK_S)
        for f in results
        if getattr(f, "duration", None)
    )
    if p.unit == "token":
        if usage_tokens:
            estimate_bill = _tokens(model, p, request, seconds or 1.0, float(len(results)))
            return Bill("token", float(usage_tokens), estimate_bill.usd_per_unit, tier="reported")
        if not seconds:
            return _tokens(model, p, _sized(request, results), 0.0, float(len(results)))
        return _tokens(model, p, request, seconds, float(len(results)))
    return Bill(
        "video_second",
        seconds,
        second_rate(p, _resolution(model, request), request.audio),
        tier=_resolution(model, request),
    )


def _sized(request: Request, results: Sequence[Any]) -> Request:
    first = results[0] if results else None
    return Request(
        width=getattr(first, "width", None) or request.width,
        height=getattr(first, "height", None) or request.height,
        resolution=request.resolution,
    )
