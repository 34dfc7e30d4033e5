"""The engine: caching, seeds, concurrency, retries, fallbacks, budget, failure, cancel."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from routeyard import api
from routeyard.api import build_engine
from routeyard.config import Limits, RetryPolicy
from routeyard.pipeline.spec import parse
from routeyard.store import Store
from tests.conftest import executed
from tests.fakes.hosted import ChainRouter, ScriptedProvider
from tests.fakes.ops import ACTIVE

CHAIN = """
steps:
  a: {op: test.work, value: 1}
  b: {op: test.work, input: a, value: 2}
  c: {op: test.work, input: b, value: 3}
  d: {op: test.work, input: c, value: 4}
"""


def statuses(run: dict) -> dict[str, str]:
    return {s["name"]: s["status"] for s in run["steps"]}


def run_spec(home, text, *, tmp_path=None, **engine):
    spec = parse(text, base_dir=tmp_path)
    return api.run_pipeline(spec, home=home, engine_options=engine)


def test_second_run_is_all_cache_hits_and_executes_nothing(home, exec_log):
    first = run_spec(home, CHAIN)
    assert set(statuses(first).values()) == {"executed"}
    assert executed(exec_log) == ["a", "b", "c", "d"]
    second = run_spec(home, CHAIN)
    assert set(statuses(second).values()) == {"cached"}
    assert executed(exec_log) == ["a", "b", "c", "d"]  # nothing ran again
    assert [s["outputs"] for s in second["steps"]] == [s["outputs"] for s in first["steps"]]
    assert second["cost_usd"] == 0


def test_changing_a_parameter_reruns_that_step_and_its_descendants_only(home, exec_log):
    run_spec(home, CHAIN)
    changed = run_spec(home, CHAIN.replace("value: 3", "value: 30"))
    assert statuses(changed) == {"a": "cached", "b": "cached", "c": "executed", "d": "executed"}
    assert executed(exec_log)[4:] == ["c", "d"]


def test_equivalent_spellings_share_a_cache_entry(home, exec_log):
    run_spec(home, "steps:\n  a: {op: test.work, value: 1, seconds: 0}\n")
    again = run_spec(home, "steps:\n  a: {op: test.work, seconds: 0.0, value: 1}\n")
    assert statuses(again) == {"a": "cached"}


def test_seeds_are_recorded_drawn_when_absent_and_stable(home):
    text = "steps:\n  a: {op: test.work}\n  b: {op: test.work, seed: 42}\n  r: {op: test.work, seed: random}\n"
    first = run_spec(home, text)
    seeds = {s["name"]: s["seed"] for s in first["steps"]}
    assert seeds["b"] == 42
    assert isinstance(seeds["a"], int) and seeds["a"] >= 0
    second = run_spec(home, text)
    seeds2 = {s["name"]: s["seed"] for s in second["steps"]}
    assert seeds2["a"] == seeds["a"]  # drawn once, reused: resume hits the cache
    assert statuses(second)["a"] == "cached"
    assert statuses(second)["r"] == "executed"  # seed: random draws anew
    with Store.open(home) as store:
        out = store.blobs.read(first["steps"][1]["outputs"][0])
    assert json.loads(out)["seed"] == 42  # the op really received the seed


def test_variants_fan_out_and_select_chooses_one(home, exec_log):
    text = """
steps:
  base: {op: test.work, value: 0}
  v: {op: test.work, input: base, variants: {value: [10, 20, 30]}}
  pick: {op: select, input: v, index: 2}
