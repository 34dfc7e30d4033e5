"""Each adapter against its provider's fake: the documented protocol end to end,
through the engine, with real media coming back and the job ledger filled."""

from __future__ import annotations

import pytest

from routeyard import api, catalog
from routeyard.providers.hosted import carries_seed
from routeyard.store import Store
from tests.fakes.server import asked_seconds, asked_shape
from tests.providers.cases import STEP, adapter_cases, price_by_overlay


def fake_tokens(fake) -> int | None:
    """The output tokens the fake last reported (OpenAI usage, Gemini usageMetadata)."""
    return getattr(fake, "last_tokens", None)


# provider, op, model, the endpoint the fake must see: from the catalog
CASES = adapter_cases()


def pipeline(op: str, model: str) -> str:
    base = "  base: {op: import, source: 'sample:coffee'}\n" if op != "generate" else ""
    name = "base" if op == "generate" else "out"
    return (
        "brief: {prompt: 'A ceramic cup on a walnut table, \"MORNING\" on a card'}\n"
        f"steps:\n{base}  {name}: {STEP[op] % model}\n"
    )


@pytest.mark.parametrize(("provider", "op", "model", "endpoint"), CASES)
def test_adapter_runs_its_fake_end_to_end(
    fakes, home, write, tmp_path, monkeypatch, provider, op, model, endpoint
):
    fake = fakes(provider)
    # unconfirmed in the sources: priced the way a team would, by its overlay
    price_by_overlay(provider, model, tmp_path, monkeypatch)
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
        if op == "animate":  # 5 s asked: what was sent was made, and a change is said
            sent = asked_seconds(fake.bodies[-1])
            if sent is None:
                assert any("support 'seconds'" in w for w in step["warnings"]), step
            else:
                assert asset.duration == pytest.approx(sent, abs=0.1)
                said = any(f"renders {sent:g} s for the asked 5 s" in w for w in step["warnings"])
                assert said == (sent != 5)
        if op == "generate":  # the size (or its aspect) was sent, and honoured
            asked = asked_shape(fake.bodies[-1])
            if asked is None:
                said = ("size", "aspect", "'width'")
                assert any(any(x in w for x in said) for w in step["warnings"]), step
            elif asked[0] == "size":
                assert asked[1] == (asset.width, asset.height) == (512, 384)
            else:
                assert asked[1] == pytest.approx(4 / 3, rel=0.05)
                assert asset.width / asset.height == pytest.approx(asked[1], rel=0.01)
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
    billed = job["quantity"] * job["usd_per_unit"]
    billed += sum(x["quantity"] * x["usd_per_unit"] for x in job["lines"])
    assert job["cost_usd"] == pytest.approx(billed, rel=1e-3)
    entry = catalog.load().get(model)
    want_unit = entry.price_for(provider).unit
    assert job["unit"] == want_unit
    if want_unit == "token" and job.get("tier") == "reported":  # what the provider billed
        assert job["quantity"] == fake_tokens(fake)
    # seeds are honest: the step's seed where the request carried one, else none
    lineage = api.lineage(step["outputs"][0])
    sent = carries_seed(fake.bodies[-1], lineage.get("seed") or -1)
    if lineage.get("seed") is None:
        assert any("takes no seed" in w for w in step["warnings"]), step
    else:
        assert sent, (lineage, fake.bodies[-1])


def test_every_hosted_adapter_has_a_fake_and_catalog_credentials():
    """A provider is one adapter module, one fake and catalog data: all three, or none."""
    from routeyard.providers import adapters
    from tests.providers.conftest import FAKES, KEYS

    hosted = set(adapters()) - {"local"}
    assert hosted == set(FAKES), "every adapter needs a fake in tests/fakes (and no stray fakes)"
    assert all(KEYS[name] for name in hosted), "every adapter's catalog entry names its keys"
    assert {case[0] for case in CASES} == hosted, "every adapter serves a catalog model"
