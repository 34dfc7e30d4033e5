"""The README's main command: the whole journey offline, then a cached re-run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from routeyard import api
from tests.conftest import ROOT, subprocess_env
from tests.ocr import needs_tesseract, normalise, read_text

EXAMPLE = ROOT / "examples" / "offline.yaml"


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """Run examples/offline.yaml twice through the CLI, as the README does."""
    work = tmp_path_factory.mktemp("journey")
    shutil.copy(EXAMPLE, work / "offline.yaml")
    home = work / "store"
    env = subprocess_env(home)
    cmd = [sys.executable, "-m", "routeyard.cli", "run", "offline.yaml"]
    first = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stdout + first.stderr
    second = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    runs = api.list_runs(home=home)
    return work, home, [api.show_run(r["run"], home=home) for r in runs]


def test_every_step_runs_then_everything_is_cached(journey):
    _, _, runs = journey
    assert len(runs) == 2
    by_status = {frozenset(s["status"] for s in r["steps"]): r for r in runs}
    assert set(by_status) == {frozenset({"executed"}), frozenset({"cached"})}
    names = [s["name"] for s in by_status[frozenset({"executed"})]["steps"]]
    assert sorted(names) == sorted(
        [
            "base",
            "cues",
            "clean",
            "plate",
            "hero",
            "motion[0]",
            "motion[1]",
            "motion[2]",
            "best",
            "title",
            "video",
            "out",
        ]
    )


def test_the_exported_video_plays_in_a_browser(journey):
    work, _, _ = journey
    sidecar = json.loads((work / "out" / "provenance.json").read_text())
    videos = [d for d in sidecar["deliverables"] if d["file"].endswith(".mp4")]
    assert len(videos) == 1
    with av.open(str(work / "out" / videos[0]["file"])) as container:
        stream = container.streams.video[0]
        assert container.format.name.startswith("mov,mp4")
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.codec_context.profile == "High"
        assert (stream.codec_context.width, stream.codec_context.height) == (720, 720)
        assert float(stream.average_rate) == 24
        assert stream.frames == 96
        assert float(stream.duration * stream.time_base) == pytest.approx(4.0, abs=0.05)
        assert sum(1 for _ in container.decode(video=0)) == 96


def test_the_chosen_move_passes_every_gate_it_is_selected_by_and_traces_to_the_photo(journey):
    _, home, runs = journey
    first = next(r for r in runs if all(s["status"] == "executed" for s in r["steps"]))
    steps = {s["name"]: s for s in first["steps"]}
    best = steps["best"]["outputs"][0]
    moves = {steps[f"motion[{i}]"]["outputs"][0] for i in range(3)}
    assert best in moves
    from routeyard.checks import check
    from routeyard.store import Store

    with Store.open(home) as store:
        results = {
            m: [check(g, store.path_of(m)) for g in ("temporal", "background")] for m in moves
        }
    assert all(r.passed for r in results[best])
    margin = {m: min(r.score - r.threshold for r in rs) for m, rs in results.items()}
    passing = [m for m, rs in results.items() if all(r.passed for r in rs)]
    assert best == max(passing, key=margin.get)  # the weakest gate clears by most
    tree = api.lineage(best, home=home)
    ops_on_path = []
    node = tree
    while node:
        ops_on_path.append(node.get("op"))
        node = (node.get("parents") or [None])[0]
    assert ops_on_path[:5] == ["animate", "upscale", "remove_object", "depth_cues", "import"]


@needs_tesseract
def test_the_delivered_video_reads_the_headline_in_every_sampled_frame(journey):
    from routeyard.checks import check

    work, _, _ = journey
    video = next((work / "out").glob("video-*.mp4"))
    result = check("typography", video, text="SPACE WEEK")
    assert result.passed, result.message
    assert result.details["frames_reading"] == 1.0
    assert result.details["frames_sampled"][-1] == 95  # the last frame too


@needs_tesseract
def test_the_hero_carries_the_headline(journey):
    work, _, _ = journey
    hero = next((work / "out").glob("hero-*.png"))
    rgb = np.asarray(Image.open(hero).convert("RGB"))
    h, w = rgb.shape[:2]
    box = (round(0.06 * w), round(0.84 * h), round(0.94 * w), round(0.97 * h))
    assert normalise(read_text(rgb, box, (0xFF, 0xD4, 0x00))) == "SPACEWEEK"


def _flip_one_media_byte(src, dst, at: float = 0.7) -> None:
    data = bytearray(src.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    dst.write_bytes(bytes(data))


def test_every_deliverable_carries_content_credentials_that_match_its_lineage(
    journey, test_signer, tmp_path
):
    from routeyard.credentials import marking
    from tests.support import credentials as cred

    work, home, _ = journey
    out = work / "out"
    sidecar = json.loads((out / "provenance.json").read_text())
    assert sorted(Path(d["file"]).suffix for d in sidecar["deliverables"]) == [".mp4", ".png"]
    for entry in sidecar["deliverables"]:
        path = out / entry["file"]
        state, manifest, results = cred.read(path, test_signer)
        assert state == "Trusted", results
        codes = {c["code"] for c in results["activeManifest"]["success"]}
        assert {"claimSignature.validated", "signingCredential.trusted"} <= codes
        assert codes & {
            "assertion.dataHash.match",
            "assertion.bmffHash.match",
        }  # bound to the bytes
        tree = api.lineage(entry["asset"], home=home)
        cred.check_against_lineage(manifest, tree)
        acts = cred.actions(manifest)
        # a photograph is opened, not created; no step here ran a trained model
        assert acts[0]["action"] == "c2pa.opened"
        assert [(i["title"], i["relationship"]) for i in manifest["ingredients"]] == [
            ("sample:astronaut", "parentOf")
        ]
        assert not any("trainedAlgorithmicMedia" in a.get("digitalSourceType", "") for a in acts)
        assert acts[-1]["action"] == "c2pa.watermarked"
        marked = cred.marking(path)
        assert marked["Iptc4xmpExt:DigitalSourceType"] == cred.IPTC + "compositeSynthetic"
        assert marked["routeyard:Asset"] == entry["asset"]
        assert "Iptc4xmpExt:AISystemUsed" not in marked  # no AI system made any of it
        found = marking.read(path)
        assert found is not None and entry["asset"].startswith(found.short_id)
        # one byte of the media changed: the manifest no longer validates
        tampered = tmp_path / f"tampered{path.suffix}"
        _flip_one_media_byte(path, tampered)
        assert cred.read(tampered, test_signer)[0] == "Invalid"
        cli = [sys.executable, "-m", "routeyard.cli", "verify", str(tampered)]
        bad = subprocess.run(cli, env=subprocess_env(home), capture_output=True, text=True)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "INVALID" in bad.stdout


def test_verify_on_the_delivered_video_shows_its_lineage(journey, test_signer):
    work, home, _ = journey
    video = next((work / "out").glob("video-*.mp4"))
    cmd = [sys.executable, "-m", "routeyard.cli", "verify", str(video), "--json"]
    done = subprocess.run(cmd, cwd=work, env=subprocess_env(home), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["state"] == "trusted"
    assert report["c2pa"]["signer"]["development"] is True
    steps = [a["step"] for a in report["c2pa"]["actions"] if a["step"]]
    assert (steps[-1] == "video" and "motion[0]" in steps) or any(
        s.startswith("motion[") for s in steps
    )
    assert report["watermark"]["id"] == report["asset"][:10]
    assert report["store"]["asset"] == report["asset"]
    assert report["store"]["lineage"]["step"] == "video"
