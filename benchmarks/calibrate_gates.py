"""Gate calibration with a held-out split (tests/support/heldout.py).

Every gate is scored on two splits that share neither source images nor
defect generators. On the ``fit`` split the threshold that best separates
clean from defective items (largest detection − false alarms) is found; on
the ``held`` split detection and false alarms are reported at the gate's
default threshold and at the fitted one. Clean clips carry real camera
motion (held: fast pans, handheld shake, zoom-outs, orbits) and are encoded
at CRF 18 to 32; defects are judged at strengths 0.5 and 1.

    python benchmarks/calibrate_gates.py [--quick]

Prints the Markdown table the README carries.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the evaluation harnesses live in tests/support

from tests.support import calibration as cal  # noqa: E402
from tests.support import heldout as H  # noqa: E402

from routeyard.checks import check, threshold_for  # noqa: E402

STRENGTHS = (0.5, 1.0)
FRAMES = 48
CRFS = (18, 23, 28, 32)


class Tally:
    def __init__(self):
        self.clean: dict[str, list[float]] = defaultdict(list)  # split → scores
        self.bad: dict[tuple[str, str], list[float]] = defaultdict(list)  # (split, defect) → scores


def fitted(clean: list[float], bad: list[float], default: float) -> float:
    """The threshold with the largest detection − false alarms (ties: nearest the default)."""
    cands = sorted({*clean, *bad, default})
    best = (-2.0, 0.0, default)
    for lo, hi in itertools.pairwise(cands):
        t = (lo + hi) / 2
        j = np.mean([s < t for s in bad]) - np.mean([s < t for s in clean])
        key = (j, -abs(t - default))
        if key > best[:2]:
            best = (*key, t)
    return round(best[2], 3)


def main(quick: bool) -> None:
    tmp = Path(tempfile.mkdtemp())
    n = [0]

    def png(rgb) -> Path:
        n[0] += 1
        p = tmp / f"{n[0]}.png"
        Image.fromarray(rgb).save(p)
        return p

    def mp4(clip, crf=18) -> Path:
        n[0] += 1
        return H.write(tmp / f"{n[0]}.mp4", clip, crf=crf)

    def score(gate, path, **kw) -> float:
        r = check(gate, path, **kw)
        return 0.0 if r.score is None else r.score

    started = time.perf_counter()
    fit_src, held_src = H.fit_sources(), H.held_sources()
    if quick:
        fit_src = dict(list(fit_src.items())[:2])
        held_src = dict(list(held_src.items())[::3])
    rng = np.random.default_rng(0)
    tallies: dict[str, Tally] = defaultdict(Tally)

    # ---- stills: first_frame, technical
    still_defects = {
        "first_frame": {"fit": [("flatten", cal.flatten)], "held": [("haze", H.haze)]},
        "technical": {
            "fit": [("blur", cal.blur), ("noise", lambda v, s: cal.noise(v, s, rng))],
            "held": [
                ("motion blur / down-up", H.motion_blur),
                ("chroma + salt noise", lambda v, s: H.chroma_noise(v, s, rng)),
            ],
        },
    }
    for gate, splits in still_defects.items():
        for split, src in (("fit", fit_src), ("held", held_src)):
            for _, img in src.items():
                tallies[gate].clean[split].append(score(gate, png(img)))
                for defect, make in splits[split]:
                    for s in STRENGTHS:
                        tallies[gate].bad[(split, defect)].append(score(gate, png(make(img, s))))

    # ---- series_color: four crops of one source, one of them cast
    for split, src, make, defect in (
        ("fit", fit_src, lambda v, s: cal.colour_cast(v, s), "warm cast"),
        ("held", held_src, lambda v, s: H.tint(v, s, rng), "green/magenta tint"),
    ):
        for _, img in src.items():
            h, w = img.shape[:2]
            if min(h, w) < 200:
                continue
            side = min(h, w) - 24
            crops = [img[i * 8 : i * 8 + side, i * 8 : i * 8 + side] for i in range(4)]
            tallies["series_color"].clean[split].append(
                check("series_color", [png(c) for c in crops]).score or 0.0
            )
            for s in STRENGTHS:
                files = [png(c) for c in crops[:3]] + [png(make(crops[3], s))]
                tallies["series_color"].bad[(split, defect)].append(
                    check("series_color", files).score or 0.0
                )

    # ---- clips: temporal, background
    clip_defects = {
        "temporal": {
            "fit": [
                ("gain flicker", lambda c, s, r: cal.flicker(c, s, r)),
                ("patch boil", lambda c, s, r: cal.popping(c, s, r)),
            ],
            "held": [
                ("gamma / white-balance flicker", H.gamma_flicker),
                ("warp boil / stale patches", H.warp_boil),
            ],
        },
        "background": {
            "fit": [("swirl liquefy", lambda c, s, r: cal.liquefy(c, s, r))],
            "held": [("ripple / melt", H.ripple_melt)],
        },
    }
    for split, src in (("fit", fit_src), ("held", held_src)):
        for k, img in enumerate(src.values()):
            if min(img.shape[:2]) < 200:
                continue
            moves = (
                H.fit_moves(img, FRAMES)
                if split == "fit"
                else H.held_moves(img, FRAMES, np.random.default_rng(k))
            )
            for j, (_, clip) in enumerate(moves.items()):
                crf = 18 if split == "fit" else CRFS[(k + j) % len(CRFS)]
                clean = mp4(clip, crf)
                for gate, splits in clip_defects.items():
                    tallies[gate].clean[split].append(score(gate, clean))
                    for defect, make in splits[split]:
                        for s in STRENGTHS:
                            bad = mp4(make(clip, s, np.random.default_rng(k * 10 + j)), crf)
                            tallies[gate].bad[(split, defect)].append(score(gate, bad))

    # ---- the local renderer's own clips (clean): does the background gate pass them?
    own = []
    for img in list(fit_src.values()) + list(held_src.values()):
        if min(img.shape[:2]) < 200:
            continue
        for move in ("dolly-in", "orbit", "pan-left", "float"):
            own.append(score("background", mp4(cal.parallax_clip(img, move, FRAMES, side=H.SIDE))))

    print(
        "| gate | held-out defect | default | fitted (fit split) | clean / defective (held) | "
        "detection (held, default) | false alarms (held, default) | detection / false alarms (held, fitted) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for gate, t in tallies.items():
        default = threshold_for(gate)
        fit_bad = [s for (sp, _), v in t.bad.items() if sp == "fit" for s in v]
        thr = fitted(t.clean["fit"], fit_bad, default)
        clean = t.clean["held"]
        fa = np.mean([s < default for s in clean])
        fa_fit = np.mean([s < thr for s in clean])
        for (sp, defect), scores in t.bad.items():
            if sp != "held":
                continue
            det = np.mean([s < default for s in scores])
            det_fit = np.mean([s < thr for s in scores])
            print(
                f"| {gate} | {defect} | {default} | {thr} | {len(clean)} / {len(scores)} | "
                f"{det:.0%} | {fa:.0%} | {det_fit:.0%} / {fa_fit:.0%} |"
            )
    passed = np.mean([s >= threshold_for("background") for s in own])
    print(
        f"\nbackground gate on the local renderer's own clips (4 moves × "
        f"{len(own) // 4} sources): {passed:.0%} pass at the default threshold"
    )
    print(f"\n{time.perf_counter() - started:.0f} s")
    if "--items" in sys.argv:
        for gate, t in tallies.items():
            print(gate, "clean", {k: [round(x, 2) for x in v] for k, v in t.clean.items()})
            print(
                gate, "bad", {f"{k[0]}/{k[1]}": [round(x, 2) for x in v] for k, v in t.bad.items()}
            )


if __name__ == "__main__":
    main("--quick" in sys.argv)
