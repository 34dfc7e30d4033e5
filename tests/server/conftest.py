from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from routeyard.server import create_app
from tests.conftest import ROOT

# A small chain that runs in about a second: a photo, a fill, an upscale, and
# three short camera moves with the steadiest kept.
SMALL = """\
brief: {prompt: "astronaut portrait, tag removed", motion: gentle}
steps:
  base:   {op: import, source: "sample:astronaut"}
  clean:  {op: remove_object, input: base, box: [274, 334, 332, 366]}
  hero:   {op: upscale, input: clean, scale: 2, iterations: 1}
  motion: {op: animate, input: clean, seconds: 1, fps: 8, width: 96, height: 96,
           variants: {camera: [dolly-in, orbit, pan-left]}}
  best:   {op: select, input: motion, by: temporal}
"""


@pytest.fixture
def studio_root(tmp_path) -> Path:
    """The folder the studio serves: the offline example and the small chain."""
    root = tmp_path / "project"
    (root / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "offline.yaml", root / "examples" / "offline.yaml")
    (root / "small.yaml").write_text(SMALL)
    return root


@pytest.fixture
def client(home, studio_root):
    app = create_app(home=home, root=studio_root)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"X-Routeyard": "1"}) as c:
        yield c


def wait_run(client: TestClient, run_id: str, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if not run["live"] and run["status"] != "running":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def statuses(run: dict) -> dict[str, str]:
    return {s["name"]: s["status"] for s in run["steps"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(home, studio_root):
    """The studio served by uvicorn on 127.0.0.1 (a real socket, for the browser)."""
    import uvicorn

    port = free_port()
    app = create_app(home=home, root=studio_root)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the studio did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
