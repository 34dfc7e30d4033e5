"""Reading a delivered file's Content Credentials the way any C2PA consumer
does: c2pa's own ``Reader``, trusting only the test session's CA."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import c2pa

from routeyard.credentials import xmp

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def read(path: Path, signer_dir: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(validation state, active manifest, validation results) of ``path``."""
    data = path.read_bytes()
    settings = c2pa.Settings.from_dict(
        {
            "trust": {"trust_anchors": (signer_dir / "ca.pem").read_text()},
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        }
    )
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".mp4": "video/mp4"}
    with c2pa.Reader(
        mime[path.suffix], io.BytesIO(data), context=c2pa.Context(settings=settings)
    ) as r:
        store = json.loads(r.json())
        return (
            r.get_validation_state(),
            store["manifests"][store["active_manifest"]],
            r.get_validation_results(),
        )


def assertion(manifest: dict[str, Any], label: str) -> Any:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


def actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return assertion(manifest, "c2pa.actions.v2")["actions"]


def lineage_steps(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The lineage's steps in the order they ran (inputs first), sources left out."""
    seen, out = set(), []

    def visit(node):
        if node["asset"] in seen:
            return
        seen.add(node["asset"])
        for p in node["parents"]:
            visit(p)
        if not (node["op"] in ("import", "source") and not node["parents"]):
            out.append(node)

    visit(tree)
    return out


def check_against_lineage(manifest: dict[str, Any], tree: dict[str, Any]) -> None:
    """Each step of the lineage is one action, in order, naming its step, op, model and provider."""
    steps = lineage_steps(tree)
    acts = [a for a in actions(manifest) if a["action"] not in ("c2pa.opened", "c2pa.watermarked")]
    assert [a["parameters"]["com.routeyard.step"] for a in acts] == [s["step"] for s in steps]
    for a, s in zip(acts, steps, strict=True):
        assert a["parameters"]["com.routeyard.op"] == s["op"]
        assert a["parameters"]["com.routeyard.asset"] == s["asset"]
        assert a["parameters"]["model"] == s["model"]
        assert a["parameters"]["provider"] == s["provider"]
        assert a["softwareAgent"]["name"] == "routeyard"
    record = assertion(manifest, "com.routeyard.lineage")
    assert record["asset"] == tree["asset"]
    assert [r["step"] for r in record["steps"]] == [s["step"] for s in steps]


def marking(path: Path) -> dict[str, str]:
    found = xmp.read(path.read_bytes())
    assert found, f"{path.name}: no XMP packet"
    return found
