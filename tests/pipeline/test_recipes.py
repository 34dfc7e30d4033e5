"""Recipes: a brief alone is expanded into an ordinary plan, run like one,
and written out as an editable pipeline that hits the same cache (issue 18)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routeyard import api
from routeyard.brief import Brief
from routeyard.errors import PipelineError
from routeyard.media import probe_file
from routeyard.media.video import read_frames
from routeyard.pipeline import recipes
from tests.ocr import needs_tesseract, normalise, read_text

BRIEF = """\
brief:
  prompt: "An astronaut portrait for a space-week post"
  text: "SPACE WEEK"
  style: photoreal
  motion: gentle
  source: "sample:astronaut"
  fixes: [{remove: [274, 334, 332, 366]}]
  deliver: {video: {seconds: 2, fps: 12, aspect: "1:1"}}  # short: a test
"""


def test_the_social_video_recipe_expands_a_brief_into_the_designed_chain():
    brief = Brief(prompt="p", text="HI", motion="cinematic", source="photo.png",
                  fixes=[{"remove": [1, 2, 30, 40]}, {"inpaint": {"box": [5, 5, 9, 9], "prompt": "sky"}}],
                  deliver={"image": {"width": 640, "height": 640},
                           "video": {"seconds": 5, "fps": 24, "aspect": "9:16"}})  # fmt: skip
    doc = recipes.expand(brief)
    steps = doc["steps"]
    assert doc["recipe"] == "social-video"
    assert list(steps) == ["base", "fit", "cues", "fix1", "fix2", "motion", "best", "final",
                           "title", "titled", "still", "out"]  # fmt: skip
    assert steps["base"] == {"op": "import", "source": "photo.png"}
    assert steps["fit"]["width"] == steps["fit"]["height"] == 640
    assert steps["cues"]["gate"] == {"check": "first_frame", "on_fail": "repair: depth_cues"}
    assert steps["fix1"] == {"op": "remove_object", "input": "cues", "box": [1, 2, 30, 40]}
    assert steps["fix2"]["op"] == "inpaint" and steps["fix2"]["input"] == "fix1"
    motion = steps["motion"]
    assert motion["input"] == "fix2" and motion["variants"]["camera"] == [
        "dolly-in",
        "orbit",
        "pan-left",
    ]
    # the deliverables are the render's parameters: 5 s at 24 fps, 9:16
    assert (motion["seconds"], motion["fps"], motion["width"], motion["height"]) == (
        5,
        24,
        640,
        1138,
    )
    # the exact text is a rigid layer over the chosen video, never baked in before motion
    assert steps["title"]["layer"] is True and steps["title"]["input"] == "fix2"
    assert steps["final"] == {"op": "conform", "input": "best", "seconds": 5, "fps": 24,
                              "width": 640, "height": 1138}  # fmt: skip
    assert steps["titled"] == {"op": "composite", "input": ["title", "final"]}
    assert steps["out"]["input"] == ["still", "titled"]


def test_the_still_recipe_and_a_generated_base():
    doc = recipes.expand(Brief(prompt="a cup", text="SALE", motion="none",
                               deliver={"image": {"width": 1024, "height": 1024}}))  # fmt: skip
    steps = doc["steps"]
    assert doc["recipe"] == "still" and "motion" not in steps
    assert steps["base"]["op"] == "generate" and steps["base"]["width"] == 1024
    # a headline is typeset over a clean plate: the base is not asked to render it
    assert "gate" not in steps["base"]
    # whatever size the model returns, the still is delivered at the asked one
    assert steps["fit"] == {"op": "resize", "input": "base", "width": 1024, "height": 1024}
    assert steps["still"]["input"] == "fit" and steps["out"]["input"] == ["still"]
    # a scene that shows the text (a sign that reads it) is judged on the base, rerouted
    for prompt in ('a cup by a sign that reads "SALE"', "a chalkboard that says SALE"):
        base = recipes.expand(Brief(prompt=prompt, text="SALE", motion="none"))["steps"]["base"]
        assert base["gate"] == {"check": "typography", "on_fail": "reroute"}, prompt


def test_an_unknown_recipe_or_fix_is_one_clear_error(write, home):
    with pytest.raises(PipelineError, match="unknown recipe 'reels'") as err:
        recipes.expand(Brief(prompt="p", recipe="reels"))
    assert "social-video" in err.value.hint and "still" in err.value.hint
    with pytest.raises(PipelineError, match=r"fixes\[0\]': unknown fix 'blur'"):
        recipes.expand(Brief(prompt="p", source="x.png", fixes=[{"blur": [1, 2, 3, 4]}]))
    bad = write("brief: {prompt: p, source: sample:astronaut, recipe: nope}\n", name="b.yaml")
    with pytest.raises(PipelineError, match="unknown recipe 'nope'"):
        api.run_pipeline(bad)


@needs_tesseract
def test_a_brief_runs_offline_and_its_plan_round_trips_through_the_cache(write, home, tmp_path):
    path = write(BRIEF, name="space.yaml")
    run = api.run_pipeline(path)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    steps = {s["name"]: s for s in run["steps"]}
    assert {"cues", "fix1", "motion[0]", "best", "final", "titled", "still", "out"} <= set(steps)
    gates = {(s["name"], g["gate"]): g for s in run["steps"] for g in s["gates"]}
    assert gates[("cues", "first_frame")]["passed"]
    temporal = [g for (name, gate), g in gates.items() if gate == "temporal"]
    assert len(temporal) == 3  # every variant judged; keep_best carries the steadiest on

    out = Path(path).parent / "out"
    # readable names (<brief>-<format>), ordinary permissions, one current set
    assert sorted(p.name for p in out.iterdir()) == [
        "provenance.json", "space-1x1.mp4", "space-1x1.png"
    ]  # fmt: skip
    video = out / "space-1x1.mp4"
    assert video.stat().st_mode & 0o044 == 0o044  # readable by the group and others
    facts = probe_file(video)
    assert (facts.width, facts.height) == (720, 720)
    assert facts.frames == 24 and facts.fps == pytest.approx(12)  # exactly 2 s at 12 fps
    frames = list(read_frames(video, where="test"))
    box = (int(0.06 * 720), int(0.70 * 720), int(0.94 * 720), int(0.94 * 720))
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):  # rigid on every sampled frame
        assert normalise(read_text(np.asarray(frame), box, (255, 212, 0))) == "SPACEWEEK"

    written = Path(path).parent / "space-pipeline.yaml"
    api.write_plan(path, written)
    again = api.run_pipeline(written)
    assert again["status"] == "done"
    # nothing recomputed: every step is a cache hit (variants the gate rejected stay rejected)
    assert {s["status"] for s in again["steps"]} <= {"cached", "rejected"}
    with pytest.raises(PipelineError, match="exists; not overwritten"):
        api.write_plan(path, written)


def test_the_offline_brief_example_expands_and_routes_without_keys(monkeypatch):
    """examples/briefs/space-week.yaml: every expanded step has a local route."""
    for var in ("FAL_KEY", "REPLICATE_API_TOKEN", "BFL_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
                "KLING_ACCESS_KEY", "ARK_API_KEY", "OPENAI_API_KEY"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    plan = api.plan_dry_run("examples/briefs/space-week.yaml")
    names = [s["step"] for s in plan["steps"]]
    assert {"fix1", "frame-9x16", "motion-9x16[0]", "motion-1x1[0]"} <= set(names)
    now = {s["step"]: s["with_current_keys"]["model"] for s in plan["steps"]}
    assert now["motion-9x16[0]"] == "local/animate" and now["fix1"] == "local/remove_object"


def test_a_brief_that_must_generate_without_keys_names_what_to_set(write, home, monkeypatch):
    for var in ("FAL_KEY", "REPLICATE_API_TOKEN", "BFL_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
                "OPENAI_API_KEY", "ARK_API_KEY"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    path = write("brief: {prompt: a cup, text: SALE, motion: none}\n", name="cup.yaml")
    with pytest.raises(PipelineError) as err:
        api.run_pipeline(path)
    assert "no model can run 'generate'" in err.value.message
    assert "source:" in err.value.hint and "provider key" in err.value.hint
    assert not (Path(path).parent / "out").exists()  # nothing ran


def test_conform_trims_pads_and_reframes_to_the_exact_ask(write, home):
    """A hosted tier's 6 s, 1280x720 clip delivered as the asked 5 s, 12 fps, 9:16."""
    path = write(
        "steps:\n"
        "  base: {op: import, source: 'sample:astronaut'}\n"
        "  clip: {op: animate, input: base, model: local, seconds: 1.5, fps: 8, width: 128,"
        " height: 72}\n"
        "  long: {op: conform, input: clip, seconds: 2, fps: 12, width: 72, height: 128}\n"
        "  short: {op: conform, input: clip, seconds: 1, fps: 8}\n",
        name="conform.yaml",
    )
    run = api.run_pipeline(path)
    assert run["status"] == "done"
    steps = {s["name"]: s for s in run["steps"]}
    from routeyard.store import Store

    with Store.open(home) as store:
        long = store.catalog.get_asset(steps["long"]["outputs"][0])
        short = store.catalog.get_asset(steps["short"]["outputs"][0])
    assert (long.width, long.height, long.frames) == (72, 128, 24)
    assert short.frames == 8 and (short.width, short.height) == (128, 72)
    assert any("padded" in w and "to the asked 2 s" in w for w in steps["long"]["warnings"])
    assert any("reframed 128x72 to 72x128" in w for w in steps["long"]["warnings"])
    assert any("trimmed 1.50 s to the asked 1 s" in w for w in steps["short"]["warnings"])


