"""Media facts (size, frames, fps, duration, mime) read safely from bytes.

Decoding untrusted images is where decompression bombs and truncated files
bite, so every image goes through ``probe`` with a pixel ceiling and a full
decode before routeyard stores or hands it on.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from routeyard.config import MAX_IMAGE_PIXELS
from routeyard.errors import MediaError

_IMAGE_MIMES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "GIF": "image/gif",
}
_VIDEO_MAGIC = (b"ftyp",)  # ISO BMFF (MP4/MOV) carries 'ftyp' at offset 4


@dataclass(frozen=True)
class MediaFacts:
    kind: str  # image | video | json | mask | binary
    mime: str
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    fps: float | None = None
    duration: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def open_image(data: bytes, *, source: str) -> Image.Image:
    """Decode an image fully, refusing bombs and truncated files with a clear error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit rules
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:
                raise MediaError(
                    f"{source}: image is {w}x{h} ({w * h / 1e6:.0f} MP), above the safe limit "
                    f"of {MAX_IMAGE_PIXELS / 1e6:.0f} MP",
                    hint="downscale it before importing",
                )
            img.load()
            return img
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise MediaError(
            f"{source}: image is above the safe limit of {MAX_IMAGE_PIXELS / 1e6:.0f} MP "
            "(a possible decompression bomb)",
            hint="downscale it before importing",
        ) from None
    except Image.UnidentifiedImageError:
        raise MediaError(
            f"{source}: not a recognised image format",
            hint="the file is corrupt, truncated or not an image; re-export it",
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(
            f"{source}: not a readable image ({exc})",
            hint="the file is corrupt, truncated or not an image; re-export it",
        ) from exc


def probe_bytes(data: bytes, *, source: str, mime_hint: str | None = None) -> MediaFacts:
    """Work out what ``data`` is and its media facts; images are fully decoded."""
    if mime_hint == "application/json" or (mime_hint is None and data[:1] in (b"{", b"[")):
        try:
            json.loads(data)
            return MediaFacts(kind="json", mime="application/json")
        except ValueError:
            pass
    if data[4:8] in _VIDEO_MAGIC or (mime_hint or "").startswith("video/"):
        return _probe_video(data, source=source)
    if (mime_hint or "").startswith("image/") or _looks_like_image(data):
        img = open_image(data, source=source)
        mime = _IMAGE_MIMES.get(img.format or "", mime_hint or "application/octet-stream")
        return MediaFacts(kind="image", mime=mime, width=img.width, height=img.height, frames=1)
    return MediaFacts(kind="binary", mime=mime_hint or "application/octet-stream")


def probe_file(path: Path, *, mime_hint: str | None = None) -> MediaFacts:
    return probe_bytes(path.read_bytes(), source=str(path), mime_hint=mime_hint)


def _looks_like_image(data: bytes) -> bool:
    signatures = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")
    return data.startswith(signatures)


def _probe_video(data: bytes, *, source: str) -> MediaFacts:
    import av  # imported lazily: only video paths need FFmpeg

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate) if stream.average_rate else None
            frames = stream.frames or None
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else (container.duration / 1e6 if container.duration else None)
            )
            if frames is None and fps and duration:
                frames = round(fps * duration)
            return MediaFacts(
                kind="video",
                mime="video/mp4",
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                frames=frames,
                fps=fps,
                duration=duration,
            )
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError(
            f"{source}: not a readable video ({exc})", hint="the file is corrupt or truncated"
        ) from exc
