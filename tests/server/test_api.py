"""The studio's HTTP API against a real store: runs, re-runs, masks, variants, reviews."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from routeyard.store import Store
from tests.server.conftest import statuses, wait_run


def start(client, **body) -> str:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    return r.json()["run"]


def test_run_rerun_from_mask_only_runs_descendants(client, home):
    run = wait_run(client, start(client, path="small.yaml"))
    assert run["status"] == "done"
    clean = next(s for s in run["steps"] if s["name"] == "clean")
    image = next(s for s in run["steps"] if s["name"] == "base")["outputs"][0]

    # The mask editor starts from the region the step fills now: the box.
    region = np.asarray(
        Image.open(io.BytesIO(client.get(f"/api/runs/{run['run']}/steps/clean/region.png").content))
    )
    assert region.shape == (512, 512)
    assert region[340:360, 280:326].all() and not region[:300].any()

    # Paint a different area (the mission patch), save it, re-run from clean.
    painted = np.zeros((512, 512), np.uint8)
    painted[380:440, 150:230] = 255
    buf = io.BytesIO()
    Image.fromarray(painted).save(buf, format="PNG")
    saved = client.post(
        "/api/masks",
        files={"file": ("mask.png", buf.getvalue(), "image/png")},
        data={"image": image},
    )
    assert saved.status_code == 201, saved.text
    r = client.post(
        f"/api/runs/{run['run']}/rerun",
        json={"from": "clean", "sets": {"mask": saved.json()["value"], "box": None}},
    )
    assert r.status_code == 202, r.text
    second = wait_run(client, r.json()["run"])
    assert second["status"] == "done" and second["parent_run"] == run["run"]
    got = statuses(second)
    assert got["base"] == "cached"
    assert {got[n] for n in ("clean", "hero", "motion[0]", "motion[1]", "motion[2]", "best")} == {
        "executed"
    }

    # The fill moved: the old box is untouched, the painted patch changed.
    with Store.open(home) as store:
        new_clean = next(s for s in second["steps"] if s["name"] == "clean")["outputs"][0]
        before = np.asarray(Image.open(store.path_of(image)).convert("RGB")).astype(int)
        old = np.asarray(Image.open(store.path_of(clean["outputs"][0])).convert("RGB")).astype(int)
        new = np.asarray(Image.open(store.path_of(new_clean)).convert("RGB")).astype(int)
        assert np.abs(new[340:360, 280:326] - before[340:360, 280:326]).max() == 0
        assert np.abs(old[340:360, 280:326] - before[340:360, 280:326]).mean() > 5
        assert np.abs(new[390:430, 160:220] - before[390:430, 160:220]).mean() > 5
        mask_asset = store.catalog.get_asset(saved.json()["asset"])
        assert mask_asset.kind == "mask"


def test_variants_choose_another_and_export(client):
    run = wait_run(client, start(client, path="small.yaml"))
    v = client.get(f"/api/runs/{run['run']}/variants/motion").json()
    assert [x["differs"]["camera"] for x in v["variants"]] == ["dolly-in", "orbit", "pan-left"]
    assert v["chooser"] == "best" and sum(x["selected"] for x in v["variants"]) == 1
    other = next(x for x in v["variants"] if not x["selected"])

    # Gate results with per-frame curves, measured once and kept as derived assets.
    check = client.get(f"/api/assets/{other['asset']}/checks/temporal").json()
    assert 0 <= check["score"] <= 1 and len(check["per_frame"]["values"]) >= 7
    assert client.get(f"/api/assets/{other['asset']}/checks/temporal").json() == check

    r = client.post(
        f"/api/runs/{run['run']}/rerun",
        json={"from": "best", "sets": {"by": "index", "index": other["choice"]}},
    )
    chosen = wait_run(client, r.json()["run"])
    assert {k for k, s in statuses(chosen).items() if s == "executed"} == {"best"}
    v2 = client.get(f"/api/runs/{chosen['run']}/variants/motion").json()
    assert [x["node"] for x in v2["variants"] if x["selected"]] == [other["node"]]

    z = client.get(f"/api/runs/{chosen['run']}/export.zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    sidecar = json.loads(
        zipfile.ZipFile(io.BytesIO(z.content)).read(
            next(n for n in names if n.endswith("provenance.json"))
        )
    )
    assert other["asset"] in {d["asset"] for d in sidecar["deliverables"]}


def test_rerun_with_edited_parameter_yaml(client):
    run = wait_run(client, start(client, path="small.yaml"))
    hero = next(s for s in run["steps"] if s["name"] == "hero")
    params = client.get(f"/api/runs/{run['run']}/steps/hero").json()["params"]
    text = "\n".join(f"{k}: {json.dumps(v)}" for k, v in {**params, "scale": 3}.items())
    r = client.post(f"/api/runs/{run['run']}/rerun", json={"from": "hero", "params_yaml": text})
    second = wait_run(client, r.json()["run"])
    assert {k for k, s in statuses(second).items() if s == "executed"} == {"hero"}
    new_hero = next(s for s in second["steps"] if s["name"] == "hero")["outputs"][0]
    assert new_hero != hero["outputs"][0]
    assert client.get(f"/api/assets/{new_hero}").json()["width"] == 512 * 3

    bad = client.post(
        f"/api/runs/{run['run']}/rerun", json={"from": "hero", "params_yaml": "scale: [1"}
    )
    assert bad.status_code == 400 and "not valid YAML" in bad.json()["error"]


def test_gallery_filters_search_and_thumbnails(client, home):
    wait_run(client, start(client, path="small.yaml"))
    page = client.get("/api/assets", params={"per_page": 4}).json()
    assert page["total"] == 6 and page["pages"] == 2 and len(page["items"]) == 4
    page2 = client.get("/api/assets", params={"per_page": 4, "page": 2}).json()
    assert {i["asset"] for i in page["items"]}.isdisjoint({i["asset"] for i in page2["items"]})
    videos = client.get("/api/assets", params={"kind": "video"}).json()
    assert videos["total"] == 3 and {i["op"] for i in videos["items"]} == {"animate"}
    motion = client.get("/api/assets", params={"stage": "motion"}).json()
    assert {i["op"] for i in motion["items"]} == {"animate"}
    assert client.get("/api/assets", params={"step": "hero"}).json()["total"] == 1
    assert client.get("/api/assets", params={"q": "pan-left"}).json()["total"] == 1
    assert client.get("/api/assets", params={"family": "flux"}).json()["total"] == 0
    assert client.get("/api/assets", params={"gate": "fail"}).json()["total"] == 0

    video = videos["items"][0]["asset"]
    thumb = client.get(f"/api/assets/{video}/thumb")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (96, 96)
    with Store.open(home) as store:  # kept in the store as a derived asset, made once
        tid = store.catalog.derived(video, "thumb:320")
        assert tid is not None and store.blobs.has(tid)
        assert store.verify().ok
    html = client.get("/gallery", params={"kind": "video"}).text
    assert html.count('class="tile"') == 3


def test_frame_review_annotations_are_exported(client, tmp_path):
    run = wait_run(client, start(client, path="small.yaml"))
    best = next(s for s in run["steps"] if s["name"] == "best")["outputs"][0]
    frame = client.get(f"/api/assets/{best}/frames/3.jpg")
    assert Image.open(io.BytesIO(frame.content)).size == (96, 96)
    r = client.get(f"/api/assets/{best}/frames/99.jpg")
    assert r.status_code == 400 and "out of range" in r.json()["error"]

    a = client.post(
        f"/api/assets/{best}/annotations",
        json={"frame": 3, "label": "physics", "note": "arm bends"},
    )
    assert a.status_code == 201
    b = client.post(f"/api/assets/{best}/annotations", json={"frame": 5, "label": "flicker"}).json()
    assert client.post(f"/api/assets/{best}/annotations", json={"frame": 8}).status_code == 400
    assert client.delete(f"/api/assets/{best}/annotations/{b['id']}").json() == {"deleted": b["id"]}
    listed = client.get(f"/api/assets/{best}/annotations", params={"download": True})
    assert "attachment" in listed.headers["content-disposition"]
    assert [(x["frame"], x["label"], x["note"]) for x in listed.json()["annotations"]] == [
        (3, "physics", "arm bends")
    ]

    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/runs/{run['run']}/export.zip").content))
    sidecar = json.loads(z.read(next(n for n in z.namelist() if n.endswith("provenance.json"))))
    flagged = next(d for d in sidecar["deliverables"] if d["asset"] == best)
    assert [(x["frame"], x["label"]) for x in flagged["annotations"]] == [(3, "physics")]


def test_plan_and_pages_render(client):
    plan = client.post("/api/plan", json={"path": "examples/offline.yaml"}).json()
    assert [s["step"] for s in plan["steps"]][:3] == ["base", "cues", "clean"]
    assert all(s["with_current_keys"]["provider"] == "local" for s in plan["steps"])
    run = wait_run(client, start(client, path="small.yaml"))
    best = next(s for s in run["steps"] if s["name"] == "best")["outputs"][0]
    for url in (
        "/",
        "/gallery",
        "/models",
        "/costs",
        f"/runs/{run['run']}",
        f"/assets/{best}",
        f"/assets/{best}/review",
        f"/runs/{run['run']}/mask/clean",
        f"/runs/{run['run']}/variants/motion",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "<main>" in r.text
    graph = client.get(f"/api/assets/{best}/lineage").json()
    assert {n["step"] for n in graph["nodes"]} == {"base", "clean", "motion[0]"} or len(
        graph["nodes"]
    ) == 3
    assert graph["columns"] == 3 and len(graph["edges"]) == 2
    assert "openapi" in client.get("/openapi.json").json()
    missing = client.get("/assets/" + "0" * 64)
    assert missing.status_code == 404 and "no asset" in missing.text


def test_edited_text_runs_from_the_store(client, home):
    text = "steps:\n  base: {op: import, source: 'sample:camera'}\n  big: {op: upscale, input: base, scale: 2, iterations: 1}\n"
    run = wait_run(client, start(client, text=text))
    assert run["status"] == "done"
    saved = list((home / "briefs").glob("*.yaml"))
    assert len(saved) == 1 and saved[0].read_text() == text


GATED = """\
brief: {prompt: "astronaut portrait", motion: gentle}
steps:
  base:   {op: import, source: "sample:astronaut"}
  motion: {op: animate, input: base, seconds: 1, fps: 8, width: 96, height: 96,
           gate: {check: temporal, min: 0.0}}
  other:  {op: animate, input: base, seconds: 1, fps: 8, width: 96, height: 96, camera: orbit}
