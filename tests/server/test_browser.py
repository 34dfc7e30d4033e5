"""The studio in a real browser: the journey an operator takes, end to end.

Debian's chromium driven by Playwright (never `playwright install`). Skips
when either is missing; `.ci/run` installs chromium in CI. Screenshots of
every page land in ROUTEYARD_ARTIFACTS (default: .artifacts/studio).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from routeyard.store import Store
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("ROUTEYARD_ARTIFACTS", ROOT / ".artifacts" / "studio"))


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return json.load(r)


def statuses(run: dict) -> dict[str, str]:
    return {s["name"]: s["status"] for s in run["steps"]}


@pytest.fixture
def page(live_server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1400, "height": 950}, accept_downloads=True
        )
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.set_default_timeout(30_000)
        yield pg
        browser.close()
        assert errors == [], errors


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_done(pg) -> str:
    pg.wait_for_url("**/runs/*")
    pg.wait_for_selector("body[data-run-done=true]", timeout=240_000)
    return pg.url.rsplit("/", 1)[-1]


def test_operator_journey_in_the_browser(page, live_server, home, studio_root):
    base = live_server
    pg = page

    # Briefs & runs: the offline example is listed and chosen; plan it, then run it.
    pg.goto(base + "/")
    assert pg.input_value("#pipeline-file") == "examples/offline.yaml"
    pg.click("#plan-btn")
    pg.wait_for_selector("#plan-total")
    assert pg.locator("table.plan tbody tr").count() == 10  # routed steps; motion fans out to three
    shot(pg, "1-briefs-plan")
    pg.click("#run-btn")
    first_id = wait_done(pg)
    first = api(base, f"/api/runs/{first_id}")
    assert first["status"] == "done" and set(statuses(first).values()) == {"executed"}
    # the page was driven by live events, not by a reload
    kinds = pg.evaluate("window.ryEvents.map(e => e.kind)")
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished" and "finished" in kinds
    assert pg.inner_text("#run-status") == "done"
    shot(pg, "2-run-live-done")

    # Lineage of the chosen video; open the fill step's mask editor from its node.
    video = next(
        a for a in first["deliverables"] if api(base, f"/api/assets/{a}")["kind"] == "video"
    )
    pg.click(f"a[href='/assets/{video}']")
    pg.wait_for_selector("#edges path", state="attached")
    # base → cues → clean → plate, then plate → the move and plate → title, both into the video
    assert pg.locator(".node").count() == 7 and pg.locator("#edges path").count() == 7
    pg.click(".node[data-node='clean']")
    shot(pg, "3-lineage")
    pg.click(".node-detail:not([hidden]) a:has-text('Edit mask')")
    pg.wait_for_url("**/mask/clean")
    pg.wait_for_function("window.ryMask !== undefined")
    pg.wait_for_timeout(300)  # the current region is drawn in

    # Paint a new region (the mission patch), replacing the box; save and re-run.
    pg.click("#clear-btn")
    canvas = pg.locator("#mask-canvas").bounding_box()
    scale = canvas["width"] / 512
    pg.mouse.move(canvas["x"] + 160 * scale, canvas["y"] + 400 * scale)
    pg.mouse.down()
    for x in range(160, 225, 8):
        pg.mouse.move(canvas["x"] + x * scale, canvas["y"] + 410 * scale)
    pg.mouse.up()
    shot(pg, "4-mask-editor")
    pg.click("#save-btn")
    second_id = wait_done(pg)
    second = api(base, f"/api/runs/{second_id}")
    assert second["status"] == "done" and second["parent_run"] == first_id
    got = statuses(second)
    assert got["base"] == got["cues"] == "cached"
    assert all(got[n] == "executed" for n in got if n not in ("base", "cues")), got
    with Store.open(home) as store:  # the painted mask is a mask asset the step read
        run = store.catalog.get_run(second_id)
        clean = next(s for s in run.steps if s.node == "clean")
        assert clean.params["box"] is None
        mask_id = hashlib.sha256(Path(clean.params["mask"]).read_bytes()).hexdigest()
        assert store.catalog.get_asset(mask_id).kind == "mask"
        painted = np.asarray(Image.open(store.path_of(mask_id))) > 127
        assert painted[405:415, 170:215].all() and not painted[334:366, 274:332].any()
    shot(pg, "5-rerun-done")

    # Variants side by side: scores measured, the kept one marked; choose another.
    pg.click("a:has-text('Compare variants of motion')")
    pg.wait_for_selector("#variants[data-scored=true]", timeout=120_000)
    assert pg.locator(".variant").count() == 3 and pg.locator(".variant.selected").count() == 1
    assert pg.locator(".variant .plot polyline").count() == 6
    shot(pg, "6-variants")
    pick = pg.locator(".variant:not(.selected)").first
    picked_node = pick.get_attribute("data-node")
    picked_asset = pick.get_attribute("data-asset")
    pick.locator("button.choose").click()
    third_id = wait_done(pg)
    third = api(base, f"/api/runs/{third_id}")
    # the choice, the headline composited on it, the export: nothing upstream
    assert {n for n, s in statuses(third).items() if s == "executed"} == {"best", "video", "out"}
    assert next(s for s in third["steps"] if s["name"] == "best")["outputs"] == [picked_asset]
    delivered = next(s for s in third["steps"] if s["name"] == "video")
    assert picked_asset in delivered["inputs"]
    pg.click("a:has-text('Compare variants of motion')")
    pg.wait_for_selector(".variant.selected")
    assert pg.locator(".variant.selected").get_attribute("data-node") == picked_node
    pg.goto(f"{base}/runs/{third_id}")

    # Export the chosen one from the browser.
    with pg.expect_download() as info:
        pg.click("#export-btn")
    data = Path(info.value.path()).read_bytes()
    z = zipfile.ZipFile(io.BytesIO(data))
    sidecar = json.loads(z.read(next(n for n in z.namelist() if n.endswith("provenance.json"))))
    assert delivered["outputs"][0] in {d["asset"] for d in sidecar["deliverables"]}
    assert any(n.endswith(".mp4") for n in z.namelist())

    # Frame review: step, flag a frame, see it stored.
    pg.goto(f"{base}/assets/{picked_asset}/review")
    pg.wait_for_selector("#review[data-scored=true]", timeout=120_000)
    for _ in range(5):
        pg.click("#next-btn")
    pg.fill("#flag-form input[name=note]", "helmet warps")
    pg.click("#flag-form button[type=submit]")
    pg.wait_for_selector("#flags tbody tr")
    shot(pg, "7-frame-review")
    notes = api(base, f"/api/assets/{picked_asset}/annotations")["annotations"]
    assert [(n["frame"], n["note"]) for n in notes] == [(5, "helmet warps")]

    # Gallery (video filter), models and costs render.
    pg.goto(base + "/gallery?kind=video")
    # three moves before and after the mask, and the three delivered (titled) videos
    assert pg.locator(".tile").count() == 9
    shot(pg, "8-gallery")
    pg.goto(base + "/models")
    assert pg.locator("tr[data-model='kling-3-pro']").count() == 1
    shot(pg, "9-models")
    pg.goto(base + "/costs")
    shot(pg, "10-costs")
