"""Typography on video: sampled frames, the worst stretch, glyph consistency.

The clips are made by the product's own ops: a headline typeset *before* a
parallax move (the old offline example, which tears the text where the
subject's layer cuts through it) and the same headline composited rigidly
*after* the move (the current one). Both are read by the typography gate
and by ``select`` over several gates.
"""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from routeyard import api
from routeyard.checks import check, threshold_for
from routeyard.ops.fonts import find_font
from routeyard.pipeline.spec import parse
from routeyard.store import Store
from tests.ocr import needs_tesseract

pytestmark = needs_tesseract

HEADLINE = "SPACE WEEK"
BOX = "[0.06, 0.80, 0.94, 0.96]"
CLIP = "seconds: 2, fps: 12, width: 384, height: 384"

PLAN = f"""
brief: {{prompt: "an astronaut, headline {HEADLINE}", text: "{HEADLINE}", fallback: local}}
steps:
  base:   {{op: import, source: "sample:astronaut"}}
  small:  {{op: resize, input: base, width: 384}}
  titled: {{op: typeset, input: small, text: "{HEADLINE}", color: "#FFD400", box: {BOX}}}
  torn:   {{op: animate, input: titled, {CLIP}, camera: dolly-in}}
  moved:  {{op: animate, input: small, {CLIP}, camera: dolly-in}}
  layer:  {{op: typeset, input: small, text: "{HEADLINE}", color: "#FFD400", layer: true, box: {BOX}}}
  rigid:  {{op: composite, input: [layer, moved]}}
  pick:   {{op: select, input: [torn, rigid], by: [temporal, typography], text: "{HEADLINE}"}}
"""


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    result = api.run_pipeline(parse(PLAN), home=home)
    steps = {s["name"]: s for s in result["steps"]}
    paths = {}
    with Store.open(home) as store:
        for name in ("torn", "rigid"):
            asset = steps[name]["outputs"][0]
            paths[name] = home.parent / f"{name}.mp4"
            paths[name].write_bytes(store.blobs.read(asset))
    return paths, steps


def test_text_torn_by_the_parallax_move_fails_and_rigid_text_passes(clips):
    paths, _ = clips
    torn = check("typography", paths["torn"], text=HEADLINE)
    rigid = check("typography", paths["rigid"], text=HEADLINE)
    assert rigid.passed and rigid.score >= 0.98, rigid.message
    assert not torn.passed, torn.message
    assert torn.score < 0.9
    # Every 6th frame and the last (24 frames at 12 fps) were read.
    assert rigid.details["frames_sampled"] == [0, 6, 12, 18, 23]
    assert torn.details["frames_sampled"] == [0, 6, 12, 18, 23]
    # The curve starts legible and falls as the move tears the letters apart.
    curve = torn.series
    assert curve[0] >= 0.95 and min(curve[2:]) < 0.9
    assert rigid.details["glyph_consistency"] >= 0.95 > torn.details["glyph_consistency"]


def test_select_by_several_gates_excludes_the_variant_whose_text_tears(clips):
    paths, steps = clips
    torn_id, rigid_id = steps["torn"]["outputs"][0], steps["rigid"]["outputs"][0]
    assert torn_id != rigid_id
    assert steps["pick"]["outputs"] == [rigid_id]
    # The torn clip is as steady as the rigid one: temporal alone cannot exclude it.
    for name in ("torn", "rigid"):
        assert check("temporal", paths[name]).score >= threshold_for("temporal")


def test_text_garbled_mid_clip_fails_at_the_frames_it_is_wrong(tmp_path):
    face = ImageFont.truetype(str(find_font("DejaVu Sans Bold")), 30)
    path = tmp_path / "garble.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width = stream.height = 320
        stream.pix_fmt = "yuv420p"
        for i in range(36):
            img = Image.new("RGB", (320, 320), (40, 70, 120))
            draw = ImageDraw.Draw(img)
            word = "SUMMER DROP" if i < 18 else "SUMMFR DRQP"
            draw.text((160, 160), word, font=face, fill=(255, 255, 255), anchor="mm")
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.asarray(img), format="rgb24")
            ):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    result = check("typography", path, text="SUMMER DROP")
    assert not result.passed
    assert result.details["worst_frame"] >= 18
    assert result.series[:3] == pytest.approx([1.0, 1.0, 1.0], abs=0.02)
    # The first frame reads exactly: a best-frame score would have passed this clip.
    assert result.details["best_frame"] == 0
