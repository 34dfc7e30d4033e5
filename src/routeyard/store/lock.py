"""One writer per store: a `run` holds an exclusive lock for its whole life.

The lock is an OS advisory lock (``flock``) on ``run.lock`` in the store
folder. The kernel drops it when the process dies, even by ``kill -9``, so a
crashed run never leaves the store locked; the file records the holder's pid
so the refusal message can name it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from routeyard.errors import StoreBusyError


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreBusyError(
                f"the store {self.path.parent} is busy: a run is in progress (pid {holder})",
                hint="wait for it to finish, or point ROUTEYARD_HOME at another store",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
