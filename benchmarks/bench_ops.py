"""Local op timings on a 1024×1024 photograph (issue 3 target: each under 5 s on 2 cores).

    python benchmarks/bench_ops.py

Times the op's pixel work only (what a step adds beyond engine overhead),
best of three, on scikit-image's astronaut photo resized to 1024×1024.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

from routeyard.media import faces
from routeyard.media.matte import subject_matte
from routeyard.ops.composite import CompositeParams, paint, place
from routeyard.ops.depth import DepthCuesParams, enhance
from routeyard.ops.fonts import find_font
from routeyard.ops.inpaint import fill
from routeyard.ops.restore import noise_sigma, upscale
from routeyard.ops.typeset import TypesetParams, draw, fit


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    photo = cv2.resize(skdata.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    region = np.zeros((1024, 1024), bool)
    region[400:560, 600:760] = True  # a 160×160 object
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 20, photo.shape), 0, 255).astype(
        np.uint8
    )
    half = cv2.resize(photo, (512, 512), interpolation=cv2.INTER_AREA)

    def denoise():
        h = noise_sigma(noisy)
        cv2.fastNlMeansDenoisingColored(noisy, None, h, h, 7, 21)

    rows = {
        "inpaint 1024² (160×160 region, telea)": best_of(lambda: fill(photo, region, "telea", 5)),
        "denoise 1024² (NL-means, estimated sigma)": best_of(denoise),
        "upscale 512²→1024² (×2, 6 back-projections)": best_of(lambda: upscale(half, 2, 6)),
        "upscale 1024²→2048² (×2, 6 back-projections)": best_of(lambda: upscale(photo, 2, 6)),
    }
    font = str(find_font("DejaVu Sans Bold"))
    headline = TypesetParams(text="SPACE WEEK — 20% OFF TODAY")

    def typeset():
        lay = fit(headline.text, font, 900, 200, headline)
        draw(Image.fromarray(photo), (62, 800, 962, 1000), lay, font, headline)

    cutout = np.dstack([photo, (subject_matte(photo) * 255).astype(np.uint8)])

    def composite():
        layer = place(
            cutout[..., :3], cutout[..., 3] / 255.0, (1024, 1024), CompositeParams(scale=0.5)
        )
        paint(photo, [layer])

    rows |= {
        "remove_background 1024² (GrabCut at 400 px + guided filter)": best_of(
            lambda: subject_matte(photo)
        ),
        "depth_cues 1024² (incl. subject matte)": best_of(
            lambda: enhance(photo, DepthCuesParams())
        ),
        "typeset 1024² (auto-fit + stroke + shadow)": best_of(typeset),
        "composite 1024² (one half-size layer, feather 2)": best_of(composite),
    }
    if faces.available():
        import matplotlib.cbook
        from routeyard.media.faceswap import FaceSwapParams, swap

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            donor = np.asarray(Image.open(f).convert("RGB"))

        def face_swap():
            t, s = faces.find_faces(photo)[0], faces.find_faces(donor)[0]
            swap(photo, donor, t, s, FaceSwapParams())

        rows["face_swap 1024² (HOG detect both + clone)"] = best_of(face_swap)
    for name, seconds in rows.items():
        print(f"{name:62s} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
