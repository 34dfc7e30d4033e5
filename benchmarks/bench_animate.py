"""Local animate: render + encode time and peak memory (issue 3 target: a 5 s,
24 fps, 1280×720 parallax clip in under 20 s on 2 cores, memory bounded).

    python benchmarks/bench_animate.py

Each case runs in a fresh process so its peak RSS is its own. "Bounded"
means the peak does not grow with the clip's length: frames are streamed to
the encoder, never all held (a 20 s clip of 1280×720 RGB frames would be
1.3 GB if they were).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CASE = """
import sys, time, resource
from pathlib import Path
from skimage import data
from routeyard.ops.animate import cover
from routeyard.media.matte import subject_matte
from routeyard.ops.parallax import build_layers, frames
from routeyard.media.video import Mp4Writer
seconds, move, out = float(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
still = data.astronaut()
t0 = time.perf_counter()
alpha = subject_matte(still)
layers = build_layers(cover(still, (1280, 720)), cover(alpha, (1280, 720)))
count = round(seconds * 24)
with Mp4Writer(out, 1280, 720, 24) as w:
    for f in frames(layers, move, count, 0.5):
        w.write(f)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run(seconds: float, move: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        result = subprocess.run(
            [sys.executable, "-c", CASE, str(seconds), move, str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall, rss = (float(v) for v in result.stdout.split())
        return wall, rss


def main() -> None:
    print(f"{'case':40s} {'seconds':>8s} {'peak RSS':>10s}")
    for move in ("dolly-in", "pan-left", "orbit", "float"):
        wall, rss = min(run(5, move) for _ in range(2))
        print(f"{'5 s 24 fps 1280x720 ' + move:40s} {wall:8.2f} {rss:8.0f} MB")
    wall, rss = run(20, "dolly-in")
    print(f"{'20 s 24 fps 1280x720 dolly-in':40s} {wall:8.2f} {rss:8.0f} MB")


if __name__ == "__main__":
    main()