def test_the_run_summary_reads_like_a_delivery_report(write, home):
    path = write(BRIEF, name="report.yaml")
    run = api.run_pipeline(path)
    delivery = {Path(d["file"]).name: d for d in run["delivery"] if d["file"]}
    assert set(delivery) == {"report-1x1.png", "report-1x1.mp4"}
    video = delivery["report-1x1.mp4"]
    assert (video["kind"], video["width"], video["height"], video["fps"]) == ("video", 720, 720, 12)
    assert video["seconds"] == pytest.approx(2.0, abs=0.05)
    judged = {(g["step"], g["gate"]) for g in video["gates"]}
    assert ("cues", "first_frame") in judged and any(g == "temporal" for _, g in judged)
    assert video["cost_usd"] == 0 and video["seconds_spent"] > 0


FORMATS = """\
brief:
  prompt: "An astronaut portrait for a space-week post"
  text: "SPACE WEEK"
  motion: gentle
  source: "sample:astronaut"
  deliver:
    image: {width: 320, height: 320}
    video: {seconds: 1, fps: 12}
    formats: ["9:16", "1:1", "16:9"]
"""


def test_formats_expand_into_one_set_each_reframed_from_the_same_base():
    brief = Brief.model_validate(__import__("yaml").safe_load(FORMATS)["brief"])
    steps = recipes.expand(brief, stem="sw")["steps"]
    # the base chain once; per format its own reframe, motion, gate, select, title
    assert [s for s in steps if s.startswith(("base", "fit", "cues"))] == ["base", "fit", "cues"]
    # the base is square already: nothing to reframe, only the exact size
    assert steps["frame-1x1"] == {"op": "resize", "input": "cues", "width": 320, "height": 320}
    assert steps["frame-9x16"] == {"op": "reframe", "input": "cues", "aspect": "9:16",
                                   "width": 320, "height": 568}  # fmt: skip
    assert steps["motion-9x16"]["input"] == "frame-9x16"
    assert steps["motion-1x1"]["input"] == "frame-1x1"
    assert steps["titled-16x9"]["input"] == ["title-16x9", "final-16x9"]
    assert steps["title-16x9"]["input"] == "frame-16x9"
    assert (steps["final-16x9"]["width"], steps["final-16x9"]["height"]) == (568, 320)
    out = steps["out"]
    assert out["input"] == ["still-9x16", "titled-9x16", "still-1x1", "titled-1x1",
                            "still-16x9", "titled-16x9"]  # fmt: skip
    assert out["names"] == ["sw-9x16", "sw-9x16", "sw-1x1", "sw-1x1", "sw-16x9", "sw-16x9"]


