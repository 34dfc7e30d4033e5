"""The README's main command, timed end to end (issue 3 targets: under 2 min
on 2 cores, and a second run that is all cache hits in under 3 s).

    python benchmarks/bench_journey.py

Runs ``routeyard run examples/offline.yaml`` twice in a fresh store, as a
user would (process start and imports included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "offline.yaml"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(EXAMPLE, Path(tmp) / "offline.yaml")
        env = dict(os.environ, ROUTEYARD_HOME=str(Path(tmp) / "store"))
        for label in ("first run", "second run (cached)"):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "routeyard.cli", "run", "offline.yaml"],
                cwd=tmp,
                env=env,
                check=True,
                capture_output=True,
            )
            print(f"{label:22s} {time.perf_counter() - t0:6.2f} s")


if __name__ == "__main__":
    main()
