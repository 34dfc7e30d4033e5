"""Router accuracy on the labelled set and decision latency on the packaged 2026
catalog and on one padded to 150 hosted models (target: under 1 ms per stage
decision, issues 5 and 17).

    python benchmarks/bench_router.py

The 50-model catalog is the packaged one padded with copies of its hosted
entries (new ids, traits jittered), so filters and scoring do the same work
per model as they would on a real catalog of that size.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the evaluation harnesses live in tests/support

from tests.support.evaluation import all_keys, evaluate  # noqa: E402

from routeyard import catalog as cat  # noqa: E402
from routeyard import ops  # noqa: E402
from routeyard.brief import Brief  # noqa: E402
from routeyard.routing.router import CatalogRouter  # noqa: E402

BRIEFS = [
    Brief(prompt="A billboard over a highway", text="SUMMER DROP", motion="cinematic"),
    Brief(prompt="An oil painting of a harbour, slow ripples", policy="economy"),
    Brief(prompt="A car chase at night", deliver={"video": {"seconds": 9, "aspect": "16:9"}}),
    Brief(prompt="Steam rising from a cup", motion="gentle", budget_usd=2.0, tags=["product"]),
]


def padded(size: int) -> cat.Catalog:
    base = cat.load().with_local(ops.all_ops())
    rng = random.Random(0)
    hosted = [m for m in base.models if m.hosted]
    extra = []
    i = 0
    while len(hosted) + len(extra) < size:  # 50 hosted models, plus the local ops
        src = hosted[i % len(hosted)]
        traits = {
            k: t.model_copy(update={"value": min(1.0, max(0.0, t.value + rng.uniform(-0.1, 0.1)))})
            for k, t in src.traits.items()
        }
        extra.append(src.model_copy(update={"id": f"{src.id}-copy{i}", "traits": traits}))
        i += 1
    return base.model_copy(update={"models": (*base.models, *extra)})


def main() -> None:
    results = evaluate("tests/data/routing_briefs.yaml")
    ok = sum(r.ok for r in results)
    cases = len({r.case for r in results})
    print(
        f"labelled set: {cases} briefs, {ok}/{len(results)} stage decisions correct ({ok / len(results):.0%})"
    )

    for size in (0, 150):
        latency(padded(size) if size else cat.load().with_local(ops.all_ops()))


def latency(catalog: cat.Catalog) -> None:
    hosted = sum(m.hosted for m in catalog.models)
    router = CatalogRouter(catalog, env=all_keys(catalog))
    stage_ops = [ops.get_op(n) for n in ("generate", "edit", "animate")]
    for op in stage_ops:  # warm up
        router.decide(op=op, model="auto", params={}, brief=BRIEFS[0])
    for explained in (False, True):
        timings = []
        for _ in range(300):
            for brief in BRIEFS:
                for op in stage_ops:
                    t0 = time.perf_counter()
                    d = router.decide(op=op, model="auto", params={}, brief=brief)
                    if explained:  # the whole explanation, as the engine records it
                        d.to_dict()
                    timings.append(time.perf_counter() - t0)
        timings.sort()
        what = "decision + full explanation" if explained else "decision (chain, reason)"
        print(
            f"{what}, {len(catalog.models)}-model catalog ({hosted} hosted), "
            f"{len(timings)} decisions: median {statistics.median(timings) * 1e3:.3f} ms, "
            f"p95 {timings[int(len(timings) * 0.95)] * 1e3:.3f} ms"
        )


if __name__ == "__main__":
    main()
