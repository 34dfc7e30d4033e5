"""The watermark applied to, and read from, whole files.

Images are decoded, marked and written back in their own format: PNG and
WebP losslessly, JPEG at quality 95 with its ICC profile and EXIF. A video is
re-encoded frame by frame (H.264 CRF 16, its frame rate and audio kept), so
every frame carries the mark and a copy of any few seconds still does.
Reading samples up to ``SAMPLE_FRAMES`` frames of a video and lets them vote
together.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from routeyard.credentials import watermark
from routeyard.memory import pin_mmap_threshold

MARKABLE = ("image/png", "image/jpeg", "image/webp", "video/mp4")
SAMPLE_FRAMES = 150  # a 6 s clip at 25 fps: every frame votes
VIDEO_CRF = 16  # visually lossless: the mark, not the encoder, should be the change


def apply(data: bytes, mime: str, sid: str) -> bytes:
    """The file with ``sid`` marked into every picture it holds."""
    if mime == "video/mp4":
        return _video(data, sid)
    img = Image.open(io.BytesIO(data))
    img.load()
    alpha = img.getchannel("A") if "A" in img.getbands() else None
    rgb = np.asarray(img.convert("RGB"))
    marked = Image.fromarray(watermark.embed(rgb, sid))
    if alpha is not None:
        marked.putalpha(alpha)
    out = io.BytesIO()
    icc = img.info.get("icc_profile")
    if mime == "image/png":
        marked.save(out, format="PNG", icc_profile=icc)
    elif mime == "image/webp":
        marked.save(out, format="WEBP", lossless=True, exact=True, icc_profile=icc)
    else:
        marked.save(out, format="JPEG", quality=95, icc_profile=icc, exif=img.info.get("exif", b""))
    return out.getvalue()


def _video(data: bytes, sid: str) -> bytes:
    import av

    pin_mmap_threshold()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.mp4", Path(tmp) / "out.mp4"
        src.write_bytes(data)
        with (
            av.open(str(src)) as inp,
            av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out,
        ):
            vin = inp.streams.video[0]
            vout = out.add_stream("libx264", rate=vin.average_rate or 24)
            vout.width, vout.height = vin.codec_context.width, vin.codec_context.height
            vout.pix_fmt = "yuv420p"
            vout.options = {"crf": str(VIDEO_CRF), "preset": "veryfast", "profile": "high"}
            vout.thread_count = 1  # the same frames give the same bytes (see media/video.py)
            audio = {
                s.index: out.add_stream_from_template(s) for s in inp.streams if s.type == "audio"
            }
            for packet in inp.demux():
                if packet.stream.index == vin.index:
                    for frame in packet.decode():
                        rgb = watermark.embed(frame.to_ndarray(format="rgb24"), sid)
                        for p in vout.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                            out.mux(p)
                elif packet.stream.index in audio and packet.dts is not None:
                    packet.stream = audio[packet.stream.index]
                    out.mux(packet)
            for p in vout.encode():
                out.mux(p)
        return dst.read_bytes()


def frames_of(path: Path, *, limit: int = SAMPLE_FRAMES) -> tuple[list[np.ndarray], list[int]]:
    """A picture's pixels, or up to ``limit`` frames spread over a video
    (decoded one at a time; only the picked ones are kept), and which of
    them are key frames."""
    with path.open("rb") as f:
        head = f.read(12)
    if head[4:8] != b"ftyp":
        with Image.open(path) as img:
            return [np.asarray(img.convert("RGB"))], [0]
    import av

    pin_mmap_threshold()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        picks = set(np.linspace(0, max(total - 1, 0), limit).round().astype(int).tolist())
        kept: list[np.ndarray] = []
        keys: list[int] = []
        for i, frame in enumerate(container.decode(video=0)):
            if frame.key_frame or i in picks or (not total and len(kept) < limit):
                if frame.key_frame:
                    keys.append(len(kept))
                kept.append(frame.to_ndarray(format="rgb24"))
    return kept, keys


def read(path: Path) -> watermark.Mark | None:
    """The mark in a file, or None when there is none.

    A video re-encoded hard (a platform's CRF 28) keeps the mark in its key
    frames, which are coded afresh; in the frames predicted from them the
    encoder drops the faint residual and the mark drifts with the picture,
    so summed over a fast pan they can outvote the key frames. The key
    frames are read on their own first, then every sampled frame together."""
    frames, keys = frames_of(path)
    if len(frames) > 1 and keys:
        found = watermark.read([frames[i] for i in keys])
        if found is not None:
            return found
    return watermark.read(frames)
