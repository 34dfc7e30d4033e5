"""Unusual image inputs are converted the documented way, or refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from routeyard.media.pixels import load_mask, load_rgb
from routeyard.ops.base import OpInputError


def test_cmyk_paletted_greyscale_and_16bit_become_rgb(tmp_path):
    rgb = skdata.coffee()[:64, :64]
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "g.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(tmp_path / "s16.png")
    for name in ("c.jpg", "p.png", "g.png", "s16.png"):
        arr = load_rgb(tmp_path / name, where=f"step 'x' input {name}")
        assert arr.shape == (64, 64, 3) and arr.dtype == np.uint8
    wide = load_rgb(tmp_path / "s16.png", where="x")
    assert np.abs(wide[..., 0].astype(int) - rgb[..., 0]).max() <= 1  # scaled, not clipped
    cmyk = load_rgb(tmp_path / "c.jpg", where="x").astype(int)
    assert np.abs(cmyk - rgb).mean() < 12


def test_alpha_is_kept_only_when_asked(tmp_path):
    rgba = np.dstack([skdata.coffee()[:8, :8], np.full((8, 8), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert load_rgb(tmp_path / "a.png", where="x").shape == (8, 8, 3)
    assert load_rgb(tmp_path / "a.png", where="x", keep_alpha=True).shape == (8, 8, 4)


def test_animated_images_and_videos_are_refused(tmp_path):
    frames = [Image.new("RGB", (8, 8), (i * 60, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(
        OpInputError, match="step 'x', parameter 'input': animated image with 3 frames"
    ):
        load_rgb(tmp_path / "a.gif", where="step 'x', parameter 'input'")
    (tmp_path / "v.png").write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 32)
    with pytest.raises(OpInputError, match="video where an image is expected"):
        load_rgb(tmp_path / "v.png", where="x")


def test_mask_size_must_match(tmp_path):
    Image.new("L", (10, 5), 255).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png", where="x", size=(10, 5)).all()
    with pytest.raises(OpInputError, match="mask is 10x5 but the image is 20x20"):
        load_mask(tmp_path / "m.png", where="x", size=(20, 20))
