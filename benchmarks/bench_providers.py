"""Hosted jobs waiting at once: a fan-out of N generate steps on the fake fal
queue (each job queued 0.5 s, running 1.0 s), through the whole adapter path:
submit, ledger write, polling with backoff, download, hash, store.

Measures wall time against the ideal (the provider's 1.5 s per job times the
number of waves the concurrency limit allows), the peak of jobs in flight,
and HTTP requests per job. Run: python benchmarks/bench_providers.py [N] [CONCURRENCY]
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.fal import FakeFal  # noqa: E402

from routeyard import api  # noqa: E402
from routeyard.providers import limits  # noqa: E402


def main(n: int = 200, concurrency: int = 50) -> None:
    fake = FakeFal(queued_s=0.5, running_s=1.0).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "providers.yaml"
        cfg.write_text(
            f"fal: {{concurrency: {concurrency}, requests_per_minute: 100000, "
            "poll_initial_s: 0.25, poll_cap_s: 1.0}\n"
        )
        os.environ.update(
            FAL_KEY=fake.key,
            ROUTEYARD_FAL_BASE_URL=fake.url,
            ROUTEYARD_CONFIG=str(cfg),
            ROUTEYARD_HOME=str(Path(tmp) / "store"),
        )
        prompts = ", ".join(f"'a cup, take {i}'" for i in range(n))
        pipe = Path(tmp) / "fan.yaml"
        pipe.write_text(
            "brief: {prompt: 'a cup'}\nsteps:\n"
            f"  base: {{op: generate, model: flux-schnell, width: 64, height: 64, "
            f"variants: {{prompt: [{prompts}]}}}}\n"
        )
        started = time.perf_counter()
        run = api.run_pipeline(pipe, engine_options={"limits": _limits(concurrency)})
        wall = time.perf_counter() - started
    fake.stop()
    assert run["status"] == "done", run["error"]
    waves = math.ceil(n / concurrency)
    peak = limits.for_provider("fal", concurrency, 100000).peak
    print(
        f"{n} hosted jobs, concurrency {concurrency}: {wall:.2f} s wall "
        f"(ideal {waves * 1.5:.1f} s: {waves} waves of 1.5 s); "
        f"peak in flight {peak}; {len(fake.requests) / n:.1f} HTTP requests per job; "
        f"submissions {fake.total_submissions}"
    )


def _limits(concurrency: int):
    from routeyard.config import Limits

    return Limits({"fal": concurrency})


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
