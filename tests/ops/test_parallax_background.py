"""The local renderer's own clips against the background gate.

The renderer bends the picture over a continuous nearness map instead of
cutting the subject out as a rigid layer: a matte that took a piece of
wall no longer carries it, and the background gate (which removes the
camera's motion and looks for what is left) reads the clips as clean.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routeyard.checks import check, threshold_for
from routeyard.media.matte import subject_matte
from routeyard.media.pixels import shrink
from routeyard.ops import parallax
from tests.support import calibration as cal


def _clip(rgb, move, soft=True):
    small, _ = shrink(rgb, 288)
    small = small[: small.shape[0] // 2 * 2, : small.shape[1] // 2 * 2].copy()
    layers = parallax.build_layers(small, subject_matte(small))
    if not soft:
        layers = dataclasses.replace(layers, depth=None)  # the old rigid subject layer
    return list(parallax.frames(layers, move, 48, 1.0))


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clips")
    out = {}
    for name, rgb in cal.photos(("astronaut", "motorcycle", "camera")).items():
        for move in ("dolly-in", "pan-left"):
            for soft in (True, False):
                path = cal.write_clip(tmp / f"{name}-{move}-{soft}.mp4", _clip(rgb, move, soft))
                out[(name, move, soft)] = check("background", path).score
    return out


def test_the_renderers_clips_pass_the_background_gate(scores):
    soft = {k: v for k, v in scores.items() if k[2]}
    failing = {k: round(v, 3) for k, v in soft.items() if v < threshold_for("background")}
    assert not failing


def test_soft_depth_deforms_the_background_less_than_a_rigid_layer(scores):
    soft = np.mean([v for k, v in scores.items() if k[2]])
    rigid = np.mean([v for k, v in scores.items() if not k[2]])
    assert soft > rigid


def test_frame_zero_is_the_input_and_no_pixel_is_cut():
    rgb = cal.photos(("astronaut",))["astronaut"]
    clip = _clip(rgb, "pan-left")
    small, _ = shrink(rgb, 288)
    assert np.array_equal(clip[0], small[: clip[0].shape[0], : clip[0].shape[1]])
    # A continuous warp: neighbouring output pixels never jump by more than the
    # picture's own local contrast allows (a cut would show as a seam of big jumps).
    a, b = clip[-1].astype(np.int16), clip[0].astype(np.int16)
    seam = np.abs(np.diff(a, axis=1)).max(axis=2) > 120
    base = np.abs(np.diff(b, axis=1)).max(axis=2) > 120
    assert seam.mean() <= base.mean() * 1.5 + 1e-3
