"""composite: alpha-weighted pixels at known places, over stills and video."""

from __future__ import annotations

import av
import numpy as np
from PIL import Image
from skimage import data as skdata

from routeyard import api
from routeyard.pipeline.spec import parse
from routeyard.store import Store
from tests.ops.conftest import load

BG = skdata.coffee()  # 600x400


def ramp_layer():
    """A 100x60 solid colour whose alpha steps through 0, 0.5 and 1 in three bands."""
    rgba = np.zeros((60, 100, 4), np.uint8)
    rgba[..., :3] = (20, 200, 90)
    rgba[:, 33:66, 3] = 128
    rgba[:, 66:, 3] = 255
    return rgba


def run(tmp_path, home, files: dict, steps: str):
    for name, arr in files.items():
        Image.fromarray(arr).save(tmp_path / name)
    result = api.run_pipeline(parse("steps:\n" + steps, base_dir=tmp_path), home=home)
    last = result["steps"][-1]
    assert last["status"] == "executed", last["error"]
    with Store.open(home) as store:
        return store.path_of(last["outputs"][0])


def test_alpha_weighted_pixels_over_a_still(tmp_path, home):
    steps = (
        "  s: {op: import, source: layer.png}\n"
        "  b: {op: import, source: bg.png}\n"
        "  c: {op: composite, input: [s, b], at: [200, 100], anchor: top-left, feather: 0}\n"
    )
    out = load(run(tmp_path, home, {"layer.png": ramp_layer(), "bg.png": BG}, steps)).astype(float)
    subject = np.array([20, 200, 90], float)
    y = 130
    assert np.abs(out[y, 215] - BG[y, 215]).max() <= 1  # alpha 0: background
    half = 128 / 255
    assert np.abs(out[y, 250] - (half * subject + (1 - half) * BG[y, 250])).max() <= 1.5
    assert np.abs(out[y, 290] - subject).max() <= 1  # alpha 1: subject
    untouched = np.ones(BG.shape[:2], bool)
    untouched[100:160, 200:300] = False
    assert np.array_equal(out[untouched], BG[untouched])


def test_feathering_softens_only_inside_the_edge(tmp_path, home):
    square = np.zeros((80, 80, 4), np.uint8)
    square[..., :3], square[..., 3] = 255, 255
    steps = (
        "  s: {op: import, source: sq.png}\n  b: {op: import, source: bg.png}\n"
        "  c: {op: composite, input: [s, b], at: [300, 200], feather: 8}\n"
    )
    bg = np.zeros((400, 600, 3), np.uint8)
    out = load(run(tmp_path, home, {"sq.png": square, "bg.png": bg}, steps))[..., 0].astype(int)
    row = out[200, 250:350]  # the square spans x 260..339
    assert row[:10].max() == 0  # nothing outside the silhouette: no halo
    assert row[40] == 255  # the middle is solid
    edge = row[10:20]
    assert 0 < edge[0] < 200 and np.all(np.diff(edge) >= 0)  # a ramp, not a step


def test_remove_background_output_is_read_whole(tmp_path, home):
    steps = (
        "  p: {op: import, source: 'sample:astronaut'}\n"
        "  cut: {op: remove_background, input: p}\n"
        "  b: {op: import, source: bg.png}\n"
        "  c: {op: composite, input: [cut, b], scale: 0.5, anchor: bottom, at: [0.5, 1.0]}\n"
    )
    out = load(run(tmp_path, home, {"bg.png": BG}, steps)).astype(int)
    assert out.shape == BG.shape
    assert np.array_equal(out[:50, :100], BG[:50, :100])  # far from the subject
    face = out[400 - 256 + 40 : 400 - 256 + 90, 300 - 20 : 300 + 20]  # the face, half size
    assert np.abs(face - BG[400 - 256 + 40 : 400 - 256 + 90, 280:320]).mean() > 30


def test_a_layer_over_a_video_is_painted_on_every_frame(tmp_path, home):
    clip = tmp_path / "bg.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"crf": "10"}
        for i in range(8):
            frame = np.full((120, 160, 3), 30 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    layer = np.zeros((40, 40, 4), np.uint8)
    layer[..., :3], layer[..., 3] = (255, 255, 255), 255
    steps = (
        "  s: {op: import, source: layer.png}\n  v: {op: import, source: bg.mp4}\n"
        "  c: {op: composite, input: [s, v], feather: 0}\n"
    )
    out = run(tmp_path, home, {"layer.png": layer}, steps)
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 8
    for i, f in enumerate(frames):
        assert f[60, 80].min() > 245  # the layer, every frame
        assert abs(int(f[10, 10, 0]) - 30 * i) <= 4  # the background's own frame
