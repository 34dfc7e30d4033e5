"""remove_background: a synthetic subject is cut out exactly; the astronaut is kept."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data as skdata

from routeyard.media.matte import detect_faces
from tests.ops.conftest import load


def synthetic():
    """A textured ellipse (coffee photo) on a textured brick wall, and its true mask."""
    wall = cv2.resize(skdata.brick(), (480, 360))
    bg = np.dstack([wall, (wall * 0.8).astype(np.uint8), (wall * 0.6).astype(np.uint8)])
    fg = cv2.resize(skdata.coffee(), (480, 360))
    truth = np.zeros((360, 480), np.uint8)
    cv2.ellipse(truth, (260, 190), (110, 140), 0, 0, 360, 1, -1)
    return np.where(truth[..., None] > 0, fg, bg), truth > 0


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_synthetic_subject_mask_iou(run_step):
    image, truth = synthetic()
    cutout_path, mask_path = run_step(image, "{op: remove_background, input: a}")
    mask = load(mask_path) > 127
    assert iou(mask, truth) >= 0.9
    cutout = load(cutout_path)
    assert cutout.shape == (360, 480, 4)
    assert np.array_equal(cutout[..., :3], image)  # colours untouched; only alpha is added
    assert np.array_equal(cutout[..., 3], load(mask_path))


def test_astronaut_person_is_kept_and_the_wall_dropped(run_step):
    photo = skdata.astronaut()
    _, mask_path = run_step("sample:astronaut", "{op: remove_background, input: a}")
    alpha = load(mask_path).astype(float) / 255
    (x, y, w, h), *_ = detect_faces(photo)
    assert alpha[y : y + h, x : x + w].mean() > 0.95  # the face
    assert alpha[300:480, 60:200].mean() > 0.9  # the orange suit, below the face
    assert alpha[:60, 440:].mean() < 0.05  # the bare wall, top right
    assert 0.2 < (alpha > 0.5).mean() < 0.75


def test_box_hint_limits_the_subject(run_step):
    image, truth = synthetic()
    _, mask_path = run_step(image, "{op: remove_background, input: a, box: [140, 40, 380, 340]}")
    mask = load(mask_path) > 127
    assert not mask[:, :140].any() and not mask[:, 381:].any()
    assert iou(mask, truth) >= 0.9


def test_a_box_outside_the_image_names_the_parameter(fail_step):
    image, _ = synthetic()
    error = fail_step(image, "{op: remove_background, input: a, box: [600, 0, 700, 50]}")
    assert "'box'" in error and "outside the 480x360 image" in error


def test_a_flat_image_has_no_subject(fail_step):
    error = fail_step(np.full((120, 160, 3), 90, np.uint8), "{op: remove_background, input: a}")
    assert "no subject" in error and "box" in error
