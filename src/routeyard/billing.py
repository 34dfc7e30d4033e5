"""The one price calculation: what a provider bills for a request, and for a result.

The router's estimate, the budget guard and the adapters' reconciliation all
call these functions, so the figure a step is refused for, the figure it
reserves and the figure its adapter records cannot disagree. Pure: a model's
price and duration tiers in, a ``Bill`` out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MEGAPIXELS = 1.0  # an image of unknown size is billed as 1 MP
DEFAULT_SECONDS = 5.0  # a video of unknown length as 5 s
MIN_MEGAPIXELS = 0.25  # providers bill small images as at least a quarter megapixel
# An encoder's last-frame rounding (5.04 s) is not a longer duration tier.
MEASURED_SLACK_S = 0.25


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


@dataclass(frozen=True)
class Request:
    """What a request asks for, as far as its bill is concerned."""

    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Bill:
    unit: str
    quantity: float
    usd_per_unit: float

    @property
    def usd(self) -> float:
        return round(self.quantity * self.usd_per_unit, 6)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "quantity": round(self.quantity, 4),
            "usd_per_unit": self.usd_per_unit,
            "usd": self.usd,
        }


def request_for(
    op: str,
    params: Mapping[str, Any],
    brief: Any = None,
    input_size: tuple[int, int] | None = None,
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
    return Request(
        width=width or None,
        height=height or None,
        seconds=float(seconds) if seconds else None,
        resolution=params.get("resolution"),
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


def second_rate(model: Priced, resolution: str | None) -> float:
    return model.price.per_resolution.get(resolution or "", model.price.usd)


def estimate(model: Priced, request: Request) -> Bill:
    """The bill before submitting, in the provider's unit."""
    p = model.price
    if p.unit in ("free", "image"):
        return Bill(p.unit, 1.0, p.usd)
    if p.unit == "megapixel":
        w, h = request.width, request.height
        mp = (w * h / 1e6) if w and h else DEFAULT_MEGAPIXELS
        return Bill("megapixel", max(mp, MIN_MEGAPIXELS), p.usd)
    seconds = billed_seconds(model.limits.durations, request.seconds or DEFAULT_SECONDS)
    return Bill("video_second", seconds, second_rate(model, request.resolution))


def actual(model: Priced, request: Request, results: Sequence[Any]) -> Bill:
    """The bill from what came back (media facts with width, height, duration):
    output megapixels, rendered video seconds, image count."""
    p = model.price
    if p.unit in ("free", "image"):
        return Bill(p.unit, float(len(results)), p.usd)
    if p.unit == "megapixel":
        mp = sum((f.width or 0) * (f.height or 0) for f in results) / 1e6
        return Bill("megapixel", max(mp, MIN_MEGAPIXELS * len(results)), p.usd)
    seconds = sum(
        billed_seconds(model.limits.durations, f.duration or 0.0, slack=MEASURED_SLACK_S)
        for f in results
    )
    return Bill("video_second", seconds, second_rate(model, request.resolution))
