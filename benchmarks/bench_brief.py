"""A brief in, a delivery out (issue 18), timed.

    python benchmarks/bench_brief.py            # both parts
    python benchmarks/bench_brief.py offline    # or one of them
    python benchmarks/bench_brief.py campaign

1. ``routeyard run examples/briefs/space-week.yaml`` in a fresh store, as a
   user would (process start included), then again: the second run is all
   cache hits. Reported with the ratio cached / first.
2. The hosted campaign (examples/campaigns/summer-drop.yaml: 3 products × 2
   formats × 3 camera styles) against the fal fake with scaled latencies
   (each job queued 1 s and running 6 s; real video jobs take minutes, which
   only stretches both sides of the ratio). The wall time is compared with the
   run's critical path: the longest chain of dependent steps, each at the
   duration it actually took in the same run. A ratio near 1 means the engine
   ran every independent branch at once; the sum of all step times is what
   one-at-a-time would have cost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fakes live in tests/fakes

BRIEF = ROOT / "examples" / "briefs" / "space-week.yaml"
CAMPAIGN = ROOT / "examples" / "campaigns" / "summer-drop.yaml"


def offline() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(BRIEF, Path(tmp) / "space-week.yaml")
        env = dict(os.environ, ROUTEYARD_HOME=str(Path(tmp) / "store"))
        times = []
        for label in ("first run", "second run (cached)"):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "routeyard.cli", "run", "space-week.yaml"],
                cwd=tmp,
                env=env,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - t0)
            print(f"offline brief, {label:22s} {times[-1]:7.2f} s")
        print(f"offline brief, cached / first          {times[1] / times[0]:7.3f}")


def critical_path(run: dict) -> tuple[float, float]:
    """(longest dependent chain, sum of all steps), in step seconds."""
    producer: dict[str, dict] = {}
    for s in run["steps"]:
        for a in s["outputs"]:
            producer.setdefault(a, s)
    memo: dict[str, float] = {}

    def finish(step: dict) -> float:
        key = step["name"]
        if key not in memo:
            memo[key] = 0.0  # cycle guard (a select passes an input's asset on)
            before = [
                finish(producer[a])
                for a in step["inputs"]
                if a in producer and producer[a]["name"] != key
            ]
            memo[key] = (step["seconds"] or 0.0) + max(before, default=0.0)
        return memo[key]

    done = [s for s in run["steps"] if s["seconds"] is not None]
    return max(finish(s) for s in done), sum(s["seconds"] for s in done)


def campaign() -> None:
    from tests.providers.conftest import KEYS, make_fake

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROUTEYARD_HOME"] = str(Path(tmp) / "store")
        os.environ["ROUTEYARD_CATALOG_OVERLAY"] = str(Path(tmp) / "none.yaml")
        for var in [v for keys in KEYS.values() for v in keys]:
            os.environ.pop(var, None)
        fake = make_fake("fal", queued_s=1.0, running_s=6.0).start()
        try:
            os.environ.update(KEYS["fal"])
            os.environ["ROUTEYARD_FAL_BASE_URL"] = fake.url
            from routeyard import api

            path = Path(shutil.copy(CAMPAIGN, Path(tmp) / "summer-drop.yaml"))
            t0 = time.perf_counter()
            run = api.run_pipeline(path)
            wall = time.perf_counter() - t0
        finally:
            fake.stop()
        assert run["status"] == "done", run["status"]
        longest, total = critical_path(run)
        files = [d for d in run["delivery"] if d["file"]]
        print(
            f"hosted campaign: {len(files)} deliverables, {fake.total_submissions} jobs, "
            f"{len(run['steps'])} steps"
        )
        print(f"hosted campaign, wall                   {wall:7.1f} s")
        print(f"hosted campaign, critical path          {longest:7.1f} s")
        print(f"hosted campaign, all steps one by one   {total:7.1f} s")
        print(f"hosted campaign, wall / critical path   {wall / longest:7.2f}")


def main() -> None:
    which = sys.argv[1:] or ["offline", "campaign"]
    if "offline" in which:
        offline()
    if "campaign" in which:
        campaign()


if __name__ == "__main__":
    main()
