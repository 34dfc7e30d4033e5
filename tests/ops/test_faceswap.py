"""face_swap: the result's identity is the source's, by a face-embedding distance."""

from __future__ import annotations

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from routeyard.media import faces

pytestmark = pytest.mark.skipif(not faces.available(), reason="the faces extra is not installed")


def hopper():
    """Grace Hopper's portrait, a public-domain sample that ships inside matplotlib."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


def identity(rgb):
    found = faces.find_faces(rgb)
    assert found, "no face found"
    return faces.embedding(rgb, found[0])


def test_swapped_face_is_the_source_identity(run_step, tmp_path):
    target, source = skdata.astronaut(), hopper()
    Image.fromarray(source).save(tmp_path / "face.png")
    (path,) = run_step(target, "{op: face_swap, input: a, source: face.png}")
    out = np.asarray(Image.open(path))
    e_out, e_src, e_tgt = identity(out), identity(source), identity(target)
    to_source, to_target = np.linalg.norm(e_out - e_src), np.linalg.norm(e_out - e_tgt)
    assert np.linalg.norm(e_src - e_tgt) > 0.6  # two different people to begin with
    assert to_source < 0.6 < to_target, (to_source, to_target)
    # Only the face changed: the suit, the flag and the shuttle are the target's.
    far = np.ones(target.shape[:2], bool)
    far[:260, 120:330] = False
    assert np.abs(out[far].astype(int) - target[far]).max() == 0


def test_the_source_can_be_a_second_input(run_step, tmp_path):
    Image.fromarray(hopper()).save(tmp_path / "face.png")
    extra = "  donor: {op: import, source: face.png}\n"
    (path,) = run_step(skdata.astronaut(), "{op: face_swap, input: [a, donor]}", extra=extra)
    out = np.asarray(Image.open(path))
    assert np.linalg.norm(identity(out) - identity(hopper())) < 0.6


def test_no_face_in_the_target_is_named(fail_step, tmp_path):
    Image.fromarray(hopper()).save(tmp_path / "face.png")
    error = fail_step(skdata.coffee(), "{op: face_swap, input: a, source: face.png}")
    assert "no frontal face found in the target" in error


def test_models_and_licences_are_recorded():
    assert all("public domain" in v or "Boost" in v for v in faces.MODEL_LICENCES.values())
    assert not any("68" in k for k in faces.MODEL_LICENCES)
