"""Each adapter against its provider's fake: the documented protocol end to end,
through the engine, with real media coming back and the job ledger filled."""

from __future__ import annotations

import pytest

from routeyard import api
from routeyard.store import Store

# provider, op, model, the endpoint the fake must see
CASES = [
    ("fal", "generate", "flux-dev", "fal-ai/flux/dev"),
    ("fal", "edit", "nano-banana", "fal-ai/nano-banana/edit"),
    ("fal", "edit", "seedream-4", "fal-ai/bytedance/seedream/v4/edit"),
    ("fal", "inpaint", "flux-fill-pro", "fal-ai/flux-pro/v1/fill"),
    ("fal", "upscale", "clarity-upscaler", "fal-ai/clarity-upscaler"),
    ("fal", "animate", "kling-2.1-standard", "fal-ai/kling-video/v2.1/standard/image-to-video"),
    ("fal", "animate", "veo-3", "fal-ai/veo3/image-to-video"),
    ("fal", "animate", "seedance-1-pro", "fal-ai/bytedance/seedance/v1/pro/image-to-video"),
    ("replicate", "generate", "flux-schnell", "black-forest-labs/flux-schnell"),
    ("replicate", "edit", "flux-kontext-pro", "black-forest-labs/flux-kontext-pro"),
    ("replicate", "animate", "kling-2.1-standard", "kwaivgi/kling-v2.1"),
    ("bfl", "generate", "flux-pro-1.1", "flux-pro-1.1"),
    ("bfl", "edit", "flux-kontext-pro", "flux-kontext-pro"),
    ("bfl", "inpaint", "flux-fill-pro", "flux-pro-1.0-fill"),
    ("google", "generate", "nano-banana", "gemini-2.5-flash-image"),
    ("google", "edit", "nano-banana", "gemini-2.5-flash-image"),
    ("google", "animate", "veo-3", "veo-3.0-generate-001"),
    ("kling", "animate", "kling-2.1-standard", "kling-v2-1"),
    ("byteplus", "generate", "seedream-4", "seedream-4-0-250828"),
    ("byteplus", "edit", "seedream-4", "seedream-4-0-250828"),
    ("byteplus", "animate", "seedance-1-pro", "seedance-1-0-pro-250528"),
]
STEP = {
    "generate": "{op: generate, model: %s, width: 512, height: 384}",
    "edit": "{op: edit, input: base, model: %s, prompt: 'make it painterly'}",
    "inpaint": "{op: inpaint, input: base, model: %s, box: [40, 40, 120, 120]}",
    "upscale": "{op: upscale, input: base, model: %s, scale: 2}",
    "animate": "{op: animate, input: base, model: %s, seconds: 5}",
}


def pipeline(op: str, model: str) -> str:
    base = "  base: {op: import, source: 'sample:coffee'}\n" if op != "generate" else ""
    name = "base" if op == "generate" else "out"
    return (
        "brief: {prompt: 'A ceramic cup on a walnut table, \"MORNING\" on a card'}\n"
        f"steps:\n{base}  {name}: {STEP[op] % model}\n"
    )


@pytest.mark.parametrize(("provider", "op", "model", "endpoint"), CASES)
def test_adapter_runs_its_fake_end_to_end(fakes, home, write, provider, op, model, endpoint):
    fake = fakes(provider)
    run = api.run_pipeline(write(pipeline(op, model)))
    assert run["status"] == "done", run
    step = run["steps"][-1]
    assert (step["model"], step["provider"]) == (model, provider)
    assert fake.total_submissions == 1
    assert endpoint in next(iter(fake.submissions))
    with Store.open(home) as store:
        asset = store.catalog.get_asset(step["outputs"][0])
        want = "video" if op == "animate" else "image"
        assert asset.kind == want
        if op == "animate":  # Veo renders 4, 6 or 8 s: 5 s asked is 6 s made, and said
            veo = model.startswith("veo")
            assert asset.duration == pytest.approx(6.0 if veo else 5.0, abs=0.1)
            assert any("renders 6 s" in w for w in step["warnings"]) == veo
        if op == "generate" and provider in ("fal", "bfl", "byteplus"):
            assert (asset.width, asset.height) == (512, 384)  # the size was sent and honoured
        if op == "upscale":
            assert asset.width == 2 * store.catalog.get_asset(run["steps"][0]["outputs"][0]).width
        # the URL is metadata (no signature), the bytes are ours and hash-verified
        assert asset.meta["provider"] == provider
        assert "?" not in asset.meta["source_url"]
        assert asset.meta["sha256"] == asset.id
    costs = api.costs(run["run"])
    [job] = costs["jobs"]
    assert job["status"] == "succeeded" and job["provider"] == provider
    assert job["cost_usd"] == pytest.approx(step["cost_usd"]) and job["cost_usd"] > 0
    assert job["cost_usd"] == pytest.approx(job["quantity"] * job["usd_per_unit"], rel=1e-3)
    if op == "animate":
        assert job["unit"] == "video_second"
