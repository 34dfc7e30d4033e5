"""Keyword cues: the brief reader when the sentence-embedding model is absent.

The same clauses and negations as the semantic reader (``routing.intent``),
matched against phrase lists instead of described intents: a cue in a
negated span counts against its intent, never for it. Install the
``intent`` extra for the reader that understands "a slow breath of fog".
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routeyard.routing.intent import Reading

TEXT_CUES = (
    "billboard", "logo", "price tag", "poster", "signage", "street sign", "neon sign",
    "headline", "label", "menu", "typography", "lettering", "banner", "caption",
    "storefront", "packaging text", "book cover",
)  # fmt: skip
STYLISED_CUES = (
    "oil painting", "watercolor", "watercolour", "painterly", "gouache", "impressionist",
    "illustration", "illustrated", "anime", "storybook", "pastel", "sketch", "ink drawing",
    "moody lighting", "dramatic lighting", "ethereal", "dreamlike", "surreal", "stylized",
    "stylised", "concept art", "cel-shaded",
)  # fmt: skip
PHOTO_CUES = (
    "photo", "photograph", "photoreal", "product shot", "35mm", "dslr", "studio shot",
    "editorial", "macro shot", "realistic",
)  # fmt: skip
HEAVY_MOTION_CUES = (
    "car chase", "explosion", "crash", "fight", "sprint", "running", "jumps", "jumping",
    "stunt", "action", "impact", "collide", "stampede", "skateboard", "surfing", "debris",
    "drifting car", "drift racing", "parkour", "avalanche", "waves crashing",
)  # fmt: skip
GENTLE_MOTION_CUES = (
    "slow-motion drift", "slow motion", "gentle", "floating", "breeze", "calm", "serene",
    "smooth", "slow pan", "ripples", "steam rising", "swaying", "subtle", "drifting clouds",
    "tranquil", "dreamy drift",
)  # fmt: skip


@functools.cache
def _patterns(cues: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((c, re.compile(rf"(?<![a-z]){re.escape(c)}")) for c in cues)


def found(text: str, cues: tuple[str, ...]) -> list[str]:
    text = text.lower()
    return [c for c, pattern in _patterns(cues) if c in text and pattern.search(text)]


def read(reading: Reading, positive: list[str], negated: list[str]) -> None:
    """Fill ``reading`` from keyword cues in the positive clauses."""
    from routeyard.routing.intent import Evidence

    text, against = " . ".join(positive), " . ".join(negated)
    heavy, gentle = found(text, HEAVY_MOTION_CUES), found(text, GENTLE_MOTION_CUES)
    denied = found(against, HEAVY_MOTION_CUES)
    if heavy and not gentle:
        reading.motion = Evidence("cinematic", f"prompt describes {heavy[0]!r}")
    elif gentle and not heavy:
        reading.motion = Evidence("gentle", f"prompt describes {gentle[0]!r}")
    elif denied and not heavy:
        reading.motion = Evidence("gentle", f"prompt rules out {denied[0]!r}")
    from routeyard.routing.intent import named_text

    named = named_text(text)
    if reading.quoted:
        reading.text = Evidence("needed", f"prompt quotes {reading.quoted!r}")
    elif named:
        reading.text = Evidence("needed", f"prompt names the text to render: {named!r}")
    elif found(text, TEXT_CUES):
        reading.text = Evidence("needed", f"prompt mentions {found(text, TEXT_CUES)[0]!r}")
    stylised, photo = found(text, STYLISED_CUES), found(text, PHOTO_CUES)
    if stylised:
        reading.style = Evidence("stylised", f"prompt asks for {stylised[0]!r}")
    elif photo:
        reading.style = Evidence("photographic", f"prompt asks for {photo[0]!r}")
