"""Keep credentials out of logs, the store and exported provenance. Pure: no I/O.

Two nets: any mapping key that names a secret (``api_key``, ``token``,
``authorization``…) has its value replaced, and any string that contains a
known credential value is masked wherever it appears. The known values are
handed in (``api`` gathers them from ``config``: credential-looking
environment variables, the providers config file, and tokens derived from
them), so this module reads nothing itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(api[_-]?key|secret|token|password|passwd|authorization|credential)", re.I
)
_SECRET_ENV = re.compile(r"(_KEY|_TOKEN|_SECRET|_PASSWORD|_CREDENTIALS)$")
# Shorter values are too likely to occur in ordinary text ("1", "true") to be
# masked wherever they appear; keys of real providers are far longer.
_MIN_SECRET_LEN = 8


def secret_values(environ: Mapping[str, str], extra: Iterable[str] = ()) -> list[str]:
    """Values of credential-looking variables in ``environ`` plus ``extra``, longest first."""
    values = {v for k, v in environ.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LEN}
    values |= {v for v in extra if v and len(v) >= _MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def redact(value: Any, secrets: Sequence[str] = ()) -> Any:
    """Return a copy of ``value`` with secrets masked; non-secret data is unchanged."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for s in secrets:
            if s in value:
                value = value.replace(s, REDACTED)
        return value
    return value