@pytest.mark.parametrize(
    "deliver, message",
    [
        ({"formats": ["9:16", "5:1"]}, r"deliver.formats\[1\]': 5:1 is outside"),
        ({"formats": ["9:16"], "video": {"aspect": "16:9"}}, "16:9 contradicts deliver.formats"),
        ({"formats": ["1:1", "1:1"]}, "names a format twice"),
    ],
)
def test_contradictory_deliverables_are_one_clear_error(deliver, message):
    brief = Brief(prompt="p", source="x.png", motion="gentle", deliver=deliver)
    with pytest.raises(PipelineError, match=message):
        recipes.expand(brief)


@needs_tesseract
def test_every_format_is_delivered_exactly_and_reads_the_text_on_every_sampled_frame(write, home):
    path = write(FORMATS, name="sw.yaml")
    run = api.run_pipeline(path)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    out = Path(path).parent / "out"
    sizes = {"9x16": (320, 568), "1x1": (320, 320), "16x9": (568, 320)}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["provenance.json"] + [f"sw-{f}.{x}" for f in sizes for x in ("png", "mp4")]
    )
    steps = {s["name"]: s for s in run["steps"]}
    for label, (w, h) in sizes.items():
        still, video = probe_file(out / f"sw-{label}.png"), probe_file(out / f"sw-{label}.mp4")
        assert (still.width, still.height) == (w, h)
        assert (video.width, video.height) == (w, h)
        assert video.frames == 12 and video.fps == pytest.approx(12)  # exactly 1 s at 12 fps
        # each format animated and judged on its own
        assert any(g["gate"] == "temporal" for s in run["steps"] if s["name"].startswith(
            f"motion-{label}") for g in s["gates"])  # fmt: skip
        frames = list(read_frames(out / f"sw-{label}.mp4", where="test"))
        box = (int(0.06 * w), int(0.70 * h), int(0.94 * w), int(0.94 * h))
        for i in sorted({*range(0, len(frames), 6), len(frames) - 1}):
            assert normalise(read_text(np.asarray(frames[i]), box, (255, 212, 0))) == "SPACEWEEK", (
                label, i)  # fmt: skip
    # the 9:16 story is cut around the astronaut's face, not invented plate
    from routeyard.media.matte import detect_faces
    from routeyard.media.pixels import load_rgb
    from routeyard.store import Store

    with Store.open(home) as store:
        frame = store.catalog.get_asset(steps["frame-9x16"]["outputs"][0])
        base = store.path_of(steps["cues"]["outputs"][0])
    x0, _, cw, ch = frame.meta["window"]
    assert not frame.meta["extended"] and (cw, ch) == (180, 320)
    fx, _, fw, _ = detect_faces(load_rgb(base, where="test"))[0]
    assert x0 <= fx and fx + fw <= x0 + cw


