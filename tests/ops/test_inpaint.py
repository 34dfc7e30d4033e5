"""inpaint / remove_object on a real photograph: a painted blob is removed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from routeyard import api
from routeyard.pipeline.spec import parse
from routeyard.store import Store


@pytest.fixture
def blotted(tmp_path):
    """The coffee photo with an opaque red blob painted on it, and the blob's mask."""
    clean = skdata.coffee()
    yy, xx = np.mgrid[: clean.shape[0], : clean.shape[1]]
    blob = (yy - 300) ** 2 + (xx - 480) ** 2 < 18**2
    dirty = clean.copy()
    dirty[blob] = (255, 0, 0)
    Image.fromarray(dirty).save(tmp_path / "dirty.png")
    Image.fromarray((blob * 255).astype(np.uint8)).save(tmp_path / "blob.png")
    return clean, dirty, blob


def run_and_load(home, tmp_path, step):
    spec = parse(
        f"steps:\n  a: {{op: import, source: dirty.png}}\n  b: {step}\n", base_dir=tmp_path
    )
    run = api.run_pipeline(spec, home=home)
    b = run["steps"][1]
    assert b["status"] == "executed", b["error"]
    with Store.open(home) as store:
        return np.asarray(Image.open(store.path_of(b["outputs"][0]))).astype(float)


@pytest.mark.parametrize(
    "step",
    [
        "{op: inpaint, input: a, mask: blob.png}",
        "{op: inpaint, input: a, mask: blob.png, method: ns}",
        "{op: remove_object, input: a, box: [460, 280, 500, 320]}",
        "{op: remove_object, input: a, polygon: [[462, 282], [498, 282], [498, 318], [462, 318]]}",
    ],
)
def test_the_blob_is_gone_and_the_rest_untouched(home, tmp_path, blotted, step):
    clean, dirty, blob = blotted
    out = run_and_load(home, tmp_path, step)
    before = np.abs(dirty[blob].astype(float) - clean[blob]).mean()
    after = np.abs(out[blob] - clean[blob]).mean()
    assert after < before / 3, (before, after)  # exact masks reach ~5x, boxes ~3.7x
    far = np.ones_like(blob)
    far[250:350, 430:530] = False
    assert np.array_equal(out[far], dirty[far])  # a surgical fix: nothing else changes


@pytest.mark.parametrize(
    "step, message",
    [
        (
            "{op: inpaint, input: a, box: [5000, 5000, 5100, 5100]}",
            "lies outside the 600x400 image",
        ),
        ("{op: inpaint, input: a, mask: empty.png}", "selects no pixels"),
        ("{op: inpaint, input: a, mask: small.png}", "mask is 10x10 but the image is 600x400"),
        ("{op: inpaint, input: a, box: [0, 0, 600, 400]}", "covers the whole image"),
    ],
)
def test_bad_regions_fail_the_step_clearly(home, tmp_path, blotted, step, message):
    Image.new("L", (600, 400), 0).save(tmp_path / "empty.png")
    Image.new("L", (10, 10), 255).save(tmp_path / "small.png")
    spec = parse(
        f"steps:\n  a: {{op: import, source: dirty.png}}\n  b: {step}\n", base_dir=tmp_path
    )
    b = api.run_pipeline(spec, home=home)["steps"][1]
    assert b["status"] == "failed" and message in b["error"] and "step 'b'" in b["error"]


def test_no_region_is_a_validation_error(tmp_path, blotted):
    from routeyard.errors import PipelineError

    with pytest.raises(PipelineError, match="give the region to fill"):
        parse(
            "steps:\n  a: {op: import, source: dirty.png}\n  b: {op: inpaint, input: a}\n",
            base_dir=tmp_path,
        )


def test_the_texture_fill_has_the_photographs_grain_and_telea_smears():
    """Hidden boxes on real photographs: the default fill keeps the texture's
    spread (Laplacian) near the true pixels' and is no further from them."""
    import cv2
    from skimage import data as sk

    from routeyard.ops.inpaint import fill

    def lap(rgb):
        return cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)

    ratios, errors = {"texture": [], "telea": []}, {"texture": [], "telea": []}
    for img, (x, y) in (
        (sk.chelsea(), (300, 60)),
        (sk.coffee(), (80, 300)),
        (sk.astronaut(), (60, 380)),
    ):
        region = np.zeros(img.shape[:2], bool)
        region[y : y + 44, x : x + 52] = True
        for method in ratios:
            out = fill(img, region, method, 5)
            assert np.array_equal(out[~region], img[~region])  # nothing else changes
            ratios[method].append(lap(out)[region].std() / lap(img)[region].std())
            errors[method].append(np.abs(out[region].astype(float) - img[region]).mean())
    assert min(ratios["texture"]) > 0.5 > max(ratios["telea"])
    assert np.mean(errors["texture"]) <= np.mean(errors["telea"]) * 1.15
