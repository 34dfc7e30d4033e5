"""The small calibration suite CI runs (the full one: benchmarks/calibrate_gates.py)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from routeyard.checks import check, threshold_for
from tests.support import calibration as cal

STRENGTHS = (0.25, 0.5, 1.0)


def test_temporal_and_technical_meet_the_targets(tmp_path):
    photos = cal.photos(("astronaut", "coffee"))
    n = iter(range(1000))

    def mp4(clip):
        return cal.write_clip(tmp_path / f"{next(n)}.mp4", clip)

    def png(rgb):
        path = tmp_path / f"{next(n)}.png"
        Image.fromarray(rgb).save(path)
        return path

    clips = {k: cal.parallax_clip(v, "dolly-in", 32, side=240) for k, v in photos.items()}
    flicker = cal.run_suite(
        "temporal",
        threshold_for("temporal"),
        (
            (k, mp4(c), [(s, mp4(cal.flicker(c, s, np.random.default_rng(1)))) for s in STRENGTHS])
            for k, c in clips.items()
        ),
        lambda p: check("temporal", p).score,
    )
    blur = cal.run_suite(
        "technical",
        threshold_for("technical"),
        ((k, png(v), [(s, png(cal.blur(v, s))) for s in STRENGTHS]) for k, v in photos.items()),
        lambda p: check("technical", p).score,
    )
    for report in (flicker, blur):
        assert report.detection >= 0.95, report.row()
        assert report.false_alarms <= 0.05, report.row()
        assert report.spearman >= 0.9, report.row()
