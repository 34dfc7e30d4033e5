"""The store: content-addressed blobs plus one catalog database.

``Store.open()`` finds the project folder (``ROUTEYARD_HOME`` or
``./.routeyard``), checks that it is writable, brings the catalog's schema up
to date and hands out the blob tree and the catalog. Assets enter only
through ``put``: bytes are written atomically, probed for media facts, and
only then may a step record them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from routeyard import config
from routeyard.errors import StoreError
from routeyard.media import probe_bytes, probe_file
from routeyard.records import AssetRecord, NewAsset, RunRecord, StepRecord
from routeyard.store._base import Catalog
from routeyard.store._sql import SqlCatalog
from routeyard.store.blobs import BlobStore
from routeyard.store.lock import RunLock

__all__ = ["AssetRecord", "Catalog", "NewAsset", "RunRecord", "StepRecord", "Store", "VerifyReport"]


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    corrupt: list[str]
    missing: list[str]
    orphans: list[str]

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.missing


class Store:
    def __init__(self, home: Path, catalog: Catalog, blobs: BlobStore) -> None:
        self.home = home
        self.catalog = catalog
        self.blobs = blobs

    @classmethod
    def open(cls, home: str | Path | None = None, *, fsync: bool = True) -> Store:
        root = config.store_home(home).resolve()
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "blobs").mkdir(exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=root, prefix=".write-test-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(
                f"store folder {root} is not writable ({exc.strerror or exc})",
                hint="fix its permissions or set ROUTEYARD_HOME to a writable folder",
            ) from exc
        url = config.database_url() or f"sqlite:///{root / 'catalog.sqlite'}"
        return cls(root, SqlCatalog(url), BlobStore(root / "blobs", fsync=fsync))

    def run_lock(self) -> RunLock:
        return RunLock(self.home / "run.lock")

    def put_bytes(
        self, data: bytes, *, source: str, mime_hint: str | None = None, meta: dict | None = None
    ) -> NewAsset:
        """Probe then store ``data``; the asset is not in the catalog until a step records it."""
        facts = probe_bytes(data, source=source, mime_hint=mime_hint)
        digest = self.blobs.put_bytes(data)
        return NewAsset(id=digest, size_bytes=len(data), meta=meta or {}, **facts.as_dict())

    def put_file(
        self, path: Path, *, mime_hint: str | None = None, meta: dict | None = None
    ) -> NewAsset:
        facts = probe_file(path, mime_hint=mime_hint)
        digest = self.blobs.put_file(path)
        return NewAsset(
            id=digest, size_bytes=path.stat().st_size, meta=meta or {}, **facts.as_dict()
        )

    def path_of(self, asset_id: str) -> Path:
        return self.blobs.path(asset_id)

    def verify(self) -> VerifyReport:
        """Re-hash every blob the catalog knows; list corrupt, missing and orphan blobs."""
        known = self.catalog.all_asset_ids()
        corrupt, missing = [], []
        for digest in known:
            if not self.blobs.has(digest):
                missing.append(digest)
            elif not self.blobs.verify(digest):
                corrupt.append(digest)
        known_set = set(known)
        orphans = [d for d in self.blobs.iter_digests() if d not in known_set]
        return VerifyReport(checked=len(known), corrupt=corrupt, missing=missing, orphans=orphans)

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
