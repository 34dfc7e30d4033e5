"""The studio's two speed targets, measured in a real browser (Debian's chromium).

1. Gallery: a store of N (default 5,000) assets; time from navigation to the
   first page being fully shown (HTML plus every thumbnail on it), with the
   thumbnails cold (made on first view, then kept as store assets) and warm.
   Also the JSON page query alone, first and last page.
2. Live progress: a run of many short steps; for each event that the engine
   emits after the page's stream is open, the delay from the engine's
   timestamp to the page's handler (same machine clock).

Run: python benchmarks/bench_studio.py [N_ASSETS]
"""

from __future__ import annotations

import io
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.fakes.ops  # noqa: E402,F401  (test.work: a step that sleeps)
import uvicorn  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from routeyard.server import create_app  # noqa: E402
from routeyard.store import Store  # noqa: E402


def fill_store(home: Path, n: int) -> None:
    """N distinct 512x512 PNG outputs of N steps in 10 runs (written straight to the catalog)."""
    rng = random.Random(7)
    with Store.open(home, fsync=False) as store:
        for r in range(10):
            run_id = f"bench{r:07d}"
            store.catalog.create_run(
                run_id=run_id,
                pipeline_path=None,
                base_dir=str(home),
                pipeline_text="steps: {}",
                overrides={},
                parent_run_id=None,
                rerun_from=None,
                budget_usd=None,
                pid=None,
            )
            for i in range(n // 10):
                img = Image.new("RGB", (512, 512), tuple(rng.randrange(256) for _ in range(3)))
                img.putpixel((i % 512, r), (255, 255, 255))
                buf = io.BytesIO()
                img.save(buf, format="PNG")
                asset = store.put_bytes(buf.getvalue(), source="bench")
                sid = store.catalog.start_step(
                    run_id,
                    f"s{i}",
                    f"s{i}",
                    i,
                    op="upscale",
                    model="local/upscale",
                    provider="local",
                    status="running",
                    prompt=f"bench image {r}/{i}",
                )
                store.catalog.complete_step(
                    sid, outputs=[asset], inputs=[], cache_key=None, status="executed"
                )
            store.catalog.finish_run(run_id, status="done", cost_usd=0.0, error=None)


def serve(home: Path, root: Path) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(home=home, root=root), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def gallery_open(page, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    return time.perf_counter() - t0


def main(n: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp) / "store", Path(tmp) / "project"
        root.mkdir()
        t = time.perf_counter()
        fill_store(home, n)
        print(f"store: {n} assets written in {time.perf_counter() - t:.1f} s")
        base, server = serve(home, root)
        with urllib.request.urlopen(base + "/api/assets?per_page=1") as r:
            assert json.load(r)["total"] == n
        for label, q in (("first", 1), ("last", n // 60 + 1)):
            t = time.perf_counter()
            urllib.request.urlopen(f"{base}/api/assets?page={q}&per_page=60").read()
            print(
                f"JSON page query ({label} page of {n // 60 + 1}): {1000 * (time.perf_counter() - t):.1f} ms"
            )
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            ctx = browser.new_context(viewport={"width": 1400, "height": 950})
            page = ctx.new_page()
            cold = gallery_open(page, base + "/gallery")
            shown = page.locator("#gallery img").count()
            ctx.clear_cookies()
            page2 = browser.new_context(viewport={"width": 1400, "height": 950}).new_page()
            warm = [gallery_open(page2, base + "/gallery?page=1&x=" + str(i)) for i in range(5)]
            deep = gallery_open(page2, f"{base}/gallery?page={n // 60}")
            print(
                f"gallery, {shown} tiles of {n}: cold thumbnails {cold:.2f} s; "
                f"warm median {statistics.median(warm):.2f} s (max {max(warm):.2f}); "
                f"page {n // 60} (cold) {deep:.2f} s"
            )

            # Live progress latency
            steps = "\n".join(
                f"  s{i}: {{op: test.work, value: {i}, seconds: 0.15{', input: s' + str(i - 1) if i else ''}}}"
                for i in range(40)
            )
            text = f"steps:\n{steps}\n"
            req = urllib.request.Request(
                base + "/api/runs",
                data=json.dumps({"text": text}).encode(),
                headers={"Content-Type": "application/json", "X-Routeyard": "1"},
            )
            run_id = json.load(urllib.request.urlopen(req))["run"]
            page.goto(f"{base}/runs/{run_id}")
            page.wait_for_selector("body[data-run-done=true]", timeout=120_000)
            events = page.evaluate("window.ryEvents")
            opened = page.evaluate("window.ryStreamOpenedAt")
            live = [1000 * (e["at"] - e["ts"]) for e in events if e["ts"] > opened]
            live.sort()
            print(
                f"live events: {len(live)} after the stream opened; delay engine→page "
                f"median {statistics.median(live):.1f} ms, p95 {live[int(0.95 * (len(live) - 1))]:.1f} ms, "
                f"max {live[-1]:.1f} ms"
            )
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
