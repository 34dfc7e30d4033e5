"""Canonical JSON and SHA-256: the basis of cache keys and content addresses.

Two parameter sets that mean the same thing must hash the same: keys are
sorted, floats that are whole numbers are written as integers, tuples are
lists, and paths are strings. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import PurePath
from typing import Any


def normalise(value: Any) -> Any:
    """Return a JSON-ready value whose serialisation is independent of spelling."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "model_dump"):
        return normalise(value.model_dump(mode="json"))
    raise TypeError(f"cannot canonicalise a {type(value).__name__}")


def dumps(value: Any) -> str:
    """Serialise canonically: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """SHA-256 of the canonical serialisation of ``value``."""
    return sha256_hex(dumps(value).encode())
