"""Quality-gate speed and memory (issue 4 targets: ``temporal`` + ``background``
on a 5 s, 24 fps, 1280×720 clip in under 10 s on 2 cores, streaming frames;
still-image gates under 1 s at 2048×2048).

    python benchmarks/bench_gates.py

Clips are rendered once by the local parallax engine (astronaut, dolly-in);
each gate then runs in a fresh process so its wall time and peak RSS are its
own. "Streaming" is shown by the 20 s clip: four times the frames, the same
peak memory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

RENDER = """
import sys
from pathlib import Path
from skimage import data
from routeyard.ops.animate import cover
from routeyard.media.matte import subject_matte
from routeyard.ops.parallax import build_layers, frames
from routeyard.media.video import Mp4Writer
seconds, out = float(sys.argv[1]), Path(sys.argv[2])
still = data.astronaut()
layers = build_layers(cover(still, (1280, 720)), cover(subject_matte(still), (1280, 720)))
with Mp4Writer(out, 1280, 720, 24) as w:
    for f in frames(layers, "dolly-in", round(seconds * 24), 0.5):
        w.write(f)
"""

STILL = """
import sys, cv2
from skimage import data
from routeyard.ops.animate import cover
img = cover(data.astronaut(), (2048, 2048))
cv2.putText(img, "SUMMER DROP", (200, 1800), cv2.FONT_HERSHEY_SIMPLEX, 6, (255, 255, 255), 14)
cv2.imwrite(sys.argv[1], cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
"""

CASE = """
import sys, time, resource, json
from pathlib import Path
from routeyard.checks import check
gate, files, params = sys.argv[1], [Path(p) for p in sys.argv[2].split(",")], json.loads(sys.argv[3])
t0 = time.perf_counter()
r = check(gate, files, **params)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, r.score)
"""


def run(gate: str, files: list[Path], **params) -> tuple[float, float, float | None]:
    import json

    result = subprocess.run(
        [sys.executable, "-c", CASE, gate, ",".join(map(str, files)), json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall, rss, score = result.stdout.split()
    return float(wall), float(rss), None if score == "None" else float(score)


def row(label: str, wall: float, rss: float, score: float | None) -> None:
    shown = "—" if score is None else f"{score:.3f}"
    print(f"| {label} | {wall:.2f} | {rss:.0f} | {shown} |")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = {s: tmp / f"clip{s}.mp4" for s in (5, 20)}
        for seconds, path in clips.items():
            subprocess.run([sys.executable, "-c", RENDER, str(seconds), str(path)], check=True)
        image = tmp / "still.png"
        subprocess.run([sys.executable, "-c", STILL, str(image)], check=True)
        print("| gate, input | seconds | peak RSS MB | score |")
        print("| --- | --- | --- | --- |")
        for seconds, path in clips.items():
            total = 0.0
            for gate in ("temporal", "background"):
                wall, rss, score = min(run(gate, [path]) for _ in range(2 if seconds == 5 else 1))
                total += wall
                row(f"{gate}, {seconds} s 24 fps 1280×720", wall, rss, score)
            print(f"| temporal + background, {seconds} s | {total:.2f} | | |")
        cases = (
            ("first_frame", [image], {}),
            ("technical", [image], {"deliver": "4k"}),
            ("series_color", [image, image], {}),
            ("typography", [image], {"text": "SUMMER DROP"}),
            ("identity", [image], {}),
            ("prompt", [image], {}),
        )
        for gate, files, params in cases:
            wall, rss, score = min(run(gate, files, **params) for _ in range(2))
            row(f"{gate}, 2048×2048 still", wall, rss, score)


if __name__ == "__main__":
    main()