def test_a_character_reference_is_checked_after_the_base_and_after_motion(write, home, tmp_path):
    """The base's face is not the character's: the identity gate fails, face_swap
    repairs it, and the delivered video still shows the character."""
    from matplotlib import cbook
    from PIL import Image

    from routeyard.media import faces

    if not faces.available():
        pytest.skip("the faces extra is not installed")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = Image.open(f).convert("RGB")
    path = write(
        "brief:\n  prompt: a portrait\n  motion: gentle\n  source: 'sample:astronaut'\n"
        "  references: {character: hopper.png}\n"
        "  deliver: {image: {width: 320, height: 320}, video: {seconds: 1, fps: 12, aspect: '1:1'}}\n",
        name="cast.yaml",
    )
    hopper.save(Path(path).parent / "hopper.png")
    steps = recipes.expand(Brief(source="x.png", references={"character": "c.png"}))["steps"]
    assert steps["face"]["gate"] == {"check": "identity", "params": {"ref": "c.png"},
                                     "on_fail": {"repair": "face_swap", "source": "c.png"}}  # fmt: skip
    assert steps["same"]["input"] == "best" and steps["final"]["input"] == "same"

    run = api.run_pipeline(path)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    gates = [(s["name"], g["gate"], g["passed"]) for s in run["steps"] for g in s["gates"]]
    assert ("face", "identity", False) in gates  # the astronaut is not the character
    assert any(n.startswith("face~face_swap") and ok for n, g, ok in gates if g == "identity")
    assert ("same", "identity", True) in gates  # and the face held through motion

    def descriptor(rgb):
        return faces.embedding(rgb, faces.find_faces(rgb)[0])

    video = Path(path).parent / "out" / "cast-1x1.mp4"
    frames = list(read_frames(video, where="test"))
    want = descriptor(np.asarray(hopper))
    for frame in (frames[0], frames[-1]):
        assert np.linalg.norm(descriptor(np.asarray(frame)) - want) < 0.6