"""
    run = run_spec(home, text)
    st = statuses(run)
    assert st == {
        "base": "executed",
        "v[0]": "executed",
        "v[1]": "executed",
        "v[2]": "executed",
        "pick": "executed",
    }
    outs = {s["name"]: s["outputs"] for s in run["steps"]}
    assert outs["pick"] == outs["v[2]"]
    with Store.open(home) as store:
        assert json.loads(store.blobs.read(outs["pick"][0]))["value"] == 30


def test_concurrency_is_bounded_per_provider(home):
    steps = "\n".join(f"  s{i}: {{op: test.work, value: {i}, seconds: 0.05}}" for i in range(8))
    ACTIVE["peak"] = 0
    run_spec(home, f"steps:\n{steps}\n", limits=Limits({"local": 2}))
    assert ACTIVE["peak"] == 2
    ACTIVE["peak"] = 0
    run_spec(
        home, f"steps:\n{steps.replace('value', 'seed: 7, value')}\n", limits=Limits({"local": 4})
    )
    assert ACTIVE["peak"] == 4


def test_hosted_steps_wait_concurrently_within_model_limit(home):
    provider = ScriptedProvider(seconds=0.05)
    router = ChainRouter([("fake-model", "fakehost", 0.0)])
    steps = "\n".join(f"  s{i}: {{op: test.work, value: {i}}}" for i in range(12))
    run_spec(
        home,
        f"steps:\n{steps}\n",
        router=router,
        providers={"fakehost": provider},
        limits=Limits({"fakehost": 8, "fakehost/fake-model": 3}),
    )
    assert provider.peak == 3
    assert len(provider.calls) == 12


def test_transient_errors_are_retried_with_backoff(home):
    provider = ScriptedProvider(scripts={"m1": ["transient", "rate"]})
    run = run_spec(
        home,
        "steps:\n  a: {op: test.work}\n",
        router=ChainRouter([("m1", "fakehost", 0)]),
        providers={"fakehost": provider},
        retry=RetryPolicy(attempts=3, base_s=0.001),
        rng=random.Random(1),
    )
    assert statuses(run) == {"a": "executed"}
    assert provider.calls == ["m1", "m1", "m1"]
    with Store.open(home) as store:
        rec = store.catalog.get_run(run["run"])
        assert rec.steps[0].attempts == 3
        kinds = [e["kind"] for e in store.catalog.run_events(run["run"])]
    assert kinds.count("retry") == 2


def test_retries_give_up_after_the_policy_and_fall_back(home):
    provider = ScriptedProvider(scripts={"m1": ["transient"] * 5})
    run = run_spec(
        home,
        "steps:\n  a: {op: test.work}\n",
        router=ChainRouter([("m1", "fakehost", 0), ("m2", "fakehost", 0)]),
        providers={"fakehost": provider},
        retry=RetryPolicy(attempts=2, base_s=0.001),
    )
    assert provider.calls == ["m1", "m1", "m2"]
    assert run["steps"][0]["model"] == "m2"


def test_permanent_error_falls_back_along_the_route_chain(home):
    provider = ScriptedProvider(scripts={"m1": ["permanent"], "m2": ["policy"]})
    router = ChainRouter([("m1", "fakehost", 0), ("m2", "fakehost", 0), ("m3", "fakehost", 0)])
    run = run_spec(
        home, "steps:\n  a: {op: test.work}\n", router=router, providers={"fakehost": provider}
    )
    assert provider.calls == ["m1", "m2", "m3"]  # no retries on permanent kinds
    step = run["steps"][0]
    assert (step["status"], step["model"], step["provider"]) == ("executed", "m3", "fakehost")
    with Store.open(home) as store:
        rec = store.catalog.get_run(run["run"]).steps[0]
        decision = store.catalog.get_route(rec.id)
        jobs = store.catalog.jobs_for_cache_key(rec.cache_key)
    assert decision["fallbacks"] == ["m2", "m3"]
    assert decision["chosen"]["model"] == "m1"
    assert [j["job_id"] for j in jobs] == ["job-3"]  # the job that produced the result


def test_all_routes_failing_fails_the_step_and_skips_descendants(home, exec_log):
    provider = ScriptedProvider(scripts={"m1": ["permanent"]})
    text = """
steps:
  a: {op: test.work, model: hosted}
  b: {op: test.work, input: a}
  other: {op: test.work, value: 9}
