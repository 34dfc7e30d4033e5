"""Typography: can the requested text be read back, letter for letter, in every frame?

Text is the first thing that makes generated media look cheap when it is
wrong. The anchors are EvalCrafter's OCR score and CVTG-2K's word accuracy
and normalised edit distance; OCR here is Tesseract (PaddleOCR downloads its
models), read on several pages per image (``checks.ocr``). Both strings are
normalised (lower case, letters, digits and price signs, no spaces: OCR
engines drop and add spaces), and the character error rate is the edit
distance from the requested text to the best-matching stretch of the
reading, over the requested length. A still scores 1 − CER; a word missing
from the reading, or (with ``exact``) any error, fails outright.

A video is only as legible as its worst moment: text that tears or garbles
mid-clip is a defect however well frame 0 reads. Frames are sampled (every
6th and the last), each scored min(1 − CER, glyph consistency), and the
clip's score is its worst *stretch* — the lowest mean over two neighbouring
samples, a quarter to half a second — so one OCR hiccup is halved but a
tear that lasts is not. Glyph consistency (``checks.glyphs``) compares each
letter's shape with the first legible frame's, and sees a tear before OCR
fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from routeyard.checks import glyphs, ocr
from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import clip_info, frames, is_clip, still
from routeyard.errors import OpInputError

EVERY = 6  # sample every 6th frame (a quarter second at 24 fps), and the last
_STRETCH = 2  # neighbouring samples a stretch averages


class TypographyParams(GateParams):
    text: str | None = None  # the text that must be legible; a plan's brief.text by default
    exact: bool = False  # exact-copy jobs: any error fails


class _Frame:
    """One frame's best reading of the target."""

    def __init__(self, target: str, words: list[str], found: list[ocr.Reading]):
        def cer_of(r: ocr.Reading) -> float:
            return min(ocr.substring_distance(target, ocr.normalise(r.text)) / len(target), 1.0)

        self.best = min(found, key=cer_of)
        self.cer = cer_of(self.best)
        most = max(found, key=lambda r: sum(w in ocr.normalise(r.text) for w in words))
        self.word_acc = sum(w in ocr.normalise(most.text) for w in words) / len(words)
        self.reading = " ".join(self.best.text.split())


