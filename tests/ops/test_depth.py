"""depth_cues raises first-frame readiness on flat stills and keeps the picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as skdata
from skimage.metrics import structural_similarity as ssim

from routeyard.checks.first_frame import readiness
from routeyard.media.matte import subject_matte
from tests.ops.conftest import load


def flattened(rgb):
    """What a flat first frame looks like: smoothed texture, half the contrast."""
    bgr = cv2.edgePreservingFilter(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), flags=1, sigma_s=60, sigma_r=0.4
    )
    flat = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(float)
    return (128 + (flat - 128) * 0.5).astype(np.uint8)


def fogged(rgb):
    return (rgb * 0.4 + 0.6 * 200).astype(np.uint8)


def test_the_readiness_metric_ranks_flat_stills_below_photos():
    photo = readiness(skdata.astronaut())
    assert photo.score > 0.9 and photo.message == "ready"
    for flat in (flattened(skdata.astronaut()), fogged(skdata.astronaut()), skdata.logo()[..., :3]):
        r = readiness(flat)
        assert r.score < photo.score - 0.25 and r.message.startswith("risky")
    assert "flat lighting" in readiness(fogged(skdata.astronaut())).failing


@pytest.mark.parametrize("spoil", [flattened, fogged])
def test_depth_cues_raise_readiness(run_step, spoil):
    still = spoil(skdata.astronaut())
    (out_path,) = run_step(still, "{op: depth_cues, input: a}")
    out = load(out_path)
    before, after = readiness(still), readiness(out)
    assert after.score > before.score + 0.25, (before.cues, after.cues)
    assert after.cues["l_range"] > before.cues["l_range"] + 20
    assert after.cues["shading"] > before.cues["shading"]
    assert (
        ssim(cv2.cvtColor(still, cv2.COLOR_RGB2GRAY), cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)) > 0.5
    )


def test_the_subject_is_sharpened_and_the_background_softened(run_step):
    photo = skdata.astronaut()
    (out_path,) = run_step(photo, "{op: depth_cues, input: a, contrast: 0, shadows: 0}")
    out = load(out_path)
    subject = subject_matte(photo) > 0.9
    background = cv2.erode((~subject).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0

    def energy(img, where):
        lap = cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)
        return float((lap[where] ** 2).mean())

    assert energy(out, subject) > 1.3 * energy(photo, subject)
    assert energy(out, background) < 0.8 * energy(photo, background)


def test_all_cues_off_is_the_identity(run_step):
    photo = skdata.coffee()
    step = "{op: depth_cues, input: a, contrast: 0, shadows: 0, sharpen: 0, background_blur: 0}"
    (out_path,) = run_step(photo, step)
    assert np.array_equal(load(out_path), photo)


def test_depth_cues_add_no_grain_in_flat_areas():
    """A grainy flat gradient (a poster's sky): the noise the technical gate
    measures must not rise, and the flat area's own pixel spread stays put."""
    from routeyard.checks.technical import noise_sigma
    from routeyard.ops.depth import DepthCuesParams, enhance

    ys, xs = np.mgrid[0:320, 0:480].astype(np.float32)
    flat = np.dstack([120 + 60 * xs / 480, 140 + 0 * xs, 200 - 60 * ys / 320])
    grainy = np.clip(flat + np.random.default_rng(3).normal(0, 3, flat.shape), 0, 255).astype(
        np.uint8
    )
    out = enhance(grainy, DepthCuesParams(focus="none"))  # sharpen everywhere: the hard case
    assert noise_sigma(out) <= noise_sigma(grainy) * 1.1

    def grain(im):  # the luminance grain: L* above 2 px
        lum = cv2.cvtColor(im, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        return (lum - cv2.GaussianBlur(lum, (0, 0), 2)).std()

    assert grain(out) <= grain(grainy) * 1.1
    # and the cues did something: the washed-out range is stretched
    assert np.ptp(cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0]) > 1.5 * np.ptp(
        cv2.cvtColor(grainy, cv2.COLOR_RGB2LAB)[..., 0]
    )
