"""Reading a file's credentials back: any file, routeyard's or anyone's.

Three layers, each read on its own, so a copy that lost one still says what
it can: the C2PA manifest (validation state, signer, actions, ingredients,
routeyard's lineage assertion), the XMP marking (digital source type, AI
system, prompt disclosure), and the watermark (the asset id in the pixels,
which survives a platform stripping the metadata). Exports made before
Content Credentials carried routeyard's own record only; it is read too.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import c2pa

from routeyard.credentials import marking, signing
from routeyard.credentials import xmp as xmp_marking
from routeyard.credentials.authority import ORGANISATION
from routeyard.credentials.manifest import LINEAGE_LABEL

_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
}


@dataclass
class Report:
    file: str
    format: str
    state: str  # trusted | valid | invalid | unsigned
    c2pa: dict[str, Any] | None = None
    xmp: dict[str, str] | None = None
    watermark: dict[str, Any] | None = None
    legacy: dict[str, Any] | None = None  # routeyard's pre-C2PA record
    problems: list[str] = field(default_factory=list)

    @property
    def asset(self) -> str | None:
        """The routeyard asset this file claims or points back to, most certain first."""
        lineage = (self.c2pa or {}).get("lineage") or {}
        if lineage.get("asset"):
            return str(lineage["asset"])
        if self.xmp and self.xmp.get("routeyard:Asset"):
            return self.xmp["routeyard:Asset"]
        if self.legacy and self.legacy.get("asset"):
            return str(self.legacy["asset"])
        if self.watermark:
            return str(self.watermark["id"])
        return None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "asset": self.asset}


def mime_of(path: Path, head: bytes) -> str:
    if head[4:8] == b"ftyp":
        return "video/mp4" if path.suffix.lower() not in (".mov",) else "video/quicktime"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return _MIME.get(path.suffix.lower(), "application/octet-stream")


def inspect(path: Path, *, trust: bytes | None = None, watermark: bool = True) -> Report:
    """Everything a file says about where it came from."""
    data = path.read_bytes()
    mime = mime_of(path, data[:16])
    report = Report(file=str(path), format=mime, state="unsigned")
    report.c2pa = _manifest(data, mime, trust, report)
    report.xmp = xmp_marking.read(data)
    report.legacy = _legacy(path)
    if watermark and mime in marking.MARKABLE:
        try:
            found = marking.read(path)
        except (OSError, ValueError, av.error.FFmpegError) as exc:  # damaged pixels
            report.problems.append(f"the pictures cannot be decoded for the watermark: {exc}")
        else:
            report.watermark = found.to_dict() if found else None
    return report


def _manifest(data: bytes, mime: str, trust: bytes | None, report: Report) -> dict | None:
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, signing.context(trust))
    except c2pa.C2paError as exc:  # a manifest is there but cannot be read: tampered
        report.state = "invalid"
        report.problems.append(f"the C2PA manifest cannot be read: {exc}")
        return {"validation_state": "Invalid", "error": str(exc)}
    if reader is None:
        return None
    with reader:
        store = json.loads(reader.json())
        state = reader.get_validation_state() or "Invalid"
        results = reader.get_validation_results() or {}
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "") or {}
    failures = [f["code"] for f in (results.get("activeManifest") or {}).get("failure", [])]
    report.state = {"Trusted": "trusted", "Valid": "valid"}.get(state, "invalid")
    if report.state == "invalid":
        report.problems += [c for c in failures if c != "signingCredential.untrusted"] or [
            "validation failed"
        ]
    sig = active.get("signature_info") or {}
    assertions = {a.get("label"): a.get("data") for a in active.get("assertions") or []}
    actions = (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get(
        "actions", []
    )
    return {
        "validation_state": state,
        "failures": failures,
        "signer": {
            "common_name": sig.get("common_name"),
            "issuer": sig.get("issuer"),
            "alg": sig.get("alg"),
            "time": sig.get("time"),
            "development": sig.get("issuer") == ORGANISATION,
        },
        "claim_generator": [g.get("name") for g in active.get("claim_generator_info") or []],
        "title": active.get("title"),
        "actions": [
            {
                "action": a.get("action"),
                "description": a.get("description"),
                "digital_source_type": (a.get("digitalSourceType") or "").rsplit("/", 1)[-1]
                or None,
                "model": (a.get("parameters") or {}).get("model"),
                "provider": (a.get("parameters") or {}).get("provider"),
                "step": (a.get("parameters") or {}).get("com.routeyard.step"),
            }
            for a in actions
        ],
        "ingredients": [
            {
                "title": i.get("title"),
                "relationship": i.get("relationship"),
                "format": i.get("format"),
            }
            for i in active.get("ingredients") or []
        ],
        "lineage": assertions.get(LINEAGE_LABEL),
    }


def _legacy(path: Path) -> dict[str, Any] | None:
    from routeyard.credentials.record import read_embedded

    try:
        return read_embedded(path)
    except (OSError, ValueError, av.error.FFmpegError):  # damaged, or not ours
        return None
