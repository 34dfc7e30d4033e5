"""The minimal local ops, checked on real photographs (scikit-image's samples)."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from routeyard import api
from routeyard.pipeline.spec import parse
from routeyard.store import Store


def run(home, text, base_dir=None):
    return api.run_pipeline(parse(text, base_dir=base_dir), home=home)


def outputs(result):
    return {s["name"]: s["outputs"] for s in result["steps"]}


def test_import_file_stores_the_exact_bytes(home, tmp_path):
    src = tmp_path / "photo.jpg"
    Image.fromarray(skdata.chelsea()).save(src, quality=90)
    result = run(home, "steps:\n  a: {op: import, source: photo.jpg}\n", tmp_path)
    asset = outputs(result)["a"][0]
    assert asset == hashlib.sha256(src.read_bytes()).hexdigest()
    with Store.open(home) as store:
        rec = store.catalog.get_asset(asset)
        assert (rec.kind, rec.mime, rec.width, rec.height) == ("image", "image/jpeg", 451, 300)
        assert store.blobs.read(asset) == src.read_bytes()


def test_a_changed_source_file_is_reimported(home, tmp_path):
    src = tmp_path / "p.png"
    Image.fromarray(skdata.coffee()[:50, :50]).save(src)
    text = "steps:\n  a: {op: import, source: p.png}\n  b: {op: resize, input: a, width: 10}\n"
    first = run(home, text, tmp_path)
    assert {s["status"] for s in run(home, text, tmp_path)["steps"]} == {"cached"}
    Image.fromarray(skdata.coffee()[50:100, :50]).save(src)
    third = run(home, text, tmp_path)
    assert [s["status"] for s in third["steps"]] == ["executed", "executed"]
    assert outputs(third)["a"] != outputs(first)["a"]


def test_import_sample_decodes_to_the_photograph(home):
    asset = outputs(run(home, "steps:\n  a: {op: import, source: 'sample:astronaut'}\n"))["a"][0]
    with Store.open(home) as store:
        pixels = np.asarray(Image.open(io.BytesIO(store.blobs.read(asset))))
    assert np.array_equal(pixels, skdata.astronaut())


@pytest.mark.parametrize(
    "params, size",
    [
        ("width: 256", (256, 256)),  # astronaut is 512x512
        ("height: 100", (100, 100)),
        ("width: 300, height: 120", (300, 120)),
    ],
)
def test_resize_keeps_aspect_when_one_side_is_given(home, params, size):
    result = run(
        home,
        f"steps:\n  a: {{op: import, source: 'sample:astronaut'}}\n"
        f"  b: {{op: resize, input: a, {params}}}\n",
    )
    with Store.open(home) as store:
        rec = store.catalog.get_asset(outputs(result)["b"][0])
    assert (rec.width, rec.height) == size


def test_resize_is_a_faithful_downscale(home):
    result = run(
        home,
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  b: {op: resize, input: a, width: 200}\n",
    )
    with Store.open(home) as store:
        small = np.asarray(Image.open(store.path_of(outputs(result)["b"][0]))).astype(float)
    reference = np.asarray(
        Image.fromarray(skdata.coffee()).resize((200, 133), Image.Resampling.BOX)
    )
    assert small.shape == (133, 200, 3)
    assert np.abs(small - reference).mean() < 4.0  # same picture, not garbage


def test_select_by_index_and_out_of_range(home):
    text = (
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  v: {op: resize, input: a, variants: {width: [40, 50, 60]}}\n"
        "  pick: {op: select, input: v, index: IDX}\n"
    )
    ok = run(home, text.replace("IDX", "1"))
    assert outputs(ok)["pick"] == outputs(ok)["v[1]"]
    bad = run(home, text.replace("IDX", "5"))
    step = next(s for s in bad["steps"] if s["name"] == "pick")
    assert step["status"] == "failed" and "out of range" in step["error"]


def test_select_by_a_gate_score_picks_the_best(home):
    text = (
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  v: {op: resize, input: a, variants: {width: [40, 50, 60]}}\n"
    )
    first = run(home, text)
    ids = [outputs(first)[f"v[{i}]"][0] for i in range(3)]
    with Store.open(home) as store:
        for aid, score in zip(ids, [0.2, 0.9, 0.5], strict=True):
            store.catalog.record_gate(
                asset_id=aid, gate="temporal", score=score, passed=True, tags=[], details={}
            )
    best = run(home, text + "  pick: {op: select, input: v, by: temporal}\n")
    assert outputs(best)["pick"] == [ids[1]]
    worst = run(home, text + "  pick: {op: select, input: v, by: temporal, order: min}\n")
    assert outputs(worst)["pick"] == [ids[0]]


def test_select_computes_a_known_score_when_no_gate_recorded_it(home, tmp_path):
    from routeyard.checks.first_frame import readiness

    clean = skdata.astronaut()
    fog = (clean * 0.4 + 0.6 * 200).astype(np.uint8)
    Image.fromarray(clean).save(tmp_path / "clean.png")
    Image.fromarray(fog).save(tmp_path / "fog.png")
    text = (
        "steps:\n  a: {op: import, source: fog.png}\n  b: {op: import, source: clean.png}\n"
        "  pick: {op: select, input: [a, b], by: first_frame}\n"
    )
    result = run(home, text, base_dir=tmp_path)
    assert readiness(clean).score > readiness(fog).score
    assert outputs(result)["pick"] == outputs(result)["b"]


def test_select_by_an_unknown_score_names_the_choices(home):
    text = (
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  v: {op: resize, input: a, variants: {width: [40, 50]}}\n"
        "  pick: {op: select, input: v, by: sharpness}\n"
    )
    step = next(s for s in run(home, text)["steps"] if s["name"] == "pick")
    assert step["status"] == "failed"
    assert "no 'sharpness' score" in step["error"] and "first_frame" in step["error"]


@pytest.mark.parametrize(
    "by, message",
    [
        ("[first_frame, nope]", "parameter 'by': unknown gate 'nope'"),
        ("[first_frame, typography]", "parameter 'text': select by typography needs the text"),
    ],
)
def test_select_by_several_gates_names_a_bad_gate_or_a_missing_text(home, by, message):
    text = (
        "steps:\n  a: {op: import, source: 'sample:astronaut'}\n"
        "  b: {op: import, source: 'sample:coffee'}\n"
        f"  pick: {{op: select, input: [a, b], by: {by}}}\n"
    )
    result = run(home, text)
    steps = {s["name"]: s for s in result["steps"]}
    assert result["status"] == "failed"
    assert message in steps["pick"]["error"]
    assert steps["a"]["status"] == steps["b"]["status"] == "executed"  # nothing else lost
