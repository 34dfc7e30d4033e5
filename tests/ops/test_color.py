"""color_match: a series with colour casts moves to the reference's colour profile."""

from __future__ import annotations

import numpy as np
from PIL import Image
from skimage import data as skdata

from routeyard import api
from routeyard.ops.color import lab_stats
from routeyard.pipeline.spec import parse
from routeyard.store import Store


def cast(rgb, gains):
    return np.clip(rgb.astype(float) * gains, 0, 255).astype(np.uint8)


def lab_distance(a, b):
    (ma, sa), (mb, sb) = lab_stats(a), lab_stats(b)
    return float(np.linalg.norm(ma - mb) + np.linalg.norm(sa - sb))


def test_series_colour_distance_to_the_reference_drops(home, tmp_path):
    photo = skdata.coffee()
    ref = photo[:, :300]
    series = [cast(photo[:, 300:], (1.25, 1.0, 0.75)), cast(photo[:, 250:550], (0.8, 0.95, 1.3))]
    Image.fromarray(ref).save(tmp_path / "ref.png")
    for i, img in enumerate(series):
        Image.fromarray(img).save(tmp_path / f"s{i}.png")
    spec = parse(
        "steps:\n  ref: {op: import, source: ref.png}\n"
        "  s0: {op: import, source: s0.png}\n  s1: {op: import, source: s1.png}\n"
        "  matched: {op: color_match, input: [ref, s0, s1]}\n"
        "  half: {op: color_match, input: [s0], reference: ref.png, strength: 0.5}\n",
        base_dir=tmp_path,
    )
    run = api.run_pipeline(spec, home=home)
    steps = {s["name"]: s for s in run["steps"]}
    assert len(steps["matched"]["outputs"]) == 2
    with Store.open(home) as store:
        matched = [np.asarray(Image.open(store.path_of(a))) for a in steps["matched"]["outputs"]]
        half = np.asarray(Image.open(store.path_of(steps["half"]["outputs"][0])))
    for before, after in zip(series, matched, strict=True):
        assert lab_distance(after, ref) < 0.3 * lab_distance(before, ref)
    d_before, d_half, d_full = (lab_distance(x, ref) for x in (series[0], half, matched[0]))
    assert d_full < d_half < d_before  # strength blends
