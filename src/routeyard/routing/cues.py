"""Keyword cues: the brief reader when the sentence-embedding model is absent.

The same clauses and negations as the semantic reader (``routing.intent``),
matched against phrase lists instead of described intents: a cue in a
negated span counts against its intent, never for it. Install the
``intent`` extra for the reader that understands "a slow breath of fog".
"""

from __future__ import annotations

import functools
import re

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


# Text named after a verb of writing is text to render, quoted or not: "a
# placard reading CLIMATE NOW", "a box stamped FRAGILE", "un cartel que dice…".
_WRITING = re.compile(
    r"(?<!\w)(?:reads?|reading|says?|saying|stamped|labell?ed|lettered|printed|engraved|"
    r"piped with|spell(?:s|ing)|written|titled|called|named|with the (?:words?|name|text)|"
    r"que dice|dice|qui dit|dit|avec le (?:texte|mot)|mit der aufschrift|aufschrift|"
    r"mit dem text|con la scritta|scritta|que diz|diz|con el texto|com o texto)"
    r"\s+(?!a\b|an\b|the\b|it\b|on\b|in\b)([^,.;:!?\n]{2,60})",
    re.IGNORECASE,
)


def named_text(prompt: str) -> str | None:
    """Text named after a verb of writing ("a sign that says OPEN"), or ``None``."""
    m = _WRITING.search(prompt)
    return m.group(1).strip() if m else None


def read(quoted: str | None, positive: list[str], negated: list[str]) -> dict[str, tuple[str, str]]:
    """Decisions from keyword cues in the positive clauses: name → (decision, why)."""
    out: dict[str, tuple[str, str]] = {}
    text, against = " . ".join(positive), " . ".join(negated)
    heavy, gentle = found(text, HEAVY_MOTION_CUES), found(text, GENTLE_MOTION_CUES)
    denied = found(against, HEAVY_MOTION_CUES)
    if heavy and not gentle:
        out["motion"] = ("cinematic", f"prompt describes {heavy[0]!r}")
    elif gentle and not heavy:
        out["motion"] = ("gentle", f"prompt describes {gentle[0]!r}")
    elif denied and not heavy:
        out["motion"] = ("gentle", f"prompt rules out {denied[0]!r}")
    named = named_text(text)
    if quoted:
        out["text"] = ("needed", f"prompt quotes {quoted!r}")
    elif named:
        out["text"] = ("needed", f"prompt names the text to render: {named!r}")
    elif found(text, TEXT_CUES):
        out["text"] = ("needed", f"prompt mentions {found(text, TEXT_CUES)[0]!r}")
    stylised, photo = found(text, STYLISED_CUES), found(text, PHOTO_CUES)
    if stylised:
        out["style"] = ("stylised", f"prompt asks for {stylised[0]!r}")
    elif photo:
        out["style"] = ("photographic", f"prompt asks for {photo[0]!r}")
    return out
