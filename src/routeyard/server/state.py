"""The studio's shared state: where the store is, what may be read, what is running."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from routeyard.errors import PipelineError
from routeyard.server.media import BRIEF_MAX_BYTES, FrameCache
from routeyard.server.runs import RunManager
from routeyard.server.security import PathGuard
from routeyard.store import Store

_SKIP_DIRS = {"node_modules", "out", "src", "tests", "benchmarks", "__pycache__", "venv"}


@dataclass
class Studio:
    home: Path  # the store folder
    root: Path  # the folder whose pipelines the studio lists and may read
    token: str | None = None
    loopback: bool = True
    runs: RunManager = field(default_factory=RunManager)
    frames: FrameCache = field(default_factory=FrameCache)
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()
        self.root = self.root.resolve()
        self.guard = PathGuard(self.root, self.home)

    def store(self) -> Store:
        """One open store per server thread: the catalog connection is not shared
        across threads, and opening one per request would cost more than the query."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.home)
            self._local.store = store
        return store

    @property
    def briefs_dir(self) -> Path:
        return self.home / "briefs"

    def pipeline_files(self) -> list[str]:
        """YAML files under the served folder (examples, briefs) the editor can open."""
        found: list[str] = []
        for folder, dirs, files in os.walk(self.root):
            depth = len(Path(folder).relative_to(self.root).parts)
            dirs[:] = sorted(
                d for d in dirs if depth < 3 and not d.startswith(".") and d not in _SKIP_DIRS
            )
            for name in sorted(files):
                path = Path(folder) / name
                if path.suffix in (".yaml", ".yml") and self._listable(path):
                    found.append(path.relative_to(self.root).as_posix())
            if len(found) >= 200:
                break
        return sorted(found)

    def _listable(self, path: Path) -> bool:
        """A file the editor can open: a name that is text, a target that exists
        inside the served folders (not a dangling or escaping link), a sane size."""
        try:
            str(path).encode("utf-8")
            return (
                self.guard.inside(path)
                and path.is_file()
                and path.stat().st_size <= BRIEF_MAX_BYTES
            )
        except (OSError, UnicodeEncodeError):
            return False

    def read_pipeline(self, rel: str) -> str:
        """A listed pipeline's text; one clear error when it is not UTF-8."""
        path = self.resolve_pipeline(rel)
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PipelineError(
                f"pipeline '{rel}' is not UTF-8 text", hint="save it as UTF-8 and reload"
            ) from None
        except OSError as exc:
            raise PipelineError(f"pipeline '{rel}' cannot be read ({exc.strerror})") from None

    def resolve_pipeline(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not self.guard.inside(path) or not path.is_file():
            raise PipelineError(
                f"pipeline '{rel}' is not a file under {self.root}",
                hint="pick one from the list or paste the pipeline's text",
            )
        return path

    def save_brief(self, text: str) -> Path:
        """Keep pipeline text written or uploaded in the browser in the store, by content."""
        data = text.encode()
        if len(data) > BRIEF_MAX_BYTES:
            raise PipelineError(
                f"the pipeline text is {len(data) // 1024} KiB, over the "
                f"{BRIEF_MAX_BYTES // 1024} KiB limit",
                hint="a pipeline file is a few KiB of YAML",
            )
        self.briefs_dir.mkdir(parents=True, exist_ok=True)
        path = self.briefs_dir / f"{hashlib.sha256(data).hexdigest()[:16]}.yaml"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return path
