"""The engine follows the router's chain: which failures fall back, which end the
step, cooldowns across runs, and no wrong-kind result passed off as success."""

from __future__ import annotations

import pytest

from routeyard import api
from routeyard.catalog import parse
from routeyard.pipeline.spec import parse as parse_pipeline
from routeyard.routing.cooldown import Cooldowns
from routeyard.routing.router import CatalogRouter
from tests.fakes.hosted import ScriptedProvider

CATALOG = parse(
    """
price_table_date: "2025-10-17"
sources: {test: a test}
providers: {fakehost: {env: []}, local: {env: []}}
models:
  - {id: m1, name: M1, family: one, version: "1", ops: [generate, test.work],
     traits: {prompt_adherence: [0.9, test]}, price: {unit: image, usd: 0.01, source: test},
     latency_s: 1, hosts: [{provider: fakehost, endpoints: {generate: m1, test.work: m1}}]}
  - {id: m2, name: M2, family: two, version: "1", ops: [generate, test.work],
     traits: {prompt_adherence: [0.8, test]}, price: {unit: image, usd: 0.01, source: test},
     latency_s: 1, hosts: [{provider: fakehost, endpoints: {generate: m2, test.work: m2}}]}
""",
    "test-catalog",
)
STEP = "steps:\n  a: {op: generate, model: auto, prompt: a red square}\n"


def run(home, provider, cooldowns=None, text=STEP):
    router = CatalogRouter(
        CATALOG, providers=["local", "fakehost"], cooldowns=cooldowns or Cooldowns()
    )
    spec = parse_pipeline(text)
    options = {"router": router, "providers": {"fakehost": provider}}
    if cooldowns is not None:
        options["cooldowns"] = cooldowns
    return api.run_pipeline(spec, home=home, engine_options=options)["steps"][0]


@pytest.mark.parametrize(
    ("first", "falls_back"),
    [("policy", True), ("permanent", True), ("ok", True), ("invalid", False), ("auth", False)],
)
def test_which_failures_fall_back_to_the_next_model(home, first, falls_back):
    # "ok" from the fake is a JSON result: the wrong kind for generate, so a failure.
    provider = ScriptedProvider(scripts={"m1": [first], "m2": ["image"]})
    step = run(home, provider)
    if falls_back:
        assert provider.calls == ["m1", "m2"]
        assert step["status"] == "executed" and step["model"] == "m2"
    else:
        assert provider.calls == ["m1"]  # the same input or key would fail on m2 too
        assert step["status"] == "failed"
    if first == "ok":
        assert step["model"] == "m2"


def test_a_wrong_kind_result_is_never_success(home):
    provider = ScriptedProvider(scripts={"m1": ["ok"], "m2": ["ok"]})
    step = run(home, provider)
    assert step["status"] == "failed"
    assert "returned a json where 'generate' makes a image" in step["error"]


def test_repeated_failures_cool_a_model_down_for_later_runs(home):
    cool = Cooldowns(failures=2, window_s=600, cooldown_s=600)
    provider = ScriptedProvider(scripts={"m1": ["permanent", "permanent"], "m2": ["image"] * 3})
    assert run(home, provider, cool)["model"] == "m2"
    text = STEP.replace("a red square", "a blue square")
    assert run(home, provider, cool, text)["model"] == "m2"
    assert provider.calls == ["m1", "m2", "m1", "m2"]
    third = STEP.replace("a red square", "a green square")
    assert run(home, provider, cool, third)["model"] == "m2"
    assert provider.calls[-1:] == ["m2"] and provider.calls.count("m1") == 2  # m1 skipped
