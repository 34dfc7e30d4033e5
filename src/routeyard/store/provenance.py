"""Lineage trees and provenance export.

``lineage`` walks an asset back to its sources through the steps that first
computed each asset. ``export_assets`` writes deliverables with the same
provenance embedded in the file (PNG text chunk, JPEG comment, MP4 metadata)
and in a JSON sidecar, so the history travels with the file even after it
leaves routeyard. Everything passes through ``redact``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from routeyard.canonical import sha256_hex
from routeyard.secrets import redact
from routeyard.store._base import Catalog

PROVENANCE_KEY = "routeyard:provenance"
SIDECAR = "provenance.json"
_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "application/json": ".json",
    "image/tiff": ".tif",
}


def lineage(
    catalog: Catalog,
    asset_id: str,
    _memo: dict | None = None,
    *,
    secrets: Sequence[str] = (),
) -> dict[str, Any]:
    """The chain from an asset back to its sources, in the contract's shape;
    ``secrets`` are credential values masked wherever they appear."""
    memo = {} if _memo is None else _memo
    if asset_id in memo:
        return memo[asset_id]
    asset = catalog.get_asset(asset_id)
    step = catalog.producer_of(asset_id)
    node: dict[str, Any] = {"asset": asset_id, "media": asset.facts()}
    if step is None:
        node.update(
            step=None,
            op="source",
            model=None,
            provider=None,
            params={},
            seed=None,
            prompt=None,
            cost_usd=0.0,
            seconds=None,
            run=None,
            parents=[],
        )
        if asset.meta.get("source"):
            node["source"] = asset.meta["source"]
    else:
        node.update(
            step=step.node,
            op=step.op,
            model=step.model,
            provider=step.provider,
            params=step.params,
            seed=step.seed,
            prompt=step.prompt,
            cost_usd=step.cost_usd,
            seconds=step.seconds,
            run=step.run_id,
            parents=[
                lineage(catalog, parent, memo, secrets=secrets)
                for parent in dict.fromkeys(step.inputs)
                if parent != asset_id
            ],
        )
        if step.seed is None:  # say why the result cannot be reproduced from a seed
            why = next((w for w in step.warnings if "seed" in w), None)
            if why:
                node["seed_note"] = why
    node = redact(node, secrets)
    memo[asset_id] = node
    return node


def deliverable_name(tree: dict[str, Any], mime: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", tree.get("step") or "source").strip("-") or "asset"
    return f"{stem}-{tree['asset'][:8]}{_EXT.get(mime, '.bin')}"


def embed(data: bytes, mime: str, payload: dict[str, Any]) -> bytes:
    """Return the file's bytes with ``payload`` embedded as metadata, where the format allows."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    if mime == "image/png":
        img = Image.open(io.BytesIO(data))
        info = PngImagePlugin.PngInfo()
        for key, value in (img.text if hasattr(img, "text") else {}).items():
            if key != PROVENANCE_KEY:
                info.add_text(key, value)
        info.add_itxt(PROVENANCE_KEY, text)
        out = io.BytesIO()
        img.save(out, format="PNG", pnginfo=info)
        return out.getvalue()
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


def export_assets(
    catalog: Catalog,
    asset_path,
    asset_ids: list[str],
    dest: Path,
    *,
    extra: dict[str, Any] | None = None,
    secrets: Sequence[str] = (),
    stem: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write deliverables and the provenance sidecar into ``dest``; returns the
    sidecar. With ``stem`` the files are ``STEM.png`` / ``STEM.mp4`` (a second of
    a kind ``STEM-2.png``), and the set an earlier export left there is replaced;
    a list names each asset in turn."""
    dest.mkdir(parents=True, exist_ok=True)
    earlier = _listed(dest) if stem else set()
    memo: dict = {}
    files = []
    used: dict[str, int] = {}
    stems = [stem] * len(asset_ids) if isinstance(stem, str) or stem is None else list(stem)
    # one file per (asset, name): two briefs that made the same pixels still get a file each
    for asset_id, own in dict.fromkeys(zip(asset_ids, stems, strict=True)):
        record = catalog.get_asset(asset_id)
        tree = lineage(catalog, asset_id, memo, secrets=secrets)
        name = deliverable_name(tree, record.mime)
        if own:
            ext = Path(name).suffix
            key = f"{own}{ext}"
            used[key] = used.get(key, 0) + 1
            name = f"{own}{'' if used[key] == 1 else f'-{used[key]}'}{ext}"
        payload = {"asset": asset_id, "lineage": tree}
        data = embed(Path(asset_path(asset_id)).read_bytes(), record.mime, payload)
        _write_atomic(dest / name, data)
        entry = {
            "file": name,
            "asset": asset_id,
            "sha256": sha256_hex(data),
            "media": record.facts(),
            "lineage": tree,
        }
        notes = [_annotation(a) for a in catalog.annotations(asset_id)]
        if notes:  # a reviewer's flagged frames travel with the file
            entry["annotations"] = notes
        files.append(entry)
    sidecar = redact({"routeyard": 1, **(extra or {}), "deliverables": files}, secrets)
    _write_atomic(dest / SIDECAR, json.dumps(sidecar, indent=2, sort_keys=True).encode())
    for old in earlier - {f["file"] for f in files}:  # one current set, not a pile
        (dest / old).unlink(missing_ok=True)
    return sidecar


def _listed(dest: Path) -> set[str]:
    """The files an earlier export's sidecar in ``dest`` names (plain names only)."""
    try:
        sidecar = json.loads((dest / SIDECAR).read_text())
        names = {str(f["file"]) for f in sidecar.get("deliverables", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()
    return {n for n in names if n and "/" not in n and "\\" not in n and not n.startswith(".")}


def _annotation(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("frame", "label", "note", "created_at")}


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with open(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; a delivered file is an ordinary file
    shutil.move(tmp, target)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_FILE_MODE = 0o666 & ~_umask()
