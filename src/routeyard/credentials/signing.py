"""Signing a file's C2PA manifest with c2pa-python (the reference implementation).

The manifest is embedded in the file and bound to it by the file's own hash
(``c2pa.hash.data`` for images, ``c2pa.hash.bmff`` for MP4): change one byte
of the media and validation fails. Ingredients are added from their bytes,
so each carries its hash (and its own manifest, if it had one). Nothing is
fetched over the network: no remote manifests, no OCSP. A timestamp
authority is contacted only when the signer names one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import c2pa

from routeyard.config import C2paSigner
from routeyard.credentials.authority import key_algorithm
from routeyard.credentials.manifest import Manifest
from routeyard.errors import ConfigError, RouteyardError

_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_ALGS = {
    "es256": c2pa.C2paSigningAlg.ES256,
    "es384": c2pa.C2paSigningAlg.ES384,
    "es512": c2pa.C2paSigningAlg.ES512,
    "ps256": c2pa.C2paSigningAlg.PS256,
    "ps384": c2pa.C2paSigningAlg.PS384,
    "ps512": c2pa.C2paSigningAlg.PS512,
    "ed25519": c2pa.C2paSigningAlg.ED25519,
}


def context(trust: bytes | None = None) -> c2pa.Context:
    """A c2pa context that never reaches the network; ``trust``: extra anchors (PEM)."""
    settings: dict[str, Any] = dict(_OFFLINE)
    if trust:
        settings["trust"] = {"trust_anchors": trust.decode()}
    return c2pa.Context(settings=c2pa.Settings.from_dict(settings))


def algorithm(signer: C2paSigner) -> str:
    alg = (signer.alg or key_algorithm(signer.key_pem)).lower()
    if alg not in _ALGS:
        raise ConfigError(
            f"{signer.source}: unknown C2PA signing algorithm '{alg}'",
            hint=f"one of: {', '.join(_ALGS)}",
        )
    return alg


def sign(
    data: bytes,
    mime: str,
    manifest: Manifest,
    signer: C2paSigner,
    ingredient_bytes: Callable[[str], bytes],
) -> bytes:
    """``data`` with ``manifest`` signed and embedded."""
    alg = algorithm(signer)
    info = c2pa.C2paSignerInfo(_ALGS[alg], signer.cert_pem, signer.key_pem, signer.tsa_url)
    try:
        with c2pa.Signer.from_info(info) as handle:
            builder = c2pa.Builder(manifest.definition, context=context())
            for ing in manifest.ingredients:
                spec = {"title": ing.title, "relationship": ing.relationship, "label": ing.label}
                builder.add_ingredient(
                    json.dumps(spec),
                    ing.mime or "application/octet-stream",
                    io.BytesIO(ingredient_bytes(ing.asset)),
                )
            out = io.BytesIO()
            builder.sign(handle, mime, io.BytesIO(data), out)
            return out.getvalue()
    except c2pa.C2paError as exc:
        hint = "check that the key matches the first certificate of the chain"
        if signer.tsa_url:
            hint += f", and that the timestamp authority {signer.tsa_url} answers"
        raise RouteyardError(
            f"signing Content Credentials ({signer.source}): {exc}", hint=hint
        ) from None
