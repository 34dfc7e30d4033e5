"""Cache keys and drawn seeds: pure functions, no I/O.

The key is a Merkle-style signature: it covers the op and its version, the
resolved model and its version, the canonical parameters (files replaced by
the hash of their content), the seed and the ids of the input assets, which
are themselves content hashes. Same key ⇒ same result, so a result is never
computed or paid for twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routeyard.canonical import digest

SEED_BITS = 31


# (op or None for any op, parameter) → its default when it was added.
ADDED_LATER: dict[tuple[str | None, str], Any] = {
    (None, "resolution"): None,
    (None, "audio"): None,
    (None, "quality"): None,
    ("typeset", "layer"): False,
    ("typeset", "width"): None,
    ("typeset", "height"): None,
    ("export", "name"): None,
}


def _added_later(op: str, name: str, value: Any) -> bool:
    for key in ((op, name), (None, name)):
        if (
            key in ADDED_LATER
            and value == ADDED_LATER[key]
            and type(value) is type(ADDED_LATER[key])
        ):
            return True
    return False


def cache_key(
    *,
    op: str,
    op_version: str,
    model: str,
    model_version: str,
    params: Mapping[str, Any],
    seed: int,
    inputs: Sequence[str],
    files: Mapping[str, str] | None = None,
) -> str:
    # Parameters added after stores already held results: left unset, they do
    # not change the key, so an upgrade does not recompute (and re-pay) them.
    keyed_params = {k: v for k, v in params.items() if not _added_later(op, k, v)}
    for name, asset_id in (files or {}).items():
        keyed_params[name] = {"asset": asset_id}
    return digest(
        {
            "op": op,
            "op_version": op_version,
            "model": model,
            "model_version": model_version,
            "params": keyed_params,
            "seed": seed,
            "inputs": list(inputs),
        }
    )


def drawn_seed(step: str, op: str, branch: int | None) -> int:
    """The seed recorded for a step that names none.

    Derived from the step's identity rather than drawn at random, so that
    running the same plan again (resume, re-run from a later step) reuses it
    and hits the cache; a step that wants a fresh seed each run says
    ``seed: random``.
    """
    return int(digest({"step": step, "op": op, "branch": branch})[:8], 16) & ((1 << SEED_BITS) - 1)
