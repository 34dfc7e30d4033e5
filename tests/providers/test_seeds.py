"""Honest seeds: for every adapter and op, what the fake received decides what
the lineage and the exported provenance say the seed was."""

from __future__ import annotations

import json

import pytest

from routeyard import api
from routeyard.providers.hosted import carries_seed
from tests.providers.cases import STEP, adapter_cases

CASES = adapter_cases()

SEED = 4242


def pipeline(op: str, model: str) -> str:
    base = "  base: {op: import, source: 'sample:coffee'}\n" if op != "generate" else ""
    name = "base" if op == "generate" else "out"
    step = STEP[op] % model
    step = step[:-1] + f", seed: {SEED}}}"
    return (
        "brief: {prompt: 'A ceramic cup on a walnut table, \"MORNING\" on a card'}\n"
        f"steps:\n{base}  {name}: {step}\n"
    )


@pytest.mark.parametrize(("provider", "op", "model", "endpoint"), CASES)
def test_the_lineage_seed_is_the_one_the_provider_received(
    fakes, home, write, tmp_path, provider, op, model, endpoint
):
    fake = fakes(provider)
    run = api.run_pipeline(write(pipeline(op, model)))
    assert run["status"] == "done", run
    step = run["steps"][-1]
    assert fake.bodies, "the fake recorded no request body"
    sent = carries_seed(fake.bodies[-1], SEED)
    tree = api.lineage(step["outputs"][0])
    if sent:
        assert tree["seed"] == SEED
        assert not any("takes no seed" in w for w in step["warnings"])
    else:
        assert tree["seed"] is None
        assert (
            f"{model} on {provider} takes no seed: the result is not reproducible"
            in (step["warnings"])
        )
        assert "takes no seed" in tree["seed_note"]
    sidecar = api.export_run(run["run"], tmp_path / "out")
    exported = sidecar["deliverables"][-1]["lineage"]
    assert exported["seed"] == tree["seed"]
    assert json.dumps(sidecar).count(str(SEED)) >= (1 if sent else 0)
