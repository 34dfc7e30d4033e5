"""Gates drive the run: reroute to the next model, repair and re-check, keep the best branch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from routeyard import api
from routeyard.checks import threshold_for
from routeyard.media.pixels import encode_png
from routeyard.ops import Output
from routeyard.pipeline.spec import parse
from routeyard.providers import ProviderResult
from routeyard.store import Store
from tests.conftest import ROOT, subprocess_env
from tests.fakes.hosted import ChainRouter, ScriptedProvider
from tests.support import calibration as cal


class ImageHost(ScriptedProvider):
    """A hosted model whose 'flat' model makes a flattened photo, the others a good one."""

    async def run(self, task):
        self.calls.append(task.model)
        photo = cal.photos(("astronaut",))["astronaut"]
        rgb = cal.flatten(photo, 1.0) if task.model == "flat" else photo
        return ProviderResult(
            outputs=[Output(data=encode_png(rgb), mime_hint="image/png")], cost_usd=0.04
        )


def test_reroute_tries_the_next_model_and_never_pays_twice(home):
    provider = ImageHost()
    router = ChainRouter([("flat", "fakehost", 0.04), ("sharp", "fakehost", 0.04)])
    text = "steps:\n  base: {op: test.work, gate: {check: first_frame, on_fail: reroute}}\n"
    spec = parse(text)
    options = {"router": router, "providers": {"fakehost": provider}}
    run = api.run_pipeline(spec, home=home, engine_options=options)
    assert run["status"] == "done"
    rows = run["steps"]
    assert [(r["model"], r["status"]) for r in rows] == [
        ("flat", "rejected"),
        ("sharp", "executed"),
    ]
    assert "gate first_frame failed" in rows[0]["error"] and "rerouted" in rows[0]["error"]
    assert rows[0]["gates"][0]["passed"] is False and rows[1]["gates"][0]["passed"] is True
    with Store.open(home) as store:
        outcomes = store.catalog.gate_outcomes(gate="first_frame")
    assert {(o["model"], o["passed"]) for o in outcomes} == {("flat", False), ("sharp", True)}
    assert provider.calls == ["flat", "sharp"]
    again = api.run_pipeline(parse(text), home=home, engine_options=options)
    assert [r["status"] for r in again["steps"]] == ["rejected", "cached"]
    assert provider.calls == ["flat", "sharp"]  # both results came from the cache


def test_reroute_with_no_model_left_fails_the_step(home):
    provider = ImageHost()
    text = "steps:\n  base: {op: test.work, gate: {check: first_frame, on_fail: reroute}}\n  b: {op: resize, input: base, width: 64}\n"
    run = api.run_pipeline(
        parse(text),
        home=home,
        engine_options={
            "router": ChainRouter([("flat", "fakehost", 0)]),
            "providers": {"fakehost": provider},
        },
    )
    assert run["status"] == "failed"
    assert "no further model in the route's chain" in run["steps"][0]["error"]
    assert run["steps"][1]["status"] == "skipped"


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    work = tmp_path_factory.mktemp("gates")
    shutil.copy(ROOT / "examples" / "gates.yaml", work / "gates.yaml")
    env = subprocess_env(work / "store")
    cmd = [sys.executable, "-m", "routeyard.cli", "run", "gates.yaml", "--json"]
    first = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    second = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    return work, json.loads(first.stdout), json.loads(second.stdout)


def test_example_first_frame_repair_and_background_remedy(gated):
    _, run, _ = gated
    by = {s["name"]: s for s in run["steps"]}
    assert by["still"]["gates"][0]["passed"] is False
    assert by["still~depth_cues1"]["status"] == "executed"
    assert by["still~depth_cues1"]["gates"][0]["passed"] is True
    assert by["still~depth_cues1"]["gates"][0]["score"] > by["still"]["gates"][0]["score"]
    assert by["orbit"]["gates"][0]["passed"] is False
    remedy = by["orbit~stabilize_background1"]
    assert (
        remedy["gates"][0]["passed"]
        and remedy["gates"][0]["score"] > by["orbit"]["gates"][0]["score"] + 0.2
    )
    # What readers received is the repaired asset.
    lineage = api.lineage(remedy["outputs"][0], home=gated[0] / "store")
    assert lineage["op"] == "stabilize_background"
    assert lineage["parents"][0]["op"] == "animate"


def test_example_keep_best_drops_failing_branches(gated):
    _, run, _ = gated
    branches = [s for s in run["steps"] if s["name"].startswith("motion[")]
    kept = [b for b in branches if b["status"] == "executed"]
    dropped = [b for b in branches if b["status"] == "rejected"]
    assert len(kept) >= 1 and len(kept) + len(dropped) == 3
    best = next(s for s in run["steps"] if s["name"] == "best")
    assert best["outputs"][0] in {o for b in kept for o in b["outputs"]}
    assert run["status"] == "done"


def test_example_rerun_is_cached_gates_included(gated):
    _, first, second = gated
    assert {s["status"] for s in second["steps"]} <= {"cached", "rejected", "executed"}
    ran = [s["name"] for s in second["steps"] if s["status"] == "executed"]
    assert set(ran) <= {"flicker", "out"}  # the check step reports; nothing is rendered again
    assert [s["outputs"] for s in second["steps"] if s["name"] == "best"] == [
        s["outputs"] for s in first["steps"] if s["name"] == "best"
    ]


def test_check_cli_json_exit_codes_and_plot(tmp_path):
    photo = cal.photos(("astronaut",))["astronaut"]
    Image.fromarray(photo).save(tmp_path / "a.png")
    Image.fromarray(cal.flatten(photo, 1.0)).save(tmp_path / "f.png")
    env = subprocess_env(tmp_path / "store")
    base = [sys.executable, "-m", "routeyard.cli", "check", "first_frame"]
    ok = subprocess.run(
        [*base, "a.png", "--json", "--plot", "p.png"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert (
        data["passed"] is True
        and data["threshold"] == threshold_for("first_frame")
        and "per_region" in data
    )
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run(
        [*base, "f.png", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and json.loads(bad.stdout)["passed"] is False
    stricter = subprocess.run(
        [*base, "a.png", "--min", "0.99"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert stricter.returncode == 1 and "fail" in stricter.stdout
    missing = subprocess.run(
        [*base, "nope.png"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "nope.png: file not found" in missing.stderr
    assert "Traceback" not in missing.stderr
