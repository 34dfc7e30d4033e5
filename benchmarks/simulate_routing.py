"""Does the router learn? A simulated world where each motion model has a hidden
gate pass rate per brief tag that differs from the catalog's prior.

    python benchmarks/simulate_routing.py [--plot routing-sim.png]

Each of 500 briefs has one content tag (night, product, portrait, sports,
landscape) and a motion intent. The router picks a model; the gate passes
with the chosen model's hidden rate for that tag; the outcome is recorded.
Regret is measured against an oracle that knows the hidden rates and picks
the eligible model with the best one (quality policy: pass rate is the
objective). Routers compared: static (catalog priors only), learning
(posterior means) and Thompson (``explore: true``). Then the quality-versus-
cost trade-off of the four policies, with the learning router.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the evaluation harnesses live in tests/support

from tests.support.simulation import SEEDS, cumulative, mean_curve, simulate  # noqa: E402


def main() -> None:
    plot = sys.argv[sys.argv.index("--plot") + 1] if "--plot" in sys.argv else None
    curves = {}
    print(f"cumulative regret vs the oracle, quality policy, mean of {SEEDS} worlds")
    print("| router | after 100 | after 250 | after 500 | last 100 / first 100 |")
    print("| --- | --- | --- | --- | --- |")
    for mode in ("static", "learning", "thompson"):
        runs = [cumulative(simulate(mode, "quality", s)["regret"]) for s in range(SEEDS)]
        c = mean_curve(runs)
        curves[mode] = c
        first, last = c[99], c[-1] - c[-101]
        print(f"| {mode} | {c[99]:.1f} | {c[249]:.1f} | {c[-1]:.1f} | {last / first:.2f} |")
    print("\nquality vs cost by policy (learning router, mean per brief)")
    print("| policy | hidden pass rate | est. cost per clip |")
    print("| --- | --- | --- |")
    trade = {}
    for policy in ("quality", "balanced", "economy", "fast"):
        q, c = [], []
        for s in range(SEEDS):
            r = simulate("learning", policy, s)
            q += r["quality"]
            c += r["cost"]
        trade[policy] = (sum(q) / len(q), sum(c) / len(c))
        print(f"| {policy} | {trade[policy][0]:.3f} | ${trade[policy][1]:.2f} |")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        for mode, c in curves.items():
            a.plot(range(1, len(c) + 1), c, label=mode)
        a.set(xlabel="briefs", ylabel="cumulative regret", title="learning from gate outcomes")
        a.legend()
        for policy, (q, c) in trade.items():
            b.scatter(c, q)
            b.annotate(policy, (c, q))
        b.set(xlabel="est. cost per clip (USD)", ylabel="hidden pass rate", title="policies")
        fig.tight_layout()
        fig.savefig(plot, dpi=100)
        print(f"\nplot: {plot}")


if __name__ == "__main__":
    main()
