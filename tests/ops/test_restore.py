"""denoise and upscale measured against the clean photograph."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio as psnr
from skimage.metrics import structural_similarity as ssim

from routeyard import api
from routeyard.ops.restore import noise_sigma
from routeyard.pipeline.spec import parse
from routeyard.store import Store


def run_op(home, tmp_path, image, step):
    Image.fromarray(image).save(tmp_path / "in.png")
    spec = parse(f"steps:\n  a: {{op: import, source: in.png}}\n  b: {step}\n", base_dir=tmp_path)
    b = api.run_pipeline(spec, home=home)["steps"][1]
    assert b["status"] == "executed", b["error"]
    with Store.open(home) as store:
        return np.asarray(Image.open(store.path_of(b["outputs"][0])))


def test_noise_estimate_tracks_the_added_noise():
    clean = skdata.astronaut()
    rng = np.random.default_rng(0)
    for sigma in (10, 25):
        noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
        assert abs(noise_sigma(noisy) - sigma) < 0.35 * sigma
    assert noise_sigma(clean) < 8


def test_denoise_raises_psnr_against_the_clean_photo(home, tmp_path):
    clean = skdata.astronaut()[:256, :256]
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 20, clean.shape), 0, 255).astype(
        np.uint8
    )
    out = run_op(home, tmp_path, noisy, "{op: denoise, input: a}")
    before, after = psnr(clean, noisy), psnr(clean, out)
    assert after > before + 3, (before, after)


def test_denoise_leaves_a_clean_photo_nearly_alone(home, tmp_path):
    clean = skdata.coffee()[:200, :200]
    out = run_op(home, tmp_path, clean, "{op: denoise, input: a}")
    assert psnr(clean, out) > 30


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_beats_bicubic(home, tmp_path, scale):
    hr = skdata.astronaut()[: 256 // scale * scale, : 256 // scale * scale]
    h, w = hr.shape[:2]
    lr = cv2.resize(hr, (w // scale, h // scale), interpolation=cv2.INTER_AREA)
    out = run_op(home, tmp_path, lr, f"{{op: upscale, input: a, scale: {scale}}}")
    assert out.shape == hr.shape
    bicubic = cv2.resize(lr, (w, h), interpolation=cv2.INTER_CUBIC)
    assert psnr(hr, out) > psnr(hr, bicubic) + 0.3
    assert ssim(hr, out, channel_axis=2) > ssim(hr, bicubic, channel_axis=2)


def test_upscale_refuses_outputs_above_the_pixel_limit(home, tmp_path, monkeypatch):
    import routeyard.ops.restore as restore

    monkeypatch.setattr(restore, "MAX_IMAGE_PIXELS", 10_000)
    Image.fromarray(skdata.coffee()[:80, :80]).save(tmp_path / "in.png")
    spec = parse(
        "steps:\n  a: {op: import, source: in.png}\n  b: {op: upscale, input: a, scale: 4}\n",
        base_dir=tmp_path,
    )
    b = api.run_pipeline(spec, home=home)["steps"][1]
    assert b["status"] == "failed" and "parameter 'scale'" in b["error"] and "320x320" in b["error"]
