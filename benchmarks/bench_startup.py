"""Start-up time of the CLI: median of 10 fresh processes per command.

    python benchmarks/bench_startup.py

Commands: ``--help``, ``--version``, ``show last`` on an empty store and
``route`` of an example brief. The peer is a bare ``python -c pass`` in the
same run (the interpreter's own start-up, which no change here can remove);
the target is ``--help`` under 0.4 s on a 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10


def median_s(args: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ROUTEYARD_HOME": str(Path(tmp) / "store")}
        cli = [sys.executable, "-m", "routeyard.cli"]
        brief = ROOT / "examples" / "briefs" / "billboard-text.yaml"
        if not brief.exists():
            brief = next((ROOT / "examples" / "briefs").glob("*.yaml"))
        rows = [
            ("python -c pass (peer)", [sys.executable, "-c", "pass"]),
            ("routeyard --help", [*cli, "--help"]),
            ("routeyard --version", [*cli, "--version"]),
            ("routeyard show last (empty store)", [*cli, "show", "last"]),
            (f"routeyard route {brief.name}", [*cli, "route", str(brief)]),
        ]
        peer = None
        print(f"{'command':40} {'median s':>9} {'x peer':>7}")
        for label, args in rows:
            t = median_s(args, env)
            peer = peer or t
            print(f"{label:40} {t:9.3f} {t / peer:7.1f}")


if __name__ == "__main__":
    main()
