"""Keep credentials out of logs, the store and exported provenance.

Two nets: any mapping key that names a secret (``api_key``, ``token``,
``authorization``…) has its value replaced, and any string that contains the
value of a credential environment variable is masked wherever it appears.
"""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(api[_-]?key|secret|token|password|passwd|authorization|credential)", re.I
)
_SECRET_ENV = re.compile(r"(_KEY|_TOKEN|_SECRET|_PASSWORD|_CREDENTIALS)$")
_MIN_SECRET_LEN = 8


def secret_values() -> list[str]:
    """Values of credential-looking environment variables, longest first."""
    values = {
        v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LEN
    }
    from routeyard.providers.settings import file_secrets  # keys kept in the config file

    values |= {v for v in file_secrets() if len(v) >= _MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def redact(value: Any, _secrets: list[str] | None = None) -> Any:
    """Return a copy of ``value`` with secrets masked; non-secret data is unchanged."""
    secrets = secret_values() if _secrets is None else _secrets
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