"""

    class OnlyA(ChainRouter):
        def decide(self, *, op, model, params, brief):
            if model == "hosted":
                return super().decide(op=op, model=model, params=params, brief=brief)
            from routeyard.routing import LocalRouter

            return LocalRouter().decide(op=op, model=model, params=params, brief=brief)

    run = run_spec(
        home, text, router=OnlyA([("m1", "fakehost", 0)]), providers={"fakehost": provider}
    )
    assert run["status"] == "failed"
    assert statuses(run) == {"a": "failed", "b": "skipped", "other": "executed"}
    assert "model is gone" in run["steps"][0]["error"]
    assert executed(exec_log) == ["other"]


def test_budget_guard_refuses_a_step_over_what_is_left(home):
    provider = ScriptedProvider(cost_usd=0.4)
    text = "brief: {budget_usd: 1.0}\nsteps:\n" + "\n".join(
        f"  s{i}: {{op: test.work, value: {i}}}" for i in range(3)
    )
    run = run_spec(
        home,
        text,
        router=ChainRouter([("m1", "fakehost", 0.4)]),
        providers={"fakehost": provider},
        limits=Limits({"fakehost": 1}),
    )
    st = statuses(run)
    assert sorted(st.values()) == ["executed", "executed", "failed"]
    failed = next(s for s in run["steps"] if s["status"] == "failed")
    assert "exceeds the $0.20 left of the budget" in failed["error"]
    assert run["cost_usd"] == pytest.approx(0.8)
    assert len(provider.calls) == 2  # the refused step was never submitted


def test_budget_falls_back_to_a_cheaper_route(home):
    provider = ScriptedProvider()
    text = "brief: {budget_usd: 0.5}\nsteps:\n  a: {op: test.work}\n"
    run = run_spec(
        home,
        text,
        router=ChainRouter([("pricey", "fakehost", 2.0), ("cheap", "fakehost", 0.1)]),
        providers={"fakehost": provider},
    )
    assert run["steps"][0]["model"] == "cheap"
    assert provider.calls == ["cheap"]


def test_an_op_that_crashes_fails_its_step_not_the_run(home):
    run = run_spec(home, "steps:\n  boom: {op: test.crash}\n  ok: {op: test.work}\n")
    assert statuses(run) == {"boom": "failed", "ok": "executed"}
    assert "ZeroDivisionError" in run["steps"][0]["error"]


def test_cancel_records_running_steps_as_cancelled_and_resume_reuses_finished(home, exec_log):
    text = """
steps:
  fast: {op: test.work, value: 1}
  slow: {op: test.work, input: fast, value: 2, seconds: 1.5}
  after: {op: test.work, input: slow, value: 3}
"""
    spec = parse(text)

    async def run_then_cancel():
        with Store.open(home) as store:
            engine = build_engine(store)
            task = asyncio.create_task(engine.run(spec))
            while "fast" not in executed(exec_log):
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            runs = store.catalog.list_runs()
            return store.catalog.get_run(runs[0].id)

    rec = asyncio.run(run_then_cancel())
    assert rec.status == "cancelled"
    assert {s.node: s.status for s in rec.steps} == {
        "fast": "executed",
        "slow": "cancelled",
        "after": "cancelled",
    }
    with Store.open(home) as store:
        assert store.verify().ok
    resumed = run_spec(home, text)
    assert statuses(resumed) == {"fast": "cached", "slow": "executed", "after": "executed"}
    assert executed(exec_log).count("fast") == 1


def test_export_is_redone_when_its_files_were_deleted(home, tmp_path):
    text = """
steps:
  base: {op: import, source: "sample:coffee"}
  small: {op: resize, input: base, width: 64}
  out: {op: export, input: small, dir: delivered}
"""
    spec = parse(text, base_dir=tmp_path)
    first = api.run_pipeline(spec, home=home)
    files = sorted(p.name for p in (tmp_path / "delivered").iterdir())
    assert "provenance.json" in files and len(files) == 2
    assert statuses(api.run_pipeline(spec, home=home))["out"] == "cached"
    for p in (tmp_path / "delivered").iterdir():
        p.unlink()
    third = api.run_pipeline(spec, home=home)
    assert statuses(third) == {"base": "cached", "small": "cached", "out": "executed"}
    assert sorted(p.name for p in (tmp_path / "delivered").iterdir()) == files
    # the same deliverables again; the bytes differ only because each C2PA signature is new
    # (its claim carries a fresh instance id and signing time)
    sidecar = json.loads((tmp_path / "delivered" / "provenance.json").read_text())
    assert [d["asset"] for d in sidecar["deliverables"]] == third["steps"][2]["inputs"]
    assert first["steps"][2]["outputs"] != third["steps"][2]["outputs"]
