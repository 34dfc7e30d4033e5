"""Progress events: what the CLI's progress display and the studio consume.

Kinds: ``run_started``, ``queued``, ``started``, ``progress``, ``retry``,
``fallback``, ``finished``, ``cached``, ``failed``, ``skipped``,
``cancelled``, ``run_finished``. Subscribers are plain callables, called on
the engine's thread; a subscriber that raises is dropped, never the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routeyard.logs import log


@dataclass(frozen=True)
class Event:
    kind: str
    run_id: str
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ts": self.ts,
            "kind": self.kind,
            "node": self.node,
            "data": self.data,
        }


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers = list(subscribers or [])
        self.pending: list[Event] = []  # not yet written to the catalog

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def emit(self, event: Event) -> None:
        self.pending.append(event)
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:  # a broken display must not break a run, nor vanish unseen
                log.exception(
                    "event subscriber %r raised on %s; it gets no more events", fn, event.kind
                )
                self._subscribers.remove(fn)

    def drain(self) -> list[dict[str, Any]]:
        rows = [e.row() for e in self.pending]
        self.pending.clear()
        return rows