class TypographyGate(Gate):
    name = "typography"
    version = "2"
    threshold = 0.95
    media = "any"
    Params = TypographyParams

    def measure(self, files: list[Path], params: TypographyParams, ref: Path | None) -> GateResult:
        if not params.text or not ocr.normalise(params.text):
            raise OpInputError(
                "typography: no text to check; give --text (or brief.text in a plan)"
            )
        if not ocr.available():
            return GateResult(None, f"unknown: no OCR engine; {ocr.INSTALL_HINT}", status="unknown")
        target = ocr.normalise(params.text)
        words = [ocr.normalise(w) for w in params.text.split() if ocr.normalise(w)]
        if is_clip(files[0]):
            return self._clip(files[0], params, target, words)
        read = _Frame(target, words, ocr.readings(still(files[0]), target=target))
        return self._result(params, read, read.cer, {"best_frame": 0}, None)

    def _clip(self, path: Path, params: TypographyParams, target: str, words: list[str]):
        info = clip_info(path)
        wanted = {*range(0, info.frames, EVERY), info.frames - 1}
        sampled = dict(f for f in frames(path) if f[0] in wanted)
        order = sorted(sampled)
        # The reference: the first sampled frame that reads best (of first, last,
        # middle), read on every page so that the cleanest page's ink is known.
        ref_index, ref_read, ink_of = None, None, None
        for i in dict.fromkeys((order[0], order[-1], order[len(order) // 2])):
            found = ocr.readings(sampled[i])
            read = _Frame(target, words, found)
            if ref_read is None or read.cer < ref_read.cer:
                ref_index, ref_read, ink_of = i, read, ocr.best_ink(found, target)
            if read.cer == 0:
                break
        assert ref_read is not None and ref_index is not None and ink_of is not None
        recipe = ink_of.recipe
        ref_rgb = sampled[ref_index]
        boxes = ocr.word_boxes(ref_rgb, ink_of, words) if ref_read.cer < 1 else []
        letters = ref_words = None
        baseline: list[float] | None = None
        if boxes:
            region = glyphs.union(boxes, ref_rgb.shape[:2])
            ref_ink = ocr.ink(ref_rgb, recipe)
            letters = glyphs.letters(ref_ink, region)
            ref_words = glyphs.union(boxes, ref_rgb.shape[:2], pad=0)
            if letters is not None:
                baseline = glyphs.overlaps(
                    letters, ref_ink, glyphs.region_warp(region, ref_words, ref_words)
                )
        cers, shapes, reads = [], [], {}
        last_words = ref_words
        for i in order:
            rgb = sampled[i]
            # The reference's page: the same text in the same colour reads there,
            # and a frame where it does not is a frame where the text changed.
            found = ocr.readings(rgb, target=target, order=[recipe])
            read = reads[i] = _Frame(target, words, found)
            cers.append(read.cer)
            if letters is None or last_words is None:
                shapes.append(None)
                continue
            now = ocr.word_boxes(rgb, read.best, words) if read.cer < 0.5 else []
            if now:
                last_words = glyphs.union(now, rgb.shape[:2], pad=0)
            guess = glyphs.region_warp(letters.region, ref_words, last_words)
            shapes.append(glyphs.consistency(letters, ocr.ink(rgb, recipe), guess, baseline))
        per = [min(1 - c, s if s is not None else 1.0) for c, s in zip(cers, shapes, strict=True)]
        window = min(_STRETCH, len(per))
        means = [float(np.mean(per[k : k + window])) for k in range(len(per) - window + 1)]
        worst_at = int(np.argmin(means))
        worst = reads[order[worst_at]]
        # A stretch where a word is gone from every sample fails outright.
        gone = any(
            all(reads[order[k + j]].word_acc < 1 for j in range(window))
            for k in range(len(per) - window + 1)
        )
        known = [s for s in shapes if s is not None]
        details = {
            "best_frame": ref_index,
            "frames_sampled": order,
            "worst_frame": order[worst_at + int(np.argmin(per[worst_at : worst_at + window]))],
            "frames_reading": round(sum(c == 0 for c in cers) / len(cers), 4),
            "glyph_consistency": round(min(known), 4) if known else None,
        }
        score = 1 - means[worst_at]
        result = self._result(params, worst, score, details, per, missing=gone)
        if known and min(known) < 1 - (1 - self.threshold) * 2 and worst.cer < 1:
            ocr_says = (
                "OCR still reads it there"
                if worst.cer == 0
                else f"OCR's error there {worst.cer:.2f}"
            )
            result.message = (
                f"the letters change shape mid-clip (glyph consistency {min(known):.2f} near frame "
                f"{details['worst_frame']}: a tear, a melt or a morph); {ocr_says}"
            )
        return result

    @staticmethod
    def _result(params, read: _Frame, cer: float, details: dict, per, missing: bool | None = None):
        missing = read.word_acc < 1.0 if missing is None else missing
        hard = missing or (params.exact and cer > 0)
        if read.cer >= 1.0 or not read.reading:
            message = f"the text {params.text!r} was not found"
        elif cer == 0:
            message = f"reads {params.text!r} exactly" + (" in every sampled frame" if per else "")
        elif read.cer == 0 and per:
            message = f"reads {params.text!r} exactly in every sampled frame; letter shapes hold"
        else:
            message = (
                f"misread: character error rate {read.cer:.2f}, {read.word_acc:.0%} of words found"
            )
        return GateResult(
            score=1 - min(cer, 1.0),
            message=message,
            details={
                "text": params.text,
                "cer": round(read.cer, 4),
                "ned": round(1 - min(read.cer, 1.0), 4),
                "word_accuracy": round(read.word_acc, 4),
                "exact_match": read.cer == 0,
                "reading": read.reading[:500],
                **details,
            },
            series=per if per and len(per) > 1 else None,
            series_label="min(1 − CER, glyph consistency)",
            hard_fail=hard,
        )
