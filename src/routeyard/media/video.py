"""Streamed H.264 writing and frame reading, through PyAV (FFmpeg).

Frames go to the encoder one at a time as they are rendered, so memory stays
flat however long the clip. The output is what every browser and social
platform plays: H.264 High profile, yuv420p, even dimensions, constant frame
rate, and the index (``moov``) at the front of the file (``+faststart``) so
it starts playing before it has fully downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from routeyard.errors import OpInputError
from routeyard.memory import pin_mmap_threshold


class Mp4Writer:
    """``with Mp4Writer(path, w, h, fps) as out: out.write(rgb)`` for each frame."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: int,
        *,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs even dimensions, got {width}x{height}")
        pin_mmap_threshold()
        self.path, self.width, self.height = path, width, height
        self.frames = 0
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset, "profile": "high"}
        # One encoder thread: x264's frame threading gave different bytes for the
        # same frames when several clips were encoded at once, and a content-
        # addressed store needs the same clip to be the same blob. Variants
        # still encode in parallel, one per core.
        stream.thread_count = 1
        self._stream = stream

    def write(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame {self.frames}: expected {self.height}x{self.width}x3 uint8")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)  # never leave half a video behind


def read_frames(path: Path, *, where: str) -> Iterator[np.ndarray]:
    """Decoded RGB frames of a video, one at a time."""
    pin_mmap_threshold()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise OpInputError(f"{where}: the file has no video stream")
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as exc:
        raise OpInputError(f"{where}: not a readable video ({exc})") from exc


def video_info(path: Path, *, where: str) -> tuple[int, int, float]:
    """(width, height, fps) of a video's first stream."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate) if stream.average_rate else 24.0
            return stream.codec_context.width, stream.codec_context.height, fps
    except (av.error.FFmpegError, IndexError) as exc:
        raise OpInputError(f"{where}: not a readable video ({exc})") from exc


def is_video(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(8)[4:8] == b"ftyp"