@pytest.mark.parametrize(
    "fields, message",
    [
        ("  references: {character: nobody.png}\n",
         r"brief field 'references.character': file .*nobody.png not found"),
        ("  fixes: [{remove: [600, 600, 700, 700]}]\n",
         r"brief field 'fixes\[0\].remove': box \[600, 600, 700, 700\] lies outside the 512x512"),
        ("  fixes: [{remove: {mask: gone.png}}]\n", r"'fixes\[0\].remove.mask': file .*gone.png"),
    ],
)  # fmt: skip
def test_a_bad_brief_is_one_line_before_anything_runs(write, home, fields, message):
    still = "brief:\n  prompt: p\n  motion: none\n  source: 'sample:astronaut'\n"
    earlier = api.run_pipeline(write(still, name="ok.yaml"))
    bad = write(still + fields, name="bad.yaml")
    for attempt in (lambda: api.run_pipeline(bad), lambda: api.plan_dry_run(bad)):
        with pytest.raises(PipelineError, match=message) as err:
            attempt()
        assert "\n" not in str(err.value) and str(err.value).startswith(str(bad))
    # nothing ran, and what was stored before is intact
    assert [r["run"] for r in api.list_runs(home=home)] == [earlier["run"]]
    assert api.verify_store(home=home).ok


def test_a_fix_box_follows_the_base_when_it_is_resized():
    brief = Brief(source="sample:astronaut", motion="none", fixes=[{"remove": [274, 334, 332, 366]}],
                  deliver={"image": {"width": 1024, "height": 1024}})  # fmt: skip
    steps = recipes.expand(brief, source_size=(512, 512))["steps"]
    assert steps["fix1"] == {"op": "remove_object", "input": "fit", "box": [548, 668, 664, 732]}


def test_a_product_reference_is_composited_and_kept_whole_in_every_format(write, home):
    from PIL import Image, ImageDraw

    path = write(
        "brief:\n  prompt: a product shot\n  motion: none\n  source: 'sample:chelsea'\n"
        "  references: {product: bottle.png}\n"
        "  deliver: {image: {width: 480, height: 320}, formats: ['9:16', '1:1', '3:2']}\n",
        name="shot.yaml",
    )
    bottle = Image.new("RGBA", (120, 200), (0, 0, 0, 0))
    ImageDraw.Draw(bottle).rounded_rectangle((10, 10, 110, 190), 20, fill=(230, 20, 30, 255))
    bottle.save(Path(path).parent / "bottle.png")
    steps = recipes.expand_file(Brief(**__import__("yaml").safe_load(Path(path).read_text())["brief"]),
                                {}, Path(path))["steps"]  # fmt: skip
    assert "cutout" not in steps  # its PNG is transparent already
    assert (
        steps["placed"]["input"] == ["product", "fit"] and steps["frame-9x16"]["input"] == "placed"
    )
    assert steps["frame-9x16"]["keep"] == steps["frame-1x1"]["keep"]

    run = api.run_pipeline(path)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    out = Path(path).parent / "out"
    for label in ("9x16", "1x1", "3x2"):
        rgb = np.asarray(Image.open(out / f"shot-{label}.png").convert("RGB")).astype(int)
        red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 90)
        ys, xs = np.nonzero(red)
        h, w = red.shape
        # the whole bottle, away from every edge: nothing of it cropped
        assert xs.min() > 2 and ys.min() > 2 and xs.max() < w - 3 and ys.max() < h - 3, label
        assert red.sum() > 0.5 * (xs.max() - xs.min()) * (ys.max() - ys.min()), label
