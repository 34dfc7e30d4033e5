"""The issue's journey: Flux → Nano Banana edit → Kling against the fakes, with
lineage, costs and gate scores; again with the fault scripts on; a kill -9
during the video job, then `run`, resumes that job; no secret anywhere."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routeyard import api
from tests.conftest import ROOT, subprocess_env
from tests.providers.conftest import KEYS, env_with

EXAMPLE = ROOT / "examples" / "hosted" / "flux-banana-kling.yaml"


@pytest.fixture
def pipeline(tmp_path) -> Path:
    return Path(shutil.copy(EXAMPLE, tmp_path / "flux-banana-kling.yaml"))


def _check_journey(run: dict, home: Path, providers: dict[str, str]) -> None:
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    steps = {s["name"]: s for s in run["steps"]}
    assert steps["base"]["model"].startswith(("flux", "gpt-image"))  # the text models of 2026
    assert steps["base"]["provider"] == providers["base"]
    assert (steps["paint"]["model"], steps["paint"]["provider"]) == (
        "nano-banana-2",
        providers["paint"],
    )
    assert steps["motion"]["model"].startswith("kling")
    assert steps["motion"]["provider"] == providers["motion"]
    # gate scores on the routed hand-offs
    gates = {g["gate"]: g for s in run["steps"] for g in s["gates"]}
    if steps["base"]["status"] == "executed":  # a cached step's gate was judged in its run
        assert gates["typography"]["passed"]
    assert gates["temporal"]["score"] > 0.5
    # lineage: the video goes back through the edit to the Flux image
    lineage = api.lineage(steps["motion"]["outputs"][0], home=home)
    chain = []
    node = lineage
    while node:
        chain.append((node["op"], node["model"], node["provider"]))
        node = node["parents"][0] if node["parents"] else None
    assert [c[0] for c in chain] == ["animate", "edit", "generate"]
    assert lineage["prompt"]
    # the seed is the one the request carried, or null with the step's warning saying why
    no_seed = any("takes no seed" in w for w in steps["motion"]["warnings"])
    assert (lineage["seed"] is None) == no_seed
    # costs in billing units, per provider
    costs = api.costs(run["run"], home=home)
    paid_here = {providers[n] for n in providers if steps[n]["status"] == "executed"}
    assert set(costs["by_provider"]) == paid_here
    units = {j["model"]: j["unit"] for j in costs["jobs"]}
    assert units[steps["motion"]["model"]] == "video_second"
    assert costs["total_usd"] == pytest.approx(run["cost_usd"])


def test_journey_on_the_vendor_apis(fakes, home, pipeline):
    bfl, google, kling = fakes("bfl", "google", "kling")
    run = api.run_pipeline(pipeline)
    _check_journey(run, home, {"base": "bfl", "paint": "google", "motion": "kling"})
    assert [f.total_submissions for f in (bfl, google, kling)] == [1, 1, 1]
    exported = list((pipeline.parent / "out-hosted").iterdir())
    assert any(p.suffix == ".mp4" for p in exported)
    _check_credentials(pipeline.parent / "out-hosted", home)


def _check_credentials(out: Path, home: Path) -> None:
    """Every hosted deliverable: a valid manifest whose actions are the lineage's
    steps, created by a trained model, and marked so in XMP too."""
    from routeyard.credentials import marking
    from tests.support import credentials as cred

    signer = Path(os.environ["ROUTEYARD_CREDENTIALS_DIR"])
    sidecar = json.loads((out / "provenance.json").read_text())
    assert len(sidecar["deliverables"]) == 2
    for entry in sidecar["deliverables"]:
        path = out / entry["file"]
        state, manifest, results = cred.read(path, signer)
        assert state == "Trusted", results
        tree = api.lineage(entry["asset"], home=home)
        cred.check_against_lineage(manifest, tree)
        acts = cred.actions(manifest)
        created = acts[0]
        assert created["action"] == "c2pa.created"
        assert created["digitalSourceType"] == cred.IPTC + "trainedAlgorithmicMedia"
        assert created["parameters"]["provider"] == "bfl"
        assert manifest.get("ingredients", []) == []  # nothing came from outside
        for a in acts[1:-1]:  # the edit and the animation ran trained models too
            assert a["digitalSourceType"] == cred.IPTC + "trainedAlgorithmicMedia"
        route = cred.assertion(manifest, "com.routeyard.lineage")["steps"][0]["route"]
        assert route["model"] == created["parameters"]["model"] and route["reason"]
        marked = cred.marking(path)
        assert marked["Iptc4xmpExt:DigitalSourceType"] == cred.IPTC + "trainedAlgorithmicMedia"
        assert created["parameters"]["model"] in marked["Iptc4xmpExt:AISystemUsed"]
        found = marking.read(path)
        assert found is not None and entry["asset"].startswith(found.short_id)


def test_journey_on_fal_alone(fakes, home, pipeline):
    fal = fakes("fal")
    run = api.run_pipeline(pipeline)
    _check_journey(run, home, {"base": "fal", "paint": "fal", "motion": "fal"})
    assert fal.total_submissions == 3


def test_journey_with_the_fault_scripts_on(fakes, home, pipeline):
    started = fakes("bfl", "google", "kling", queued_s=0.2, running_s=1.0)
    for fake in started:
        fake.script("submit", "503", "429")
        fake.script("status", "500", "garbled", "429", "drop", "timeout")
        fake.not_ready_first = 1
    run = api.run_pipeline(pipeline)
    _check_journey(run, home, {"base": "bfl", "paint": "google", "motion": "kling"})
    assert [f.total_submissions for f in started] == [1, 1, 1]


def _secrets() -> list[str]:
    return [v for keys in KEYS.values() for v in keys.values()]


def test_kill_9_during_the_video_job_then_run_resumes_it(fakes, home, pipeline, tmp_path):
    started = fakes("bfl", "google", "kling")
    kling = started[2]
    kling.running_s = 8.0  # long enough to be killed mid-job
    env = env_with(started, subprocess_env(home))
    cmd = [sys.executable, "-m", "routeyard.cli", "run", str(pipeline), "--json"]
    logs = tmp_path / "first.log"
    with logs.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while kling.total_submissions == 0 and time.monotonic() < deadline:
            assert proc.poll() is None, logs.read_text()
            time.sleep(0.05)
        time.sleep(0.5)  # the job id is in the ledger before the first poll
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert kling.total_submissions == 1
    job_id = next(iter(kling.jobs))
    kling.jobs[job_id].running_s = 0.5  # the provider finishes it meanwhile
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    run = json.loads(second.stdout)
    _check_journey(run, home, {"base": "bfl", "paint": "google", "motion": "kling"})
    assert [f.total_submissions for f in started] == [1, 1, 1]  # nothing paid twice
    steps = {s["name"]: s for s in run["steps"]}
    assert steps["base"]["status"] == steps["paint"]["status"] == "cached"
    assert any(f"resumed kling job {job_id}" in w for w in steps["motion"]["warnings"])
    # over both runs every job is in the ledger once, and paid once
    jobs = api.costs(home=home)["jobs"]
    assert sorted(j["provider"] for j in jobs) == ["bfl", "google", "kling"]
    assert all(j["status"] == "succeeded" for j in jobs)
    for text in (logs.read_text(), second.stdout, second.stderr):
        assert not any(s in text for s in _secrets())


def test_no_secret_anywhere(fakes, home, pipeline, tmp_path, monkeypatch, capsys, caplog):
    """Keys and the Kling JWT never reach the store, the events, exports, errors or logs."""
    import logging

    caplog.set_level(logging.DEBUG)
    started = fakes("bfl", "google", "kling")
    run = api.run_pipeline(pipeline)
    assert run["status"] == "done"
    # a failing run too: errors are where a careless adapter leaks a header
    for fake in started:
        fake.script("submit", "auth")
    monkeypatch.setenv("BFL_API_KEY", "bfl-SECRET-9a8b7c6d5e-but-wrong")
    failed = api.run_pipeline(pipeline, engine_options={})
    api.export_run(run["run"], tmp_path / "export", home=home)
    api.costs(home=home)
    api.providers_check()
    secrets = [*_secrets(), "bfl-SECRET-9a8b7c6d5e-but-wrong"]
    kling = __import__("routeyard.providers.kling", fromlist=["KlingProvider"]).KlingProvider()
    token = kling.token()
    haystacks = [json.dumps(run), json.dumps(failed), capsys.readouterr().out, caplog.text]
    for root in (home, tmp_path / "export", pipeline.parent / "out-hosted"):
        for path in root.rglob("*"):
            if path.is_file():
                haystacks.append(path.read_bytes().decode("latin-1"))
    for hay in haystacks:
        for s in [*secrets, token, token.split(".")[2], token.split(".")[0]]:
            assert s not in hay
    assert os.environ["KLING_SECRET_KEY"] in secrets  # the test did use the real values
