"""Standard ``logging`` under the ``routeyard`` logger, with credentials masked.

Bugs are logged with their traceback, never turned into a fallback: the
engine writes every run's log to ``<store>/logs/<run>.log``, the CLI's
``-v`` also shows it on stderr. Every handler routeyard attaches carries a
``RedactingFilter``, so no credential value reaches a log line, whether in
the message, its arguments or a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from routeyard.secrets import redact

log = logging.getLogger("routeyard")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Masks credential values in a record's final text (message and traceback)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def _handler(handler: logging.Handler, secrets: Sequence[str]) -> logging.Handler:
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    return handler


@contextlib.contextmanager
def run_log(path: Path, secrets: Sequence[str]) -> Iterator[Path]:
    """Write the ``routeyard`` logger's records (INFO and up) to ``path`` while the block runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _handler(logging.FileHandler(path, encoding="utf-8"), secrets)
    handler.setLevel(logging.INFO)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        yield path
    finally:
        log.removeHandler(handler)
        handler.close()


def to_stderr(verbose: bool, secrets: Sequence[str]) -> None:
    """The CLI's console log: warnings and errors, or everything with ``-v``."""
    handler = _handler(logging.StreamHandler(), secrets)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.addHandler(handler)
