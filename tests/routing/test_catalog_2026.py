"""The 2026 catalog: lifecycles, evidence with dates, the new price units, and
no silent change of class (issue 17)."""

from __future__ import annotations

import pytest
import yaml

from routeyard import api, billing, ops
from routeyard import catalog as cat
from routeyard.brief import Brief
from routeyard.errors import PipelineError
from routeyard.routing.router import CatalogRouter
from tests.support.evaluation import all_keys, evaluate

CATALOG = cat.load().with_local(ops.all_ops())
KEYS = all_keys(CATALOG)


def test_labelled_briefs_route_only_to_active_models():
    routed = [r for r in evaluate("tests/data/routing_briefs.yaml") if r.model]
    assert len(routed) > 50
    for r in routed:
        status, words = CATALOG.get(r.model).lifecycle()
        assert status == "active", f"{r.case} / {r.stage} routed to {r.model}: {words}"


def test_every_chain_skips_retired_models_and_explains_them():
    router = CatalogRouter(env=KEYS)
    d = router.decide(op=ops.get_op("generate"), model="auto", params={},
                      brief=Brief(prompt="An oil painting of a harbour"))  # fmt: skip
    assert all(CATALOG.get(c.model).lifecycle()[0] == "active" for c in d.chain)
    reasons = {f["model"]: f["reason"] for f in d.filtered}
    assert reasons["nano-banana"] == "retired 2026-10-02 → nano-banana-2"
    video = router.decide(op=ops.get_op("animate"), model="auto", params={},
                          brief=Brief(prompt="A car chase"))  # fmt: skip
    reasons = {f["model"]: f["reason"] for f in video.filtered}
    assert reasons["veo-3"] == "retired 2026-06-30 → veo-3.1"
    assert reasons["kling-2.1-master"].startswith("retired 2026-09-15")


def test_a_pinned_retired_model_is_one_error_naming_its_successor(write, home):
    path = write("steps:\n  base: {op: generate, model: nano-banana, prompt: a cat}\n")
    with pytest.raises(PipelineError) as err:
        CatalogRouter(env=KEYS).decide(
            op=ops.get_op("generate"), model="nano-banana", params={}, brief=None
        )
    assert "retired 2026-10-02" in err.value.message and "nano-banana-2" in err.value.hint
    plan = api.plan_dry_run(path)
    assert plan["unroutable"] == ["base"]
    assert "nano-banana-2" in plan["steps"][0]["error"]


def _overlay(tmp_path, monkeypatch, data: dict) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("ROUTEYARD_CATALOG_OVERLAY", str(path))


def test_a_deprecated_model_warns_with_its_shutdown_date_and_then_retires(tmp_path, monkeypatch):
    _overlay(tmp_path, monkeypatch, {"updates": {"gpt-image-2": {
        "status": "deprecated", "shutdown": "2999-01-01", "successor": "flux-2-flex"}}})  # fmt: skip
    d = CatalogRouter(env=KEYS).decide(
        op=ops.get_op("generate"), model="auto", params={},
        brief=Brief(prompt="A billboard", text="SALE"),
    )  # fmt: skip
    assert d.chosen.model == "gpt-image-2"
    assert "gpt-image-2 is deprecated: shuts down 2999-01-01 → flux-2-flex" in d.extra["warnings"]
    model = cat.load().get("gpt-image-2")
    assert model.lifecycle("2999-01-02") == ("retired", "retired 2999-01-01 → flux-2-flex")


def test_every_trait_shown_has_a_source_and_a_date():
    d = CatalogRouter(env=KEYS).decide(
        op=ops.get_op("generate"), model="auto", params={},
        brief=Brief(prompt="A billboard", text="SALE"),
    )  # fmt: skip
    for cand in d.candidates:
        for trait, p in cand["evidence"].items():
            if p["value"] is None:
                continue
            assert p["source"] in CATALOG.sources and p["date"], (cand["model"], trait)
            for e in p.get("evidence", []):
                assert e["source"] in CATALOG.sources and e["claim"]
    top = d.candidates[0]["evidence"]["typography"]
    assert any(e["source"] == "arena" and e["date"] == "2026-08-14" for e in top["evidence"])


