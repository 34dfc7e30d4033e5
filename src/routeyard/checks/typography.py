"""Typography: can the requested text be read back, letter for letter?

Text is the first thing that makes generated media look cheap when it is
wrong. The anchors are EvalCrafter's OCR score and CVTG-2K's word accuracy
and normalised edit distance; OCR here is Tesseract (PaddleOCR downloads its
models). Both strings are normalised (lower case, letters, digits and price
signs, no spaces: OCR engines drop and add spaces), and the character error
rate is the edit distance from the requested text to the best-matching
stretch of the reading, over the requested length. Score = 1 − CER; a word
missing from the reading, or (with ``exact``) any error, fails outright.
"""

from __future__ import annotations

from pathlib import Path

from routeyard.checks import ocr
from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import clip_info, frames, is_clip, sample_step, still
from routeyard.errors import OpInputError


class TypographyParams(GateParams):
    text: str | None = None  # the text that must be legible; a plan's brief.text by default
    exact: bool = False  # exact-copy jobs: any error fails


class TypographyGate(Gate):
    name = "typography"
    version = "1"
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
        per_frame, best = [], None
        for index, rgb in self._images(files):
            readings = ocr.read(rgb, target=target)
            cer = min(ocr.substring_distance(target, ocr.normalise(r)) for r in readings) / len(
                target
            )
            found = max(readings, key=lambda r: sum(w in ocr.normalise(r) for w in words))
            word_acc = sum(w in ocr.normalise(found) for w in words) / len(words)
            per_frame.append(min(cer, 1.0))
            if best is None or cer < best[1]:
                best = (index, cer, word_acc, " ".join(found.split()))
        index, cer, word_acc, reading = best
        missing = word_acc < 1.0
        hard = missing or (params.exact and cer > 0)
        if cer >= 1.0 or not reading:
            message = f"the text {params.text!r} was not found in the image"
        elif cer == 0:
            message = f"reads {params.text!r} exactly"
        else:
            message = f"misread: character error rate {cer:.2f}, {word_acc:.0%} of words found"
        return GateResult(
            score=1 - min(cer, 1.0),
            message=message,
            details={
                "text": params.text,
                "cer": round(cer, 4),
                "ned": round(1 - min(cer, 1.0), 4),
                "word_accuracy": round(word_acc, 4),
                "exact_match": cer == 0,
                "best_frame": index,
                "reading": reading[:500],
                "frames_passing": round(sum(c <= 0.05 for c in per_frame) / len(per_frame), 4),
            },
            series=[1 - c for c in per_frame] if len(per_frame) > 1 else None,
            series_label="1 − CER",
            hard_fail=hard,
        )

    @staticmethod
    def _images(files: list[Path]):
        path = files[0]
        if is_clip(path):
            info = clip_info(path)
            # One frame per second, as EvalCrafter does: also catches text that flickers.
            return frames(
                path, sample_step(info.frames, max(1, round(info.frames / max(info.fps, 1))))
            )
        return [(0, still(path))]