"""


def test_gate_curves_are_the_runs_own_record_and_viewing_teaches_nothing(client, home, studio_root):
    (studio_root / "gated.yaml").write_text(GATED)
    run = wait_run(client, start(client, path="gated.yaml"))
    assert run["status"] == "done"
    clip, unjudged = (
        next(s for s in run["steps"] if s["name"] == n)["outputs"][0] for n in ("motion", "other")
    )
    with Store.open(home) as store:
        [judged] = store.catalog.gate_outcomes(asset_id=clip, gate="temporal")
        learned = len(store.catalog.learning_outcomes())
    assert judged["model"] is not None and judged["evidence"]["per_frame"]["values"]

    # The run's gate measured this clip: the studio draws that record, measures nothing.
    check = client.get(f"/api/assets/{clip}/checks/temporal").json()
    assert check["score"] == round(judged["score"], 4)
    assert check["per_frame"] == judged["evidence"]["per_frame"]
    # A clip no gate judged: measured once, recorded without a model, then reused.
    first = client.get(f"/api/assets/{unjudged}/checks/temporal").json()
    assert client.get(f"/api/assets/{unjudged}/checks/temporal").json() == first
    with Store.open(home) as store:
        assert len(store.catalog.gate_outcomes(asset_id=clip, gate="temporal")) == 1
        [viewed] = store.catalog.gate_outcomes(asset_id=unjudged, gate="temporal")
        assert viewed["model"] is None and viewed["step_id"] is None
        assert len(store.catalog.learning_outcomes()) == learned


def test_a_brief_runs_in_the_studio_and_its_files_are_confined(client, home, tmp_path):
    brief = (
        "brief:\n  prompt: a portrait\n  motion: none\n  source: 'sample:astronaut'\n"
        "  text: HELLO\n  deliver: {image: {width: 160, height: 160}, formats: ['1:1', '4:5']}\n"
    )
    run = wait_run(client, start(client, text=brief))
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    assert {"base", "fit", "frame-4x5", "still-1x1", "still-4x5", "out"} <= {
        s["name"] for s in run["steps"]
    }
    # a reference outside the studio's folders reads like a missing one: no oracle
    (tmp_path / "face.png").write_bytes(b"not read")
    answers = []
    for ref in (tmp_path / "face.png", tmp_path / "gone.png"):
        text = brief.replace("  text: HELLO\n", f"  references: {{character: '{ref}'}}\n")
        r = client.post("/api/runs", json={"text": text})
        assert r.status_code == 400, r.text
        answers.append(r.json()["error"].replace(str(ref), "REF"))
    assert answers[0] == answers[1]
