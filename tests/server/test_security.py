"""Who may use the studio, what a pipeline sent to it may touch, and what uploads it takes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from routeyard.errors import RouteyardError
from routeyard.server import create_app
from tests.conftest import subprocess_env
from tests.server.conftest import free_port, statuses, wait_run


def test_foreign_host_and_cross_site_writes_are_refused(home, studio_root):
    app = create_app(home=home, root=studio_root)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/runs").status_code == 200
        # DNS rebinding: a page on evil.example resolving to 127.0.0.1
        r = c.get("/api/runs", headers={"Host": "evil.example:8765"})
        assert r.status_code == 403 and "not this studio" in r.json()["error"]
        # a cross-site form post cannot add the header
        r = c.post("/api/runs", json={"path": "small.yaml"})
        assert r.status_code == 403 and "X-Routeyard" in r.json()["error"]
        assert c.get("/api/runs").json() == []


def test_token_is_required_and_never_echoed(home, studio_root):
    app = create_app(home=home, root=studio_root, token="s3cret-token")
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        r = c.get("/api/runs")
        assert r.status_code == 401 and "s3cret" not in r.text
        assert c.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert (
            c.get("/api/runs", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        )
        # the ?token= link swaps itself for a cookie and drops the token from the URL
        r = c.get("/gallery?token=s3cret-token", follow_redirects=False)
        assert r.status_code == 303 and "token" not in r.headers["location"]
        assert "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/gallery").status_code == 200  # the cookie jar now holds it
        # a bearer token stands in for the CSRF header (scripts)
        r = c.post(
            "/api/plan",
            json={"path": "small.yaml"},
            headers={"Authorization": "Bearer s3cret-token"},
        )
        assert r.status_code == 200


def test_non_loopback_needs_a_token(home, studio_root, monkeypatch):
    monkeypatch.delenv("ROUTEYARD_TOKEN", raising=False)
    with pytest.raises(RouteyardError, match="needs a token"):
        create_app(home=home, root=studio_root, host="0.0.0.0")
    app = create_app(home=home, root=studio_root, host="0.0.0.0", token="t")
    with TestClient(app, base_url="http://10.1.2.3:8765") as c:
        assert c.get("/api/runs").status_code == 401
        assert c.get("/api/runs", headers={"Authorization": "Bearer t"}).status_code == 200


def test_serve_refuses_public_bind_without_token_in_one_line(home, tmp_path):
    env = subprocess_env(home)
    env.pop("ROUTEYARD_TOKEN", None)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "routeyard.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "needs a token" in r.stderr and "ROUTEYARD_TOKEN" in r.stderr


def test_serve_reports_a_busy_port_in_one_line(home, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "routeyard.cli", "serve", "--port", str(port)],
            env=subprocess_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ("base: {op: import, source: /etc/hostname}", "reads 'source' at /etc/hostname"),
        ("base: {op: import, source: ../../outside.png}", "outside the studio's folders"),
        (
            "base: {op: import, source: 'sample:camera'}\n  out: {op: export, input: base, dir: /tmp/elsewhere}",
            "writes 'dir' at /tmp/elsewhere",
        ),
    ],
)
def test_pipelines_cannot_reach_outside_the_served_folders(client, tmp_path, steps, fragment):
    (tmp_path / "outside.png").write_bytes(b"not read")
    r = client.post("/api/runs", json={"text": f"steps:\n  {steps}\n"})
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"] and "hint" in r.json()
    assert client.get("/api/runs").json() == []  # nothing started, nothing stored


def test_url_sources_are_not_fetched(client):
    r = client.post(
        "/api/runs",
        json={"text": "steps:\n  base: {op: import, source: 'http://169.254.169.254/latest'}\n"},
    )
    assert r.status_code == 400 and "not found" in r.json()["error"]
    assert client.get("/api/runs").json() == []


def test_rerun_sets_are_confined_too(client):
    run = wait_run(client, client.post("/api/runs", json={"path": "small.yaml"}).json()["run"])
    r = client.post(
        f"/api/runs/{run['run']}/rerun", json={"from": "clean", "sets": {"mask": "/etc/hostname"}}
    )
    assert r.status_code == 400 and "outside the studio's folders" in r.json()["error"]
    assert len(client.get("/api/runs").json()) == 1


def test_asset_paths_never_escape_the_store(client):
    for ref in ("..%2F..%2Fetc%2Fpasswd", "../catalog.sqlite", "zz" * 32):
        r = client.get(f"/api/assets/{ref}/file")
        assert r.status_code == 404, ref


def _png(size, mode="L"):
    buf = io.BytesIO()
    Image.new(mode, size, 255).save(buf, format="PNG")
    return buf.getvalue()


def test_oversized_bodies_are_refused_before_they_are_read(client):
    r = client.post("/api/masks", content=b"x" * 10, headers={"Content-Length": str(64 * 2**20)})
    assert r.status_code == 413 and "MiB limit" in r.json()["error"]


def test_uploads_are_type_and_size_checked(client):
    big = b"steps:\n" + b"#" * (300 * 1024)
    r = client.post("/api/briefs", files={"file": ("big.yaml", big, "text/yaml")})
    assert r.status_code == 400 and "KiB limit" in r.json()["error"]
    r = client.post(
        "/api/briefs", files={"file": ("x.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "text/yaml")}
    )
    assert r.status_code == 400 and "x.yaml" in r.json()["error"]
    r = client.post("/api/briefs", files={"file": ("x.yaml", b"just: a mapping\n", "text/yaml")})
    assert r.status_code == 400 and "steps" in r.json()["error"]
    ok = client.post(
        "/api/briefs",
        files={
            "file": ("s.yaml", b"steps:\n  a: {op: import, source: 'sample:camera'}\n", "text/yaml")
        },
    )
    assert ok.status_code == 200 and ok.json()["text"].startswith("steps:")

    run = wait_run(client, client.post("/api/runs", json={"path": "small.yaml"}).json()["run"])
    image = next(s for s in run["steps"] if s["name"] == "base")["outputs"][0]
    cases = [
        (_png((100, 100)), "the image is 512x512"),
        (b"GIF89a" + b"\x00" * 40, "not an image"),
        (_png((512, 512)).replace(b"IHDR", b"IHDX"), "not an image"),
    ]
    buf = io.BytesIO()
    Image.new("L", (512, 512), 0).save(buf, format="PNG")
    cases.append((buf.getvalue(), "selects no pixels"))
    gif = io.BytesIO()
    Image.new("L", (512, 512), 255).save(gif, format="GIF")
    cases.append((gif.getvalue(), "must be PNG, JPEG or WebP"))
    for data, fragment in cases:
        r = client.post(
            "/api/masks", files={"file": ("m.png", data, "image/png")}, data={"image": image}
        )
        assert r.status_code == 400 and fragment in r.json()["error"], (fragment, r.text)


def test_cancel_stops_a_running_run_and_a_second_run_waits(client, write):
    slow = "steps:\n  a: {op: test.work, value: 1}\n  b: {op: test.work, input: a, seconds: 20}\n  c: {op: test.work, input: b}\n"
    run_id = client.post("/api/runs", json={"text": slow}).json()["run"]
    busy = client.post("/api/runs", json={"path": "small.yaml"})
    assert busy.status_code == 409 and "still in progress" in busy.json()["error"]
    deadline = time.time() + 10
    while statuses(client.get(f"/api/runs/{run_id}").json()).get("a") != "executed":
        assert time.time() < deadline
        time.sleep(0.05)
    t0 = time.time()
    assert client.post(f"/api/runs/{run_id}/cancel").json()["cancelling"] is True
    run = wait_run(client, run_id, timeout=30)
    assert time.time() - t0 < 15
    assert run["status"] == "cancelled"
    got = statuses(run)
    assert got["a"] == "executed" and got["b"] == "cancelled"
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 400


def test_events_stream_live_then_end(client):
    text = "steps:\n  a: {op: test.work, value: 1, seconds: 0.3}\n  b: {op: test.work, input: a, seconds: 0.3}\n"
    run_id = client.post("/api/runs", json={"text": text}).json()["run"]
    kinds = []
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and line != "data: {}":
                kinds.append((json.loads(line[6:])["kind"], json.loads(line[6:])["node"]))
            if line.startswith("event: end"):
                break
    assert kinds[0] == ("run_started", None) and kinds[-1] == ("run_finished", None)
    assert kinds.index(("finished", "a")) < kinds.index(("finished", "b"))
    # a finished run replays its stored events
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        replay = [
            json.loads(x[6:])["kind"] for x in stream.iter_lines() if x.startswith('data: {"')
        ]
    assert replay[0] == "run_started" and replay[-1] == "run_finished"


def test_a_chunked_body_over_the_limit_is_refused_as_it_streams(client):
    def chunks():  # no Content-Length: only counting what arrives can stop it
        for _ in range(40):
            yield b"x" * 2**20

    r = client.post("/api/runs", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MiB limit" in r.json()["error"]
    assert client.get("/api/runs").status_code == 200  # the studio is fine


def test_gate_references_are_confined_and_missing_reads_like_outside(client, tmp_path):
    (tmp_path / "elsewhere.png").write_bytes(_png((8, 8), "RGB"))
    answers = []
    for ref in (tmp_path / "elsewhere.png", tmp_path / "no-such-file.png"):
        text = (
            "steps:\n  base: {op: import, source: 'sample:astronaut'}\n"
            f"  hero: {{op: upscale, input: base, gate: {{check: identity, params: {{ref: '{ref}'}}}}}}\n"
        )
        r = client.post("/api/runs", json={"text": text})
        assert r.status_code == 400, r.text
        answers.append(r.json()["error"].replace(str(ref), "REF"))
    # An existing file outside and a missing one get the same answer: no oracle.
    assert answers[0] == answers[1] and "gate reads 'ref'" in answers[0]
    missing_source = client.post(
        "/api/runs", json={"text": f"steps:\n  base: {{op: import, source: {tmp_path}/gone.png}}\n"}
    ).json()["error"]
    outside_source = client.post(
        "/api/runs",
        json={"text": f"steps:\n  base: {{op: import, source: {tmp_path}/elsewhere.png}}\n"},
    ).json()["error"]
    assert missing_source.replace("gone", "X") == outside_source.replace("elsewhere", "X")
    assert client.get("/api/runs").json() == []


def test_pages_cannot_be_framed_and_only_the_studios_bearer_skips_the_header(home, studio_root):
    app = create_app(home=home, root=studio_root)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        for r in (c.get("/"), c.get("/api/runs"), c.post("/api/runs", json={})):
            assert r.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        # No token set: a made-up bearer header proves nothing about who sent it.
        r = c.post("/api/runs", json={"path": "small.yaml"}, headers={"Authorization": "Bearer x"})
        assert r.status_code == 403 and "X-Routeyard" in r.json()["error"]
    app = create_app(home=home, root=studio_root, token="t0ken-for-the-studio")
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        wrong = {"Authorization": "Bearer not-the-token"}
        assert c.post("/api/runs", json={"path": "small.yaml"}, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer t0ken-for-the-studio"}
        r = c.post("/api/runs", json={"path": "small.yaml"}, headers=right)
        assert r.status_code == 202, r.text
        run = r.json()["run"]
        while c.get(f"/api/runs/{run}", headers=right).json()["live"]:
            time.sleep(0.1)


def test_odd_files_in_the_served_folder_do_not_break_the_listing(client, studio_root):
    import os

    (studio_root / "gone.yaml").symlink_to(studio_root / "nowhere.yaml")  # dangling
    os.close(os.open(os.fsencode(studio_root) + b"/caf\xe9.yaml", os.O_CREAT | os.O_WRONLY))
    (studio_root / "latin1.yaml").write_bytes("brief: {prompt: 'caf\xe9'}\n".encode("latin-1"))
    listed = client.get("/api/pipelines")
    assert listed.status_code == 200
    files = listed.json()["files"]
    assert "latin1.yaml" in files and "gone.yaml" not in files
    assert all(f.isprintable() for f in files)  # the undecodable name is left out
    assert client.get("/").status_code == 200
    bad = client.get("/api/pipelines/file", params={"path": "latin1.yaml"})
    assert bad.status_code == 400 and "not UTF-8" in bad.json()["error"]


def test_a_yaml_alias_bomb_is_refused_at_once(client):
    levels = "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + levels + "steps: {s: {op: import}}\n"
    for url in ("/api/plan", "/api/runs"):
        r = client.post(url, json={"text": bomb})
        assert r.status_code == 400 and "alias bomb" in r.json()["hint"], r.text
    assert client.get("/api/runs").json() == []
