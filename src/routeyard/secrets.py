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
# Shorter values of merely credential-looking variables are too likely to be
# ordinary ("1", "true") to mask; shorter *configured* keys are masked as words.
_MIN_SECRET_LEN = 8


def secret_values(
    environ: Mapping[str, str], extra: Iterable[str] = (), names: Iterable[str] = ()
) -> list[str]:
    """Every value to mask, longest first: credential-looking variables of
    ``environ`` (of a credible length), and — whatever their length — the
    variables ``names`` (the providers' own key variables) and ``extra`` (the
    providers config file's keys): a configured key is masked even if short."""
    values = {v for k, v in environ.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LEN}
    values |= {environ[n] for n in names if environ.get(n)}
    values |= {v for v in extra if v}
    return sorted(values, key=len, reverse=True)


# Tokens that are credentials whatever made them: a JWT (Kling signs one from
# its key pair; a provider may echo it) and a bearer credential in a header line.
_DERIVED = (
    re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]+"),
    re.compile(r"(?<=[Bb]earer )[\w.~+/-]{8,}=*"),
)


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
        return _mask(value, secrets)
    return value


def _mask(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s not in text:
            continue
        if len(s) >= _MIN_SECRET_LEN:
            text = text.replace(s, REDACTED)
        else:  # short: masked where it stands as a whole word, not inside other words
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", REDACTED, text)
    for pattern in _DERIVED:
        text = pattern.sub(REDACTED, text)
    return text
