"""typeset: OCR reads back exactly the words set; fitting, boxes and errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import ImageColor
from skimage import data as skdata

from routeyard.errors import PipelineError
from routeyard.ops.fonts import find_font
from routeyard.ops.typeset import TypesetParams, fit, pixel_box
from routeyard.pipeline.spec import parse
from tests.ocr import needs_tesseract, normalise, read_text
from tests.ops.conftest import load

CASES = [
    ("coffee", {"text": "GRAND OPENING\\nFresh Coffee Daily 7AM"}),
    (
        "astronaut",
        {"text": "SPACE WEEK $49.99", "color": "#FFD400", "box": [0.05, 0.05, 0.95, 0.25]},
    ),
    (
        "chelsea",
        {
            "text": "Adopt a friend today at the shelter on Main Street",
            "align": "left",
            "box": [20, 20, 300, 200],
            "font": "DejaVu Serif Bold",
            "color": "#1E90FF",
        },
    ),
]


def step_text(params: dict) -> str:
    inner = ", ".join(
        f'{k}: "{v}"' if isinstance(v, str) else f"{k}: {v}" for k, v in params.items()
    )
    return f"{{op: typeset, input: a, {inner}}}"


@needs_tesseract
@pytest.mark.parametrize(("photo", "params"), CASES, ids=[c[0] for c in CASES])
def test_ocr_reads_the_exact_text(run_step, photo, params):
    image = getattr(skdata, photo)()
    (path,) = run_step(image, step_text(params))
    out = load(path)
    p = TypesetParams(**{**params, "text": params["text"].replace("\\n", "\n")})
    box = pixel_box(p.box, out.shape[1], out.shape[0])
    read = read_text(out, box, ImageColor.getrgb(p.color))
    assert normalise(read) == normalise(p.text), read


def test_text_stays_in_its_box_and_the_rest_is_untouched(run_step):
    image = skdata.coffee()
    (path,) = run_step(
        image, step_text({"text": "SALE", "box": [100, 100, 300, 160], "shadow": False})
    )
    out = load(path).astype(int)
    changed = np.abs(out - image).sum(axis=2) > 0
    ys, xs = np.nonzero(changed)
    assert changed.any()
    assert xs.min() >= 100 and xs.max() < 300 and ys.min() >= 100 and ys.max() < 160


def test_auto_size_grows_with_the_box():
    font = str(find_font("DejaVu Sans Bold"))
    p = TypesetParams(text="SUMMER DROP")
    small, large = fit(p.text, font, 200, 60, p), fit(p.text, font, 600, 200, p)
    assert small and large and large.size > 2 * small.size
    assert large.width <= 600 and large.height <= 200
    bigger = fit(p.text, font, 600, 200, p.model_copy(update={"size": large.size + 1}))
    assert bigger is None  # auto found the largest size that fits


def test_text_that_cannot_fit_names_the_parameter(fail_step):
    error = fail_step(
        skdata.coffee(),
        step_text({"text": "Unbelievably long headline words", "box": [0, 0, 60, 20]}),
    )
    assert (
        "parameter 'text'" in error
        and "does not fit the 60x20 box" in error
        and "min_size" in error
    )


def test_an_unknown_font_lists_some_that_exist(fail_step):
    error = fail_step(skdata.coffee(), step_text({"text": "HI", "font": "Comic Sands"}))
    assert "parameter 'font'" in error and "DejaVu" in error


def test_a_font_file_is_used(run_step, tmp_path):
    shutil.copy(find_font("DejaVu Serif"), tmp_path / "brand.ttf")
    serif = run_step(
        skdata.coffee(), step_text({"text": "Brand", "font_file": "brand.ttf", "shadow": False})
    )
    sans = run_step(skdata.coffee(), step_text({"text": "Brand", "shadow": False}))
    assert not np.array_equal(load(serif[0]), load(sans[0]))


def test_a_bad_colour_is_a_spec_error(tmp_path):
    text = "steps:\n  a: {op: import, source: 'sample:coffee'}\n  b: {op: typeset, input: a, text: X, color: '#12'}\n"
    with pytest.raises(PipelineError, match="color"):
        parse(text, base_dir=tmp_path)
