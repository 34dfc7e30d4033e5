"""Engine benchmarks for issue 2 (plain script; numbers go into the README).

    python benchmarks/bench_engine.py [--json]

1. overhead: a 1,000-step chain of no-op steps, executed then re-run from cache
   (targets: < 2 ms/step executed, < 0.5 ms/step cached);
2. rerun: a 20-step chain of 100 ms steps, re-run from step 10 (wall ≈ the
   descendants' time only; the ratio to a full run is reported);
3. fan-out: 50 variants of a 1 s simulated hosted step at concurrency 10
   (≈ 5 s, not 50 s).
Each case uses a fresh temporary store with the default durability settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from routeyard import api
from routeyard.config import Limits
from routeyard.ops import register
from routeyard.ops.base import Op, OpParams, Output
from routeyard.pipeline.spec import parse
from routeyard.providers import Provider, ProviderResult, Task
from routeyard.routing import LocalRouter, RouteChoice, RouteDecision


class NoopParams(OpParams):
    i: int = 0
    sleep_s: float = 0.0


@register
class BenchNoop(Op):
    name = "bench.noop"
    stage = "refine"
    Params = NoopParams
    min_inputs = 0
    max_inputs = None
    threaded = False

    def run(self, ctx, inputs, params):
        return [Output(data=b'{"i":%d}' % params.i, mime_hint="application/json")]


@register
class BenchSleep(BenchNoop):
    name = "bench.sleep"
    threaded = True

    def run(self, ctx, inputs, params):
        time.sleep(params.sleep_s)
        return super().run(ctx, inputs, params)


@register
class BenchHosted(BenchNoop):
    name = "bench.hosted"


class SimulatedHost(Provider):
    """A hosted provider whose jobs take ``seconds`` of waiting (no CPU)."""

    name = "simhost"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def run(self, task: Task) -> ProviderResult:
        task.jobs.submitted(f"job-{task.node}")
        await asyncio.sleep(self.seconds)
        return ProviderResult(outputs=task.op.run(task.ctx, task.inputs, task.params))


class HostedRouter(LocalRouter):
    def decide(self, *, op, model, params, brief):
        if op.name != "bench.hosted":
            return super().decide(op=op, model=model, params=params, brief=brief)
        choice = RouteChoice(model="sim-video", provider="simhost", version="1")
        return RouteDecision(chain=(choice,), reason="simulated hosted model")


def chain(n: int, op: str, extra: str = "") -> str:
    lines = [
        f"  s{i}: {{op: {op}, i: {i}{extra}{', input: s' + str(i - 1) if i else ''}}}"
        for i in range(n)
    ]
    return "steps:\n" + "\n".join(lines) + "\n"


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def bench_overhead(home: Path, n: int = 1000) -> dict:
    spec = parse(chain(n, "bench.noop"))
    cold, run = timed(lambda: api.run_pipeline(spec, home=home))
    assert run["status"] == "done" and all(s["status"] == "executed" for s in run["steps"])
    warm, again = timed(lambda: api.run_pipeline(spec, home=home))
    assert all(s["status"] == "cached" for s in again["steps"])
    return {
        "steps": n,
        "executed_ms_per_step": 1000 * cold / n,
        "cached_ms_per_step": 1000 * warm / n,
    }


def bench_rerun(home: Path, n: int = 20, sleep_s: float = 0.1, from_step: int = 10) -> dict:
    spec = parse(chain(n, "bench.sleep", f", sleep_s: {sleep_s}"))
    full, run = timed(lambda: api.run_pipeline(spec, home=home))
    part, again = timed(lambda: api.rerun(run["run"], f"s{from_step}", home=home))
    ran = [s["name"] for s in again["steps"] if s["status"] == "executed"]
    assert ran == [f"s{i}" for i in range(from_step, n)], ran
    return {
        "chain": n,
        "step_s": sleep_s,
        "rerun_from": f"s{from_step}",
        "full_s": full,
        "rerun_s": part,
        "ratio": part / full,
        "descendants": len(ran),
        "ideal_ratio": len(ran) / n,
    }


def bench_fanout(home: Path, n: int = 50, seconds: float = 1.0, concurrency: int = 10) -> dict:
    values = ", ".join(str(i) for i in range(n))
    spec = parse(f"steps:\n  motion: {{op: bench.hosted, variants: {{i: [{values}]}}}}\n")
    opts = {
        "router": HostedRouter(),
        "providers": {"simhost": SimulatedHost(seconds)},
        "limits": Limits({"simhost": concurrency}),
    }
    wall, run = timed(lambda: api.run_pipeline(spec, home=home, engine_options=opts))
    assert len(run["steps"]) == n and all(s["status"] == "executed" for s in run["steps"])
    return {
        "variants": n,
        "job_s": seconds,
        "concurrency": concurrency,
        "wall_s": wall,
        "ideal_s": n / concurrency * seconds,
        "serial_s": n * seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"python {sys.version.split()[0]}".strip()
    }
    for name, fn in (
        ("overhead", bench_overhead),
        ("rerun", bench_rerun),
        ("fanout", bench_fanout),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = fn(Path(tmp) / "store")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    o, r, f = results["overhead"], results["rerun"], results["fanout"]
    print(
        f"overhead  {o['steps']} no-op steps: {o['executed_ms_per_step']:.2f} ms/step executed, "
        f"{o['cached_ms_per_step']:.2f} ms/step cached"
    )
    print(
        f"rerun     {r['chain']}×{r['step_s']}s chain from {r['rerun_from']}: full {r['full_s']:.2f}s, "
        f"re-run {r['rerun_s']:.2f}s, ratio {r['ratio']:.2f} (ideal {r['ideal_ratio']:.2f})"
    )
    print(
        f"fan-out   {f['variants']}×{f['job_s']}s hosted at concurrency {f['concurrency']}: "
        f"{f['wall_s']:.2f}s (ideal {f['ideal_s']:.1f}s, serial {f['serial_s']:.0f}s)"
    )


if __name__ == "__main__":
    main()
