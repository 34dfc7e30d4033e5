"""Fills measured against the photograph's true pixels under hidden masks,
and depth_cues measured against the noise it must not add (issue 19).

For each scikit-image / matplotlib photograph, boxes of 30–60 px are hidden
and filled by each method; reported per method: PSNR against the true
pixels, and the texture ratio — the fill's Laplacian spread over the true
pixels' (1 = the photograph's own texture, near 0 = a smear). Then
depth_cues on photographs and on a grainy flat gradient: the technical
gate's wavelet noise estimate before and after.

    python benchmarks/bench_inpaint.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import calibration as cal  # noqa: E402
from tests.support import heldout as H  # noqa: E402

from routeyard.checks.technical import noise_sigma  # noqa: E402
from routeyard.ops.depth import DepthCuesParams, enhance  # noqa: E402
from routeyard.ops.inpaint import fill  # noqa: E402


def laplace(rgb: np.ndarray) -> np.ndarray:
    return cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)


def main() -> None:
    images = {**cal.photos(("astronaut", "coffee", "chelsea", "rocket", "camera")), **{
        k: v for k, v in H.held_sources().items() if k.startswith("mpl/") and min(v.shape[:2]) > 200
    }}  # fmt: skip
    rng = np.random.default_rng(0)
    scores: dict[str, list[tuple[float, float, float]]] = {"texture": [], "telea": [], "ns": []}
    for img in images.values():
        h, w = img.shape[:2]
        for _ in range(4):
            bw, bh = int(rng.integers(30, 61)), int(rng.integers(30, 61))
            x, y = int(rng.integers(10, w - bw - 10)), int(rng.integers(10, h - bh - 10))
            region = np.zeros((h, w), bool)
            region[y : y + bh, x : x + bw] = True
            truth = laplace(img)[region].std()
            for method in scores:
                t = time.perf_counter()
                out = fill(img, region, method, 5)
                dt = time.perf_counter() - t
                err = np.mean((out[region].astype(float) - img[region]) ** 2)
                psnr = 10 * np.log10(255**2 / max(err, 1e-9))
                scores[method].append((psnr, laplace(out)[region].std() / max(truth, 1e-6), dt))
    print(
        "| fill | PSNR vs true pixels (median) | texture ratio (median; 1 = the photo's) | seconds per fill |"
    )
    print("| --- | --- | --- | --- |")
    for method, rows in scores.items():
        p, r, t = (np.median([row[i] for row in rows]) for i in range(3))
        print(f"| {method} | {p:.1f} dB | {r:.2f} | {t:.3f} |")
    print()
    print("| depth_cues input | noise σ before | noise σ after |")
    print("| --- | --- | --- |")
    grainy = np.clip(H._gradient() + rng.normal(0, 3, H._gradient().shape), 0, 255).astype(np.uint8)
    for name, img in {
        **{k: images[k] for k in ("astronaut", "coffee")},
        "grainy gradient": grainy,
    }.items():
        out = enhance(img, DepthCuesParams())
        print(f"| {name} | {noise_sigma(img):.2f} | {noise_sigma(out):.2f} |")


if __name__ == "__main__":
    main()
