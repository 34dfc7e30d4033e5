"""The temporal stability score: camera motion is free, flicker and boil are not."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data as skdata

from routeyard.checks.temporal import stability


def clips():
    img = cv2.resize(skdata.astronaut(), (320, 320))
    rng = np.random.default_rng(0)
    pan = [np.roll(img, 3 * i, axis=1) for i in range(12)]
    return {
        "static": [img] * 12,
        "pan": pan,
        "boil": [np.clip(f + rng.normal(0, 5, f.shape), 0, 255).astype(np.uint8) for f in pan],
        "flicker": [
            np.clip(f * (1 + rng.uniform(-0.04, 0.04)), 0, 255).astype(np.uint8) for f in pan
        ],
    }


def test_scores_rank_steady_motion_above_flicker_and_boil():
    s = {name: stability(frames) for name, frames in clips().items()}
    assert s["static"].score == 1.0
    assert s["pan"].score > 0.85
    assert s["pan"].score > s["boil"].score + 0.05
    assert s["pan"].score > s["flicker"].score + 0.3
    assert s["flicker"].flicker_sd > 0.5 > s["pan"].flicker_sd
