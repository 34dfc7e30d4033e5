"""IPTC / XMP AI marking: what tools that do not read C2PA still see.

IPTC's ``DigitalSourceType`` (trainedAlgorithmicMedia, compositeWith…) is what
Google, Meta and most asset managers read to label AI-generated media, and
the IPTC 2025.1 AI fields name the system and the prompt. The packet is
plain XML, placed where each format keeps XMP: a PNG ``iTXt`` chunk
``XML:com.adobe.xmp``, JPEG APP1, the WebP ``XMP`` chunk, and an MP4 ``uuid``
box (Adobe's XMP UUID) at the end of the file, where it moves no offsets.
Reading scans the bytes for the packet, so it works on any format.
"""

from __future__ import annotations

import io
import re
import struct
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image

from routeyard.credentials.record import png_with_text

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
XMP_KEY = "XML:com.adobe.xmp"
MP4_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "routeyard": "https://routeyard.dev/ns/xmp/1.0/",
}


def packet(fields: dict[str, Any]) -> str:
    """An XMP packet. ``fields``: digital_source_type (IPTC term), ai_systems
    (names), ai_system_versions, prompt (text, hash, or None), creator_tool,
    document_id, asset, disclosure."""
    attrs = {
        "Iptc4xmpExt:DigitalSourceType": IPTC_DST + fields["digital_source_type"]
        if fields.get("digital_source_type")
        else None,
        "xmp:CreatorTool": fields.get("creator_tool"),
        "xmpMM:DocumentID": fields.get("document_id"),
        "routeyard:Asset": fields.get("asset"),
        "routeyard:PromptDisclosure": fields.get("disclosure"),
        "Iptc4xmpExt:AISystemUsed": ", ".join(fields.get("ai_systems") or []) or None,
        "Iptc4xmpExt:AISystemVersionUsed": ", ".join(fields.get("ai_system_versions") or [])
        or None,
        "Iptc4xmpExt:AIPromptInformation": fields.get("prompt"),
    }
    body = "".join(
        f'\n    {k}="{escape(str(v), {chr(34): "&quot;"})}"' for k, v in attrs.items() if v
    )
    ns = "".join(f'\n    xmlns:{p}="{u}"' for p, u in _NS.items() if p not in ("x", "rdf"))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{_NS["x"]}">\n'
        f' <rdf:RDF xmlns:rdf="{_NS["rdf"]}">\n'
        f'  <rdf:Description rdf:about=""{ns}{body}/>\n'
        " </rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def embed(data: bytes, mime: str, xmp: str) -> bytes:
    """The file with ``xmp`` as its XMP packet (replacing one already there)."""
    if mime == "image/png":
        return png_with_text(data, XMP_KEY, xmp)
    if mime == "image/jpeg":
        return _jpeg_with_xmp(data, xmp.encode())
    if mime == "image/webp":
        img = Image.open(io.BytesIO(data))
        out = io.BytesIO()
        img.save(
            out,
            format="WEBP",
            lossless=True,
            exact=True,
            xmp=xmp.encode(),
            icc_profile=img.info.get("icc_profile"),
        )
        return out.getvalue()
    if mime == "video/mp4":
        return _strip_mp4_xmp(data) + _box(b"uuid", MP4_XMP_UUID + xmp.encode())
    return data


_JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


def _jpeg_with_xmp(data: bytes, xmp: bytes) -> bytes:
    """The JPEG with one APP1 XMP segment after its APP0/APP1 header
    segments, spliced in: the image data is not decoded or re-encoded."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    segment = _JPEG_XMP + xmp
    if len(segment) + 2 > 0xFFFF:
        raise ValueError("XMP packet too large for one JPEG segment")
    head, pos = [b"\xff\xd8"], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] in range(0xE0, 0xF0):
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        seg = data[pos : pos + 2 + length]
        if not (data[pos + 1] == 0xE1 and seg[4:].startswith(_JPEG_XMP)):
            head.append(seg)
        pos += 2 + length
    insert_at = len(head) if len(head) > 1 and head[1][1] == 0xE0 else 1
    head.insert(insert_at, b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment)
    return b"".join(head) + data[pos:]


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _strip_mp4_xmp(data: bytes) -> bytes:
    """Top-level boxes, less an XMP uuid box an earlier export appended."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            return data
        if not (kind == b"uuid" and data[pos + 8 : pos + 24] == MP4_XMP_UUID):
            out.append(data[pos : pos + size])
        pos += size
    return b"".join(out) + data[pos:]


_PACKET = re.compile(rb"<x:xmpmeta[\s\S]*?</x:xmpmeta>")
_ATTR = re.compile(r'([A-Za-z0-9]+):([A-Za-z0-9]+)="([^"]*)"')


def read(data: bytes) -> dict[str, str] | None:
    """The XMP fields of a file (prefix:name -> value), from the first packet
    that names a digital source type or routeyard, else the first; None without one."""
    packets = [m.group(0).decode("utf-8", "replace") for m in _PACKET.finditer(data)]
    if not packets:
        return None
    chosen = next((p for p in packets if "DigitalSourceType" in p or "routeyard" in p), packets[0])
    fields = {}
    for prefix, name, value in _ATTR.findall(chosen):
        if prefix in ("xmlns", "rdf", "x"):
            continue
        fields[f"{prefix}:{name}"] = _unescape(value)
    # element form (<Iptc4xmpExt:DigitalSourceType>…</…>), as other tools write it
    for prefix, name, value in re.findall(
        r"<([A-Za-z0-9]+):([A-Za-z0-9]+)>([^<]+)</\1:\2>", chosen
    ):
        fields.setdefault(f"{prefix}:{name}", _unescape(value.strip()))
    return fields


def _unescape(value: str) -> str:
    return (
        value.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
