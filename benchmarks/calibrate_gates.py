"""Calibration of the quality gates on the defect suite (routeyard.checks.calibration).

For each gate: clean items from scikit-image photographs (and clips rendered
from them), the same items with the gate's defect at strengths 0.25, 0.5,
1.0; detection at the default threshold on clearly visible defects (≥ 0.5),
false alarms on clean items, and the median Spearman ρ of strength vs score
drop. Prints a Markdown table for the README.

    python benchmarks/calibrate_gates.py [--quick] [--items]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the evaluation harnesses live in tests/support

from tests.support import calibration as cal  # noqa: E402

from routeyard.checks import check, threshold_for  # noqa: E402

STRENGTHS = (0.25, 0.5, 1.0)


def main(quick: bool) -> None:
    names = (
        ("astronaut", "coffee")
        if quick
        else ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "camera")
    )
    photos = cal.photos(names)
    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    n = [0]

    def png(rgb):
        n[0] += 1
        p = tmp / f"{n[0]}.png"
        Image.fromarray(rgb).save(p)
        return p

    def mp4(clip):
        n[0] += 1
        return cal.write_clip(tmp / f"{n[0]}.mp4", clip)

    def score(gate, **kw):
        return lambda path: check(gate, path, **kw).score

    reports = []
    started = time.perf_counter()
    reports.append(
        cal.run_suite(
            "first_frame",
            threshold_for("first_frame"),
            (
                (k, png(v), [(s, png(cal.flatten(v, s))) for s in STRENGTHS])
                for k, v in photos.items()
            ),
            score("first_frame"),
        )
    )
    for defect in ("blur", "noise"):
        make = (
            (lambda v, s: cal.blur(v, s))
            if defect == "blur"
            else (lambda v, s: cal.noise(v, s, rng))
        )
        reports.append(
            cal.run_suite(
                f"technical ({defect})",
                threshold_for("technical"),
                ((k, png(v), [(s, png(make(v, s))) for s in STRENGTHS]) for k, v in photos.items()),
                score("technical"),
            )
        )
    moves = ("dolly-in",) if quick else ("dolly-in", "orbit", "pan-left")
    clips = {
        f"{k}/{m}": cal.parallax_clip(v, m, 48, side=288) for k, v in photos.items() for m in moves
    }
    for defect, make in (("flicker", cal.flicker), ("popping", cal.popping)):
        reports.append(
            cal.run_suite(
                f"temporal ({defect})",
                threshold_for("temporal"),
                (
                    (k, mp4(c), [(s, mp4(make(c, s, np.random.default_rng(1)))) for s in STRENGTHS])
                    for k, c in clips.items()
                ),
                score("temporal"),
            )
        )
    plain = {
        f"{k}/{m}": cal.parallax_clip(v, m, 48, side=288, subject=False)
        for k, v in photos.items()
        for m in moves
    }
    reports.append(
        cal.run_suite(
            "background (liquefy)",
            threshold_for("background"),
            (
                (
                    k,
                    mp4(c),
                    [(s, mp4(cal.liquefy(c, s, np.random.default_rng(2)))) for s in STRENGTHS],
                )
                for k, c in plain.items()
            ),
            score("background"),
        )
    )

    # animate's own renders with a subject layer: clean only (false alarms).
    reports.append(
        cal.run_suite(
            "background (clean, subject layer)",
            threshold_for("background"),
            ((k, mp4(c), []) for k, c in clips.items()),
            score("background"),
        )
    )

    def series(k, v, s):
        crops = [png(v[i * 8 : 400 + i * 8, i * 8 : 400 + i * 8]) for i in range(4)]
        return [*crops, png(cal.colour_cast(v[:400, :400], s))] if s else crops

    reports.append(
        cal.run_suite(
            "series_color (cast)",
            threshold_for("series_color"),
            (
                (k, series(k, v, 0), [(s, series(k, v, s)) for s in STRENGTHS])
                for k, v in photos.items()
            ),
            lambda paths: check("series_color", paths).score,
        )
    )

    print(
        "| gate (defect) | threshold | clean | defective | detection (≥0.5) | false alarms | Spearman ρ |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in reports:
        row = r.row()
        print(
            f"| {row['gate']} | {row['threshold']} | {row['clean_items']} | {row['defect_items']} | "
            + (
                f"{row['detection']:.0%} | {row['false_alarms']:.0%} | {row['spearman']:.2f} |"
                if row["defect_items"]
                else f"— | {row['false_alarms']:.0%} | — |"
            )
        )
    print(f"\n{time.perf_counter() - started:.0f} s")
    if "--items" in sys.argv:
        for r in reports:
            for name, curve in zip(r.names, r.by_item, strict=True):
                print(r.gate, name, " ".join(f"{k:g}:{s:.3f}" for k, s in curve))


if __name__ == "__main__":
    main("--quick" in sys.argv)
