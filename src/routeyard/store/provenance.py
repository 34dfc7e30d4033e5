"""Lineage trees and provenance export.

``lineage`` walks an asset back to its sources through the steps that first
computed each asset. ``export_assets`` writes each deliverable with, in this
order: the invisible watermark (its asset id in the pixels), routeyard's own
lineage record (PNG text chunk, JPEG comment, MP4 metadata: what earlier
exports carried, still read), the IPTC/XMP AI marking, and last the signed
C2PA manifest, whose hash binds every byte before it. A JSON sidecar lists
the files. Everything passes through ``redact``, and the brief's
``provenance: prompts`` decides what of the prompts any of it discloses.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routeyard import __version__, config
from routeyard.brief import Provenance
from routeyard.canonical import sha256_hex
from routeyard.credentials import manifest as c2pa_manifest
from routeyard.credentials import marking, signing, watermark
from routeyard.credentials import xmp as xmp_marking
from routeyard.credentials.disclosure import prompt_hash, prompts_in, withhold
from routeyard.credentials.record import embed
from routeyard.secrets import redact
from routeyard.store._base import Catalog

log = logging.getLogger(__name__)
UNSIGNED_WARNING = (
    "no C2PA signer is configured: the files carry the IPTC/XMP AI marking and the "
    "watermark but no signed Content Credentials (hint: `routeyard credentials init` "
    "for development, or set ROUTEYARD_C2PA_KEY and ROUTEYARD_C2PA_CERT)"
)
_warned_unsigned = False

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
        route = catalog.get_route(step.id)
        if route:  # why this model: the router's choice, its reason and fallbacks
            chosen = route.get("chosen") or {}
            node["route"] = {
                "model": chosen.get("model"),
                "provider": chosen.get("provider"),
                "reason": chosen.get("reason"),
                "fallbacks": route.get("fallbacks") or [],
            }
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


def export_assets(
    catalog: Catalog,
    asset_path,
    asset_ids: list[str],
    dest: Path,
    *,
    extra: dict[str, Any] | None = None,
    secrets: Sequence[str] = (),
    stem: str | Sequence[str] | None = None,
    policy: Provenance | None = None,
) -> dict[str, Any]:
    """Write deliverables and the provenance sidecar into ``dest``; returns the
    sidecar (with ``warnings`` when the files go out unsigned). With ``stem`` the files are ``STEM.png`` / ``STEM.mp4`` (a second of
    a kind ``STEM-2.png``), and the set an earlier export left there is replaced;
    a list names each asset in turn."""
    policy = policy or Provenance()
    signer = config.c2pa_signer()  # read before anything is written: a bad key fails first
    dest.mkdir(parents=True, exist_ok=True)
    earlier = _listed(dest) if stem else set()
    memo: dict = {}
    kinds: dict[str, str | None] = {}  # each source's own digital source type, read once
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
        prompts = prompts_in(tree)
        shown = withhold(tree, policy.prompts, prompts)
        data, credentials = _credentialed(
            asset_path, asset_id, record.mime, tree, shown, prompts, name, policy, signer, kinds
        )
        _write_atomic(dest / name, data)
        entry = {
            "file": name,
            "asset": asset_id,
            "sha256": sha256_hex(data),
            "media": record.facts(),
            "lineage": shown,
            "provenance": credentials,
        }
        notes = [_annotation(a) for a in catalog.annotations(asset_id)]
        if notes:  # a reviewer's flagged frames travel with the file
            entry["annotations"] = notes
        files.append(entry)
    sidecar = redact({"routeyard": 1, **(extra or {}), "deliverables": files}, secrets)
    if signer is None and files:
        sidecar["warnings"] = [UNSIGNED_WARNING]
        global _warned_unsigned
        if not _warned_unsigned:  # once per process; every export's sidecar says it too
            log.warning(UNSIGNED_WARNING)
            _warned_unsigned = True
    _write_atomic(dest / SIDECAR, json.dumps(sidecar, indent=2, sort_keys=True).encode())
    for old in earlier - {f["file"] for f in files}:  # one current set, not a pile
        (dest / old).unlink(missing_ok=True)
    return sidecar


def _credentialed(
    asset_path,
    asset_id: str,
    mime: str,
    tree: dict[str, Any],
    shown: dict[str, Any],
    prompts: list[str],
    name: str,
    policy: Provenance,
    signer: config.C2paSigner | None,
    kinds: dict[str, str | None],
) -> tuple[bytes, dict[str, Any]]:
    """The deliverable's bytes with every layer of marking, and what it carries."""
    data = Path(asset_path(asset_id)).read_bytes()
    mark = None
    if policy.watermark and mime in marking.MARKABLE:
        mark = watermark.short_id(asset_id)
        data = marking.apply(data, mime, mark)
    data = embed(data, mime, {"asset": asset_id, "lineage": shown})
    for node in c2pa_manifest.ordered(tree):
        if c2pa_manifest.is_source(node) and node["asset"] not in kinds:
            found = xmp_marking.read(Path(asset_path(node["asset"])).read_bytes()) or {}
            term = found.get("Iptc4xmpExt:DigitalSourceType", "").rsplit("/", 1)[-1]
            kinds[node["asset"]] = term or None
    built = c2pa_manifest.build(
        tree,
        title=name,
        mime=mime,
        version=__version__,
        prompts=policy.prompts,
        source_types=kinds,
        watermark=mark,
    )
    prompt_field = None
    if policy.prompts != "none" and prompts:
        prompt_field = prompts[0] if policy.prompts == "full" else prompt_hash(prompts[0])
    packet = xmp_marking.packet(
        {
            "digital_source_type": built.digital_source_type,
            "ai_systems": built.ai_systems,
            "prompt": prompt_field,
            "creator_tool": f"routeyard {__version__}",
            "document_id": f"routeyard:asset:{asset_id}",
            "asset": asset_id,
            "disclosure": f"prompts={policy.prompts}",
        }
    )
    if mime in marking.MARKABLE:
        data = xmp_marking.embed(data, mime, packet)
        if signer is not None:
            data = signing.sign(
                data, mime, built, signer, lambda a: Path(asset_path(a)).read_bytes()
            )
    return data, {
        "signed": signer is not None and mime in marking.MARKABLE,
        "digital_source_type": built.digital_source_type,
        "watermark": mark,
        "prompts": policy.prompts,
    }


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
