"""The README's stills of the offline journey, taken from the delivered files.

Runs examples/offline.yaml in a scratch folder (as the README's first command
does), then writes docs/offline-hero.jpg (the hero PNG, downsized) and
docs/offline-video.jpg (frames 0, 48 and 95 of the delivered MP4, side by
side), and prints what the typography gate reads on that video.

    python benchmarks/readme_stills.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    work = Path(tempfile.mkdtemp())
    shutil.copy(ROOT / "examples" / "offline.yaml", work / "offline.yaml")
    subprocess.run(
        [sys.executable, "-m", "routeyard.cli", "run", "offline.yaml"], cwd=work, check=True
    )
    out = work / "out"
    hero = next(out.glob("hero-*.png"))
    video = next(out.glob("video-*.mp4"))
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    img = Image.open(hero).convert("RGB")
    img.thumbnail((384, 384))
    img.save(docs / "offline-hero.jpg", quality=85)
    with av.open(str(video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    picks = [frames[i] for i in (0, len(frames) // 2, len(frames) - 1)]
    strip = Image.fromarray(np.concatenate(picks, axis=1))
    strip.thumbnail((3 * 256, 256))
    strip.save(docs / "offline-video.jpg", quality=85)
    from routeyard.checks import check

    result = check("typography", video, text="SPACE WEEK")
    print(f"typography {result.score:.3f}: {result.message}")
    print("glyph consistency", result.details.get("glyph_consistency"))


if __name__ == "__main__":
    main()
