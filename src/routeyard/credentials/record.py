"""routeyard's own lineage record inside a file: a PNG ``iTXt`` chunk
``routeyard:provenance``, a JPEG comment, an MP4 ``comment`` tag.

This is what exports carried before Content Credentials, so it is still
written (disclosed as the brief says) and always read: old exports stay
readable, and a file signed by someone else's tool keeps routeyard's record.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

PROVENANCE_KEY = "routeyard:provenance"


def png_with_text(data: bytes, key: str, text: str) -> bytes:
    """The PNG with its ``key`` text chunk (iTXt, uncompressed) set to ``text``;
    every other text chunk and the ICC profile kept as they were."""
    img = Image.open(io.BytesIO(data))
    info = PngImagePlugin.PngInfo()
    for other, value in getattr(img, "text", {}).items():
        if other != key:
            info.add_itxt(other, value)
    info.add_itxt(key, text)
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info, icc_profile=img.info.get("icc_profile"))
    return out.getvalue()


def embed(data: bytes, mime: str, payload: dict[str, Any]) -> bytes:
    """Return the file's bytes with ``payload`` embedded as metadata, where the format allows."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    if mime == "image/png":
        return png_with_text(data, PROVENANCE_KEY, text)
    if mime == "image/jpeg":
        img = Image.open(io.BytesIO(data))
        out = io.BytesIO()
        img.save(
            out,
            format="JPEG",
            quality="keep",
            comment=text.encode(),
            exif=img.info.get("exif", b""),
            icc_profile=img.info.get("icc_profile"),
        )
        return out.getvalue()
    if mime == "video/mp4":
        return _embed_mp4(data, text)
    return data


def read_embedded(path: Path) -> dict[str, Any] | None:
    """Read provenance back out of an exported file (PNG, JPEG or MP4)."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        text = Image.open(path).text.get(PROVENANCE_KEY)
    elif suffix in (".jpg", ".jpeg"):
        raw = Image.open(path).info.get("comment")
        text = raw.decode() if isinstance(raw, bytes) else raw
    elif suffix == ".mp4":
        import av

        with av.open(str(path)) as container:
            text = container.metadata.get("comment")
    else:
        return None
    return json.loads(text) if text else None


def _embed_mp4(data: bytes, text: str) -> bytes:
    import av

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.mp4", Path(tmp) / "out.mp4"
        src.write_bytes(data)
        with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
            out.metadata["comment"] = text
            mapping = {}
            for stream in inp.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = out.add_stream_from_template(stream)
            for packet in inp.demux():
                if packet.dts is None or packet.stream.index not in mapping:
                    continue
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
        return dst.read_bytes()
