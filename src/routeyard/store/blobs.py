"""Content-addressed blob tree: a blob's name is the SHA-256 of its bytes.

Writes go to a temporary file in the same folder, are flushed and fsynced,
then renamed into place, so a reader never sees half a blob; a torn or
tampered blob is detectable because its bytes no longer hash to its name.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from routeyard.errors import StoreError

_CHUNK = 1 << 20


# The disk refused the write: full, over quota, read-only, failing.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}


class BlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its digest. Writing the same bytes twice is free."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        self._write_atomic(target, [data])
        return digest

    def put_file(self, source: Path) -> str:
        """Copy a file into the store by streaming it (large videos never sit in memory)."""
        h = hashlib.sha256()
        with source.open("rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
        digest = h.hexdigest()
        target = self.path(digest)
        if not target.is_file():
            with source.open("rb") as f:
                self._write_atomic(target, iter(lambda: f.read(_CHUNK), b""))
        return digest

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(
                f"blob {digest[:12]} is missing from {self.root}",
                hint="run `routeyard store verify`; re-run the step that made it",
            ) from exc

    def verify(self, digest: str) -> bool:
        """Re-hash a blob: True when its bytes still match its name."""
        h = hashlib.sha256()
        try:
            with self.path(digest).open("rb") as f:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    h.update(chunk)
        except FileNotFoundError:
            return False
        return h.hexdigest() == digest

    def iter_digests(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if shard.is_dir() and len(shard.name) == 2:
                for f in sorted(shard.iterdir()):
                    if not f.name.startswith(".tmp"):
                        yield shard.name + f.name

    def _write_atomic(self, target: Path, chunks) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
                raise StoreError(
                    f"{target.parent}: cannot write to the store ({exc.strerror})",
                    hint="free disk space where the store lives, then run again "
                    "(finished steps are kept)",
                ) from None
            raise
