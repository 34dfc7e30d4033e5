"""How gates read what they judge: a still, or a clip's frames streamed.

Gates never hold a whole clip: frames are decoded one at a time and shrunk
or sampled by the gate. Empty, corrupt and unreadable files are refused with
the file named, before any score is computed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from routeyard.errors import OpInputError
from routeyard.media.pixels import load_rgb
from routeyard.media.video import is_video, read_frames


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    fps: float
    frames: int  # counted from the container; decoded when it does not say


def check_file(path: Path) -> None:
    if not path.exists():
        raise OpInputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise OpInputError(f"{path}: the file is empty (0 bytes)")


def is_clip(path: Path) -> bool:
    check_file(path)
    if is_video(path):
        return True
    try:
        with av.open(str(path)) as c:
            s = c.streams.video
            return (
                bool(s)
                and (s[0].frames > 1 or (s[0].duration or 0) > 0)
                and c.format.name != "image2"
            )
    except av.error.FFmpegError:
        return False


def still(path: Path) -> np.ndarray:
    """RGB of an image, or of a clip's first frame."""
    check_file(path)
    if is_clip(path):
        for frame in read_frames(path, where=str(path)):
            return frame
        raise OpInputError(f"{path}: the video has no frames")
    return load_rgb(path, where=str(path))


def clip_info(path: Path) -> ClipInfo:
    check_file(path)
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise OpInputError(f"{path}: the file has no video stream")
            s = c.streams.video[0]
            fps = float(s.average_rate) if s.average_rate else 24.0
            n = s.frames or sum(1 for _ in c.decode(video=0))
            return ClipInfo(s.codec_context.width, s.codec_context.height, fps, n)
    except av.error.FFmpegError as exc:
        raise OpInputError(f"{path}: not a readable video ({exc})") from None


def frames(path: Path, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(index, RGB) of every ``every``-th frame, decoded one at a time."""
    check_file(path)
    for i, frame in enumerate(read_frames(path, where=str(path))):
        if i % every == 0:
            yield i, frame


def sample_step(total: int, wanted: int) -> int:
    return max(1, -(-total // max(1, wanted)))
