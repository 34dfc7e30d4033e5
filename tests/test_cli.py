"""The command line as a user meets it: JSON contracts, errors, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routeyard.store import Store
from tests.conftest import executed, subprocess_env


def cli(*args, env, check=True, timeout=120):
    proc = subprocess.run(
        [sys.executable, "-m", "routeyard.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def test_run_show_lineage_export_contracts(tmp_path, write):
    env = subprocess_env(tmp_path / "store")
    path = write("""
brief: {prompt: "a cup of coffee, morning light"}
steps:
  base: {op: import, source: "sample:coffee"}
  hero: {op: resize, input: base, width: 120}
  out:  {op: export, input: hero, dir: out/}
""")
    run = json.loads(cli("run", str(path), "--json", env=env).stdout)
    assert run["status"] == "done"
    step = run["steps"][1]
    assert set(step) >= {
        "name",
        "op",
        "status",
        "model",
        "provider",
        "outputs",
        "cost_usd",
        "seconds",
    }
    assert (step["name"], step["op"], step["status"], step["provider"]) == (
        "hero",
        "resize",
        "executed",
        "local",
    )
    shown = json.loads(cli("show", run["run"][:6], "--json", env=env).stdout)
    assert shown["steps"] == run["steps"]

    hero = step["outputs"][0]
    tree = json.loads(cli("lineage", hero[:10], "--json", env=env).stdout)
    assert (tree["asset"], tree["step"], tree["op"], tree["params"]["width"]) == (
        hero,
        "hero",
        "resize",
        120,
    )
    assert tree["prompt"] == "a cup of coffee, morning light"
    assert isinstance(tree["seed"], int)
    parent = tree["parents"][0]
    assert (parent["op"], parent["params"]["source"]) == ("import", "sample:coffee")
    human = cli("lineage", hero, env=env).stdout
    assert "hero" in human and "sample:coffee" in human

    dest = tmp_path / "exported"
    cli("export", run["run"], str(dest), env=env)
    sidecar = json.loads((dest / "provenance.json").read_text())
    assert sidecar["run"] == run["run"]
    assert [d["asset"] for d in sidecar["deliverables"]] == [hero]

    verify = json.loads(cli("store", "verify", "--json", env=env).stdout)
    assert verify["ok"] and verify["checked"] >= 2


@pytest.mark.parametrize(
    "pipeline, expect",
    [
        (
            "steps:\n  a: {op: test.work, input: ghost}\n",
            "step 'a' reads from 'ghost', which is not defined",
        ),
        ("steps:\n  a: [unclosed\n", "invalid YAML"),
        ("steps:\n  a: {op: import, source: missing.png}\n", "file"),
        (
            "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
            "  b: {op: remove_object, input: a, box: [50, 50, 10, 10]}\n",
            "box is [x0, y0, x1, y1] with x1 > x0",  # brackets survive the terminal markup
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_no_traceback(tmp_path, write, pipeline, expect):
    env = subprocess_env(tmp_path / "store")
    proc = cli("run", str(write(pipeline)), env=env, check=False)
    assert proc.returncode != 0
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")


def test_corrupt_image_fails_the_step_with_the_file_named(tmp_path, write):
    env = subprocess_env(tmp_path / "store")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    proc = cli(
        "run",
        str(write("steps:\n  a: {op: import, source: broken.png}\n")),
        "--json",
        env=env,
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    step = json.loads(proc.stdout)["steps"][0]
    assert step["status"] == "failed" and "broken.png" in step["error"]


def test_unwritable_store_is_a_clear_error(tmp_path, write):
    if os.geteuid() == 0:
        blocker = tmp_path / "afile"
        blocker.write_text("x")
        env = subprocess_env(blocker / "store")  # a path under a file can never be created
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        env = subprocess_env(ro / "store")
    proc = cli("run", str(write("steps:\n  a: {op: test.work}\n")), env=env, check=False)
    assert proc.returncode == 3
    assert "not writable" in proc.stderr and "Traceback" not in proc.stderr


def test_second_run_on_a_busy_store_is_refused_and_the_first_completes(tmp_path, write):
    env = subprocess_env(tmp_path / "store", tmp_path / "log")
    release = tmp_path / "release"
    slow = write(f"steps:\n  a: {{op: test.work, hold: '{release}'}}\n", "slow.yaml")
    first = subprocess.Popen(
        [sys.executable, "-m", "routeyard.cli", "run", str(slow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The first run's step is running (it holds the store) until we release it.
        started = Path(f"{release}.started")
        deadline = time.monotonic() + 120
        while not started.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert started.exists(), first.stderr.read() if first.poll() is not None else "no start"
        second = cli(
            "run", str(write("steps:\n  b: {op: test.work}\n", "other.yaml")), env=env, check=False
        )
        assert second.returncode == 3
        assert "busy" in second.stderr and str(first.pid) in second.stderr
    finally:
        release.write_text("go")
        out, _ = first.communicate(timeout=120)
    assert json.loads(out)["status"] == "done"


def test_kill_9_mid_run_then_run_again_resumes_without_recomputing(tmp_path, write):
    log = tmp_path / "log"
    env = subprocess_env(tmp_path / "store", log)
    chain = "\n".join(
        f"  s{i}: {{op: test.work, value: {i}, seconds: 0.3{', input: s' + str(i - 1) if i else ''}}}"
        for i in range(8)
    )
    path = write(f"steps:\n{chain}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "routeyard.cli", "run", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while len(executed(log)) < 3 and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = executed(log)
    assert 3 <= len(done_before) < 8

    resumed = json.loads(cli("run", str(path), "--json", env=env).stdout)
    assert resumed["status"] == "done"
    st = {s["name"]: s["status"] for s in resumed["steps"]}
    finished = [f"s{i}" for i in range(8) if f"s{i}" in done_before]
    # every step that finished before the kill is a cache hit; nothing ran twice
    # (a step killed after its op returned but before its commit may run once more)
    assert all(st[n] == "cached" for n in finished[:-1])
    ran_twice = [n for n in set(executed(log)) if executed(log).count(n) > 1]
    assert ran_twice in ([], [finished[-1]])
    with Store.open(tmp_path / "store") as store:
        runs = store.catalog.list_runs()
        assert [r.status for r in runs] == ["done", "interrupted"]
        assert store.verify().ok


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path, write):
    log = tmp_path / "log"
    env = subprocess_env(tmp_path / "store", log)
    path = write(
        "steps:\n  a: {op: test.work, value: 1}\n"
        "  b: {op: test.work, input: a, seconds: 3}\n  c: {op: test.work, input: b}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "routeyard.cli", "run", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while "a" not in executed(log) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "cancelled: run" in stderr and "Traceback" not in stderr
    with Store.open(tmp_path / "store") as store:
        (run,) = store.catalog.list_runs()
        rec = store.catalog.get_run(run.id)
        assert rec.status == "cancelled"
        assert {s.node: s.status for s in rec.steps} == {
            "a": "executed",
            "b": "cancelled",
            "c": "cancelled",
        }
        assert store.verify().ok
    resumed = json.loads(cli("run", str(path), "--json", env=env).stdout)
    assert [s["status"] for s in resumed["steps"]] == ["cached", "executed", "executed"]


def test_sigterm_stops_like_ctrl_c_and_a_killed_runs_work_folder_is_swept(tmp_path, write):
    env = subprocess_env(tmp_path / "store", tmp_path / "log")
    stale = tmp_path / "store" / "work" / "deadbeef0000" / "motion"
    stale.mkdir(parents=True)
    (stale / "partial.mp4").write_bytes(b"\0" * 1024)  # what a kill -9 mid-render leaves
    release = tmp_path / "release"
    path = write(
        "steps:\n  a: {op: test.work, value: 1}\n"
        f"  b: {{op: test.work, input: a, hold: '{release}'}}\n  c: {{op: test.work, input: b}}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "routeyard.cli", "run", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = Path(f"{release}.started")
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists()
    assert not (tmp_path / "store" / "work" / "deadbeef0000").exists()  # swept at start
    proc.send_signal(signal.SIGTERM)
    # The run records itself cancelled; only then is the held op let go (its
    # thread would otherwise keep the process), so b cannot finish first.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with Store.open(tmp_path / "store") as store:
            if [r.status for r in store.catalog.list_runs()] == ["cancelled"]:
                break
        time.sleep(0.05)
    release.write_text("go")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "cancelled: run" in stderr and "Traceback" not in stderr
    with Store.open(tmp_path / "store") as store:
        (run,) = store.catalog.list_runs()
        rec = store.catalog.get_run(run.id)
        assert rec.status == "cancelled"
        assert {s.node: s.status for s in rec.steps} == {
            "a": "executed",
            "b": "cancelled",
            "c": "cancelled",
        }
    assert not (tmp_path / "store" / "work" / run.id).exists()
