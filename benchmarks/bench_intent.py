"""The brief reader on labelled briefs nobody tuned it to (issue 19).

tests/data/intent_briefs.yaml holds operator-style briefs in two halves
written separately: ``dev`` fits the reader's margins (``--fit`` prints the
best grid point on dev only), ``held`` is only reported. Each brief is
routed through the real router with every key set, and a stage decision is
right when the base and motion steps land on the families its labels need.

    python benchmarks/bench_intent.py [--fit] [--cues]

``--cues`` reads with the keyword cues (the core install, without the
``intent`` extra) for comparison.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.evaluation import evaluate_cases, intent_cases  # noqa: E402

from routeyard.routing import intent  # noqa: E402

DATA = ROOT / "tests" / "data" / "intent_briefs.yaml"


def accuracy(half: str) -> tuple[float, int, int, list[str]]:
    results = evaluate_cases(intent_cases(DATA, half))
    wrong = [f"{r.case!r} {r.stage}: {r.got}, expected {r.expected}" for r in results if not r.ok]
    ok = sum(r.ok for r in results)
    return ok / len(results), ok, len(results), wrong


def fit() -> None:
    best = None
    for m, t, s in itertools.product((0.0, 0.02, 0.04, 0.06), (0.05, 0.1), (0.05, 0.1)):
        for floor in (0.25, 0.3, 0.35):
            intent.MARGINS.update(motion=m, text=t, style=s)
            intent.FLOOR = floor
            acc = accuracy("dev")[0]
            if best is None or acc > best[0]:
                best = (acc, m, t, s, floor)
    print(
        f"best on dev: {best[0]:.1%} at motion {best[1]}, text {best[2]}, style {best[3]}, "
        f"floor {best[4]}"
    )


def main() -> None:
    if "--cues" in sys.argv:
        intent._embedder.cache_clear()
        intent._scored.cache_clear()
        intent.model_path = lambda: None  # type: ignore[assignment]
    if "--fit" in sys.argv:
        fit()
        return
    started = time.perf_counter()
    print(f"reader: {'minilm' if intent.available() else 'keyword cues'}")
    print("| half | briefs | stage decisions right |")
    print("| --- | --- | --- |")
    for half in ("dev", "held"):
        acc, ok, n, wrong = accuracy(half)
        print(f"| {half} | {n // 2} | {ok}/{n} ({acc:.1%}) |")
        for w in wrong:
            print("   ", w)
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
