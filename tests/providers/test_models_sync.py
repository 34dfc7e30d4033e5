"""`routeyard models sync` against fakes of fal's, Replicate's and the Gemini
API's listings: the overlay it writes and the change report (issue 17, item 4)."""

from __future__ import annotations

import hashlib

import yaml

from routeyard import api, catalog

SCHNELL, MAX, CLARITY, BIREFNET = (
    "fal-ai/flux/schnell",
    "fal-ai/flux-2-max",
    "fal-ai/clarity-upscaler",
    "fal-ai/birefnet/v2",
)


def _fal_ids() -> list[str]:
    return sorted(
        {e for m in catalog.load().models for h in m.hosts if h.provider == "fal"
         for e in h.endpoints.values()}
    )  # fmt: skip


def _setup(fakes, tmp_path, monkeypatch):
    overlay = tmp_path / "catalog.yaml"
    monkeypatch.setenv("ROUTEYARD_CATALOG_OVERLAY", str(overlay))
    fal, rep, goo = fakes("fal", "replicate", "google")
    for e in _fal_ids():  # every endpoint priced as the catalog has it ...
        if e != BIREFNET:  # ... but one the listing leaves out (a partial answer)
            fal.prices[e] = {"unit_price": 0.05, "unit": "image", "currency": "USD"}
    fal.prices[SCHNELL] = {"unit_price": 0.004, "unit": "megapixels", "currency": "USD"}
    fal.prices[MAX] = {"unit_price": 0.08, "unit": "megapixels", "currency": "USD"}
    fal.prices[CLARITY] = {"unit_price": 2, "unit": "credits", "currency": "USD"}
    fal.listed = [*_fal_ids(), "fal-ai/brand-new-model"]
    rep.unlisted = {"black-forest-labs/flux-2-klein-9b"}
    goo.listed = [
        h.endpoints[op]
        for m in catalog.load().models for h in m.hosts if h.provider == "google"
        for op in h.endpoints if h.endpoints[op] != "gemini-nano-banana-2.1"
    ] + ["veo-4-generate-preview"]  # fmt: skip
    return overlay, fal, rep, goo


def _report(data: dict, provider: str) -> dict:
    return next(p for p in data["providers"] if p["provider"] == provider)


def test_sync_writes_the_overlay_and_reports_what_changed(fakes, tmp_path, monkeypatch):
    packaged = catalog._DATA.read_bytes()
    overlay, fal, *_ = _setup(fakes, tmp_path, monkeypatch)

    first = api.models_sync()
    f = _report(first, "fal")
    assert f["error"] is None
    assert any("flux-schnell on fal: $0.003/megapixel → $0.004/megapixel" in p for p in f["prices"])
    assert any("flux-2-max on fal: unknown → $0.08/megapixel" in p for p in f["prices"])
    assert any("unknown unit 'credits'" in o for o in f["odd"])  # never applied
    assert any("birefnet-v2: missed once" in v for v in f["vanished"])
    assert f["new"] == ["fal-ai/brand-new-model"]  # read across pages of the model list
    assert any("flux-2-klein-9b" in v for v in _report(first, "replicate")["vanished"])
    g = _report(first, "google")
    assert "veo-4-generate-preview" in g["new"]
    assert any("nano-banana-2-1" in v for v in g["vanished"])
    manual = {m["provider"]: m["note"] for m in first["manual"]}
    assert set(manual) == {"bfl", "kling", "byteplus", "openai"}
    assert all("checked by hand on 2026-12-01" in n for n in manual.values())

    written = yaml.safe_load(overlay.read_text())
    assert written["synced"]["fal"] and written["sources"]["models-sync"]["date"]
    cat = catalog.load()  # the overlay is laid over the package at once
    assert cat.get("flux-schnell").price_for("fal").usd == 0.004
    assert cat.get("flux-2-max").price_for("fal").known
    assert cat.get("flux-schnell").price_for("replicate").usd == 0.003  # only fal's moved
    assert cat.get("birefnet-v2").host("fal").status == "active"  # one miss is not gone
    assert catalog._DATA.read_bytes() == packaged  # the package is never written

    second = api.models_sync()
    assert any("birefnet-v2 (" in v for v in _report(second, "fal")["vanished"])
    cat = catalog.load()
    assert cat.get("birefnet-v2").host("fal").status == "unavailable"
    assert cat.get("birefnet-v2").providers_for("remove_background") == []  # never routed
    assert cat.get("birefnet-v2") is not None  # kept: old lineage names it
    assert hashlib.sha256(catalog._DATA.read_bytes()).digest() == hashlib.sha256(packaged).digest()

    fal.prices[BIREFNET] = {"unit_price": 0.002, "unit": "image", "currency": "USD"}
    third = api.models_sync()
    assert "birefnet-v2" in _report(third, "fal")["back"]
    assert catalog.load().get("birefnet-v2").host("fal").status == "active"


def test_a_failed_listing_marks_nothing_missing(fakes, tmp_path, monkeypatch):
    overlay, fal, *_ = _setup(fakes, tmp_path, monkeypatch)
    fal.script("listing", "503")
    report = api.models_sync()
    f = _report(report, "fal")
    assert f["error"] and "503" in f["error"]
    assert f["vanished"] == [] and f["prices"] == []
    written = yaml.safe_load(overlay.read_text())
    assert "fal" not in (written.get("synced") or {})
    assert not any("fal" in (u.get("hosts") or {}) for u in (written.get("updates") or {}).values())


def test_dry_run_writes_nothing(fakes, tmp_path, monkeypatch):
    overlay, *_ = _setup(fakes, tmp_path, monkeypatch)
    report = api.models_sync(write=False)
    assert not overlay.exists() and report["written"] is False
    assert _report(report, "fal")["prices"]


def test_the_readme_overlay_example_is_a_valid_overlay(tmp_path, monkeypatch):
    """The README's example of a team's own entries parses and is laid over the package."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text[text.index("models:                                   # whole entries") :]
    overlay = tmp_path / "catalog.yaml"
    overlay.write_text(block[: block.index("```")])
    monkeypatch.setenv("ROUTEYARD_CATALOG_OVERLAY", str(overlay))
    cat = catalog.load()
    assert cat.get("our-flux-lora").host("fal").request.fields["size"] == "image_size"
    assert cat.get("gpt-image-2").price_for("openai").usd == 36.0
    assert cat.get("gpt-image-2").price_for("fal").unit == "image"  # other hosts untouched
