"""Provenance travels with exported files (PNG text chunk, MP4 metadata) and holds no secrets."""

from __future__ import annotations

import io
import json

import av
import numpy as np
import pytest

from routeyard import api
from routeyard.credentials.record import embed, read_embedded
from routeyard.pipeline.spec import parse
from routeyard.secrets import redact
from routeyard.store import Store


def test_export_embeds_lineage_in_png_and_sidecar(home, tmp_path):
    spec = parse(
        "brief: {prompt: coffee ad}\nsteps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  b: {op: resize, input: a, width: 100, seed: 11}\n",
        base_dir=tmp_path,
    )
    run = api.run_pipeline(spec, home=home)
    sidecar = api.export_run(run["run"], tmp_path / "out", home=home)
    (entry,) = sidecar["deliverables"]
    path = tmp_path / "out" / entry["file"]
    embedded = read_embedded(path)
    assert embedded["asset"] == run["steps"][1]["outputs"][0]
    assert embedded["lineage"]["seed"] == 11 and embedded["lineage"]["prompt"] == "coffee ad"
    assert embedded["lineage"]["parents"][0]["params"] == {"source": "sample:coffee"}
    on_disk = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert on_disk["deliverables"][0]["lineage"] == embedded["lineage"]
    from PIL import Image

    with Store.open(home) as store:
        original = np.asarray(Image.open(store.path_of(embedded["asset"])))
    # the pixels change only by the invisible watermark
    shipped = np.asarray(Image.open(path)).astype(float)
    assert shipped.shape == original.shape
    assert 10 * np.log10(255**2 / np.mean((shipped - original) ** 2)) >= 40


def make_mp4(frames=6, size=32) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            img = np.full((size, size, 3), i * 30, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_mp4_metadata_round_trip(tmp_path):
    data = make_mp4()
    tagged = embed(data, "video/mp4", {"asset": "abc", "lineage": {"seed": 5}})
    path = tmp_path / "clip.mp4"
    path.write_bytes(tagged)
    assert read_embedded(path) == {"asset": "abc", "lineage": {"seed": 5}}
    with av.open(str(path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 6  # remuxed, not re-encoded or truncated


def test_secrets_never_reach_store_or_provenance(home, tmp_path, monkeypatch):
    secret = "fal-sk-THIS-IS-SECRET-123456"
    monkeypatch.setenv("FAL_KEY", secret)
    spec = parse(
        f"brief: {{prompt: 'uses {secret} by mistake'}}\nsteps:\n"
        f"  a: {{op: test.work, value: '{secret}'}}\n",
        base_dir=tmp_path,
    )
    run = api.run_pipeline(spec, home=home)
    assert run["status"] == "done"
    tree = api.lineage(run["steps"][0]["outputs"][0], home=home)
    assert secret not in json.dumps(tree) and "***" in tree["params"]["value"]
    api.export_run(run["run"], tmp_path / "out", home=home)
    # the op's own output is user content; routeyard's records around it hold no secret
    assert secret.encode() not in (tmp_path / "out" / "provenance.json").read_bytes()
    for db in home.glob("catalog.sqlite*"):  # the database and any WAL left beside it
        assert secret.encode() not in db.read_bytes()
    assert (home / "catalog.sqlite").stat().st_size > 0


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            {"api_key": "x", "nested": {"Authorization": "Bearer y"}},
            {"api_key": "***", "nested": {"Authorization": "***"}},
        ),
        (["ok", {"token": 1}], ["ok", {"token": "***"}]),
    ],
)
def test_redact_masks_secret_keys(value, expected):
    assert redact(value) == expected
