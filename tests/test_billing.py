"""One billing module: the router's estimate, the budget guard and the adapters'
figures agree, for every catalog model, op and a grid of sizes and durations."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
import typer

from routeyard import api, billing, cli, ops
from routeyard import catalog as cat
from routeyard.brief import Brief
from routeyard.errors import BudgetExceededError
from routeyard.providers.hosted import HostedProvider, billed_request
from routeyard.routing.requirements import analyse
from routeyard.routing.router import CatalogRouter, estimate_cost
from tests.fakes.hosted import ScriptedProvider

SIZES = [(256, 256), (512, 384), (1024, 1024), (2048, 1152), (4096, 4096)]
SECONDS = [1.0, 4.0, 5.0, 5.1, 6.0, 8.0, 10.0, 12.5]
RESOLUTIONS = [None, "720p", "1080p"]


class _Task:
    """What the adapter's estimate reads of a task."""

    def __init__(self, op, params, brief):
        self.op = op
        self.params = op.Params.model_validate(params)
        self.brief = brief
        self.inputs = []


def _grid(op_name: str):
    if op_name == "animate":
        for s, r in itertools.product(SECONDS, RESOLUTIONS):
            yield {"seconds": s, **({"resolution": r} if r else {})}
    elif op_name == "generate":
        for w, h in SIZES:
            yield {"width": w, "height": h}
    else:
        yield {}


def test_router_estimate_equals_the_adapters_for_every_model_op_and_size():
    catalog = cat.load()
    compared = 0
    for model in catalog.models:
        for op_name in model.ops:
            op = ops.get_op(op_name)
            if op is None:
                continue
            for raw in _grid(op_name):
                fields = op.Params.model_fields
                params = {k: v for k, v in raw.items() if k in fields}
                if "prompt" in fields and fields["prompt"].is_required():
                    params["prompt"] = "make it painterly"
                if op_name in ("inpaint", "remove_object"):
                    params["box"] = [0, 0, 8, 8]
                for brief in (None, Brief(prompt="p", deliver={"video": {"seconds": 6}})):
                    task = _Task(op, params, brief)
                    dumped = task.params.model_dump()
                    req = analyse(brief, op.name, op.stage, dumped)
                    for host in model.hosts:
                        router = estimate_cost(model, req, host.provider)
                        adapter = HostedProvider.estimate(
                            SimpleNamespace(name=host.provider), model, task
                        )  # type: ignore[arg-type]
                        if router is None:  # no confirmed price: both say so
                            assert not adapter.known, (model.id, host.provider)
                            continue
                        assert router == pytest.approx(adapter.usd), (model.id, op_name, params)
                        compared += 1
    assert compared > 200


def test_duration_tiers_round_up_for_asks_and_forgive_encoder_slack_for_results():
    assert billing.billed_seconds((5, 10), 5.1) == 10.0  # asked 5.1 s: the 10 s tier is made
    assert billing.billed_seconds((5, 10), 5.1, slack=billing.MEASURED_SLACK_S) == 5.0
    assert billing.billed_seconds((5, 10), 12.0) == 10.0  # the longest tier
    assert billing.billed_seconds((), 7.25) == 7.25  # billed by the second


def test_an_upscale_is_priced_from_its_input_and_the_budget_guard_refuses_it(home, write):
    model = cat.load().get("clarity-upscaler")
    op = ops.get_op("upscale")
    with_input = billing.request_for("upscale", {"scale": 4}, None, (1024, 1024))
    assert (with_input.width, with_input.height) == (4096, 4096)
    expected = billing.estimate(model, with_input).usd
    assert expected == pytest.approx(4096 * 4096 / 1e6 * model.price.usd)
    assert expected > 0.10

    class _Input:
        class record:
            kind, width, height = "image", 1024, 1024

    task = _Task(op, {"scale": 4}, None)
    task.inputs = [_Input()]
    assert billing.estimate(model, billed_request(task)).usd == pytest.approx(expected)

    # The guard reserves the same figure: with $0.10 left the step is refused, unpaid.
    path = write(
        "brief: {budget_usd: 0.10}\n"
        "steps:\n"
        "  base: {op: import, source: 'sample:astronaut'}\n"
        "  big: {op: resize, input: base, width: 1024, height: 1024}\n"
        "  hero: {op: upscale, input: big, model: clarity-upscaler, scale: 4}\n"
    )
    router = CatalogRouter(providers=["local", "fal"], env={"FAL_KEY": "k" * 20})
    fal = ScriptedProvider(name="fal")
    run = api.run_pipeline(
        path, engine_options={"router": router, "hosted": False, "providers": {"fal": fal}}
    )
    hero = next(s for s in run["steps"] if s["name"] == "hero")
    assert hero["status"] == "failed"
    assert f"estimated ${expected:.2f} exceeds the $0.10 left" in hero["error"]
    assert run["cost_usd"] == 0 and fal.calls == []
    # Refused by the budget alone: the run says so, and the CLI exits 6 (not 1).
    assert run["over_budget"] and run["error"].startswith("over budget: 1 step(s)")
    with pytest.raises(typer.Exit) as exited:
        cli._exit_for(run)
    assert exited.value.exit_code == BudgetExceededError.exit_code == 6