def test_the_new_price_units_are_quantity_times_unit_price():
    get = cat.load().get
    # FLUX.2 [pro] on BFL: $0.03 the first megapixel, $0.015 each further one and per input MP
    pro = get("flux-2-pro")
    bill = billing.estimate(
        pro, billing.Request(width=2048, height=1024, inputs=((1024, 1024),)), "bfl"
    )
    want = 0.03 + (2048 * 1024 / 1e6 - 1) * 0.015 + 1.048576 * 0.015
    assert bill.usd == pytest.approx(want, abs=1e-6)
    # fal rounds up to whole megapixels, each reference at least one
    fal = billing.estimate(
        pro, billing.Request(width=1100, height=1000, inputs=((200, 200),)), "fal"
    )
    assert fal.usd == pytest.approx(0.03 + 1 * 0.015 + 1 * 0.015)
    # Nano Banana Pro bills image-output tokens: 1120 at 1K/2K, 2000 at 4K, $120 per million
    nbp = get("nano-banana-pro")
    assert billing.estimate(
        nbp, billing.Request(width=4096, height=4096), "google"
    ).usd == pytest.approx(0.24)
    assert billing.estimate(
        nbp, billing.Request(width=1024, height=1024), "google"
    ).usd == pytest.approx(0.1344)
    # Seedance 2.0: tokens = seconds x W x H x fps / 1024 at $10/M (720p)
    s2 = get("seedance-2")
    bill = billing.estimate(s2, billing.Request(seconds=5, aspect="16:9"), "byteplus")
    assert bill.unit == "token" and bill.quantity == pytest.approx(5 * 1280 * 720 * 24 / 1024)
    assert bill.usd == pytest.approx(bill.quantity * 10.0 / 1e6, abs=1e-6)
    # Kling 2.6 on Kling: audio doubles the rate (an audio multiplier); on fal a listed rate
    k26 = get("kling-2.6-pro")
    assert billing.estimate(
        k26, billing.Request(seconds=5, audio=True), "kling"
    ).usd == pytest.approx(0.70)
    assert billing.estimate(
        k26, billing.Request(seconds=5, audio=False), "kling"
    ).usd == pytest.approx(0.35)
    assert billing.estimate(
        k26, billing.Request(seconds=5, audio=True), "fal"
    ).usd == pytest.approx(0.70)
    # Veo 3.1 per resolution
    veo = get("veo-3.1")
    assert billing.estimate(
        veo, billing.Request(seconds=8, resolution="4k"), "google"
    ).usd == pytest.approx(4.8)
    # an unconfirmed price is unknown, never $0 presented as a price
    assert not billing.estimate(get("gpt-image-2"), billing.Request(), "openai").known


def test_audio_wish_filters_to_native_audio_models():
    d = CatalogRouter(env=KEYS).decide(op=ops.get_op("animate"), model="auto", params={},
                                       brief=Brief(prompt="A car chase", audio=True))  # fmt: skip
    assert all(CATALOG.get(c.model).audio for c in d.chain)
    reasons = {f["model"]: f["reason"] for f in d.filtered}
    assert reasons["kling-2.5-turbo-pro"] == "no native audio (the brief asks for it)"


def test_no_silent_change_of_class(write, home, monkeypatch):
    """Hosted keys set, every hosted animator filtered by the deadline: without
    `fallback: local` the step fails naming what was tried; with it, the local
    engine runs and the step says it changed class."""
    base = "  base: {op: import, source: 'sample:astronaut'}\n"
    step = "  clip: {op: animate, input: base, seconds: 1, fps: 8, width: 64, height: 64}\n"
    router = CatalogRouter(providers=["local", "kling"], env={"KLING_ACCESS_KEY": "a",
                                                             "KLING_SECRET_KEY": "b"})  # fmt: skip
    strict = write("brief: {prompt: a car chase, deadline_s: 30}\nsteps:\n" + base + step)
    with pytest.raises(PipelineError) as err:
        api.run_pipeline(strict, engine_options={"router": router, "hosted": False})
    assert "fallback: local" in (err.value.hint or "") + err.value.message
    allowed = write(
        "brief: {prompt: a car chase, deadline_s: 30, fallback: local}\nsteps:\n" + base + step,
        name="allowed.yaml",
    )
    run = api.run_pipeline(allowed, engine_options={"router": router, "hosted": False})
    clip = next(s for s in run["steps"] if s["name"] == "clip")
    assert clip["status"] == "executed" and clip["model"] == "local/animate"
    assert any("another class" in w for w in clip["warnings"]), clip["warnings"]


def test_plan_dry_run_warns_about_old_and_unknown_prices(write):
    path = write("steps:\n  up: {op: generate, model: flux-dev, prompt: a cat}\n"
                 "  two: {op: generate, model: gpt-image-2, prompt: a dog}\n")  # fmt: skip
    plan = api.plan_dry_run(path)
    joined = " ".join(plan["warnings"])
    assert "flux-dev on fal: the estimate uses a price from 2025-10-17" in joined
    assert "models sync" in joined
