"""Keep streaming memory flat: glibc's adaptive mmap threshold, pinned.

Frames of a clip are a few MB each. glibc serves blocks that large with
mmap, until one is freed: then it raises its mmap threshold to that size and
serves later frames from the heap, which fragments and never shrinks. Peak
memory then grows with the clip's length (a 20 s 720p clip took 2.5× the
memory of a 5 s one in benchmarks/bench_gates.py). Pinning the threshold
(which also turns the adaptation off) keeps large frames on mmap, returned
to the system as soon as they are freed. A no-op where the C library is not
glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_MMAP_THRESHOLD = -3
_THRESHOLD = 2 * 1024 * 1024  # whole frames (720p RGB is 2.7 MB) on mmap, working arrays not


@functools.cache
def pin_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold once per process; True when it took effect."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
    except (OSError, AttributeError):
        return False
