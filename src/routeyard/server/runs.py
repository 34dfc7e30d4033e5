"""Runs started from the studio: one engine thread each, events fanned out live.

The engine is the same one the CLI drives; it runs on its own thread and
event loop so the web server keeps answering. Its events are handed to the
server's loop with ``call_soon_threadsafe`` and pushed to every open stream
at once (no polling), which is what keeps page latency in milliseconds. A
page that opens mid-run first gets the events so far, then the live ones.
One run at a time per store: the engine's run lock already refuses a
second writer, and the studio says so before starting a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routeyard.api import RunControl
from routeyard.errors import RouteyardError
from routeyard.pipeline.events import Event

RunFn = Callable[[list, RunControl], dict[str, Any]]


class BusyError(RouteyardError):
    """Another run is in progress on this store."""


@dataclass
class LiveRun:
    run_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[asyncio.Queue] = field(default_factory=list)
    control: RunControl = field(default_factory=RunControl)
    result: dict[str, Any] | None = None
    error: RouteyardError | None = None
    finished: bool = False


class RunManager:
    def __init__(self) -> None:
        self.live: dict[str, LiveRun] = {}
        self.current: LiveRun | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, fn: RunFn, *, timeout_s: float = 30.0) -> str:
        """Start ``fn`` (a call into ``routeyard.api``) on a thread; returns the run id
        as soon as the engine has created the run, or raises the error that stopped it."""
        if self.current is not None and not self.current.finished:
            raise BusyError(
                f"run {self.current.run_id or '(starting)'} is still in progress",
                hint="wait for it to finish or cancel it",
            )
        self._loop = asyncio.get_running_loop()
        live = LiveRun()
        self.current = live
        started = asyncio.Event()

        loop = self._loop

        def hand_over(fn, *args) -> None:  # from the engine's thread to the server's loop
            with contextlib.suppress(RuntimeError):  # the server has shut down
                loop.call_soon_threadsafe(fn, *args)

        def on_event(event: Event) -> None:
            hand_over(self._publish, live, event.row(), started)

        def work() -> None:
            try:
                live.result = fn([on_event], live.control)
            except asyncio.CancelledError:
                pass
            except RouteyardError as exc:
                live.error = exc
            except Exception as exc:  # a bug: show it on the page rather than hang it
                live.error = RouteyardError(f"internal error: {type(exc).__name__}: {exc}")
            finally:
                hand_over(self._close, live, started)

        threading.Thread(target=work, name="routeyard-run", daemon=True).start()
        try:
            await asyncio.wait_for(started.wait(), timeout_s)
        except TimeoutError:
            raise RouteyardError(
                "the run did not start in time", hint="see the server log"
            ) from None
        if live.run_id is None:
            raise live.error or RouteyardError("the run stopped before it started")
        return live.run_id

    def _publish(self, live: LiveRun, row: dict[str, Any], started: asyncio.Event) -> None:
        if live.run_id is None:
            live.run_id = row["run_id"]
            self.live[live.run_id] = live
            self._forget_old()
            started.set()
        live.events.append(row)
        for queue in live.listeners:
            queue.put_nowait(row)
        if row["kind"] == "run_finished":
            # The run is over once the engine says so: a cancelled step's worker
            # thread may still be winding down, but its result is discarded and
            # the store's run lock is already released.
            self._close(live, started)

    def _close(self, live: LiveRun, started: asyncio.Event) -> None:
        started.set()
        if live.finished:
            return
        live.finished = True
        for queue in live.listeners:
            queue.put_nowait(None)
        live.listeners.clear()

    def _forget_old(self, keep: int = 50) -> None:
        """Finished runs replay from the store; only recent ones stay in memory."""
        done = [rid for rid, live in self.live.items() if live.finished]
        for rid in done[: max(0, len(done) - keep)]:
            del self.live[rid]

    def listen(self, run_id: str) -> tuple[list[dict[str, Any]], asyncio.Queue | None]:
        """The events so far and a queue of the ones to come (``None`` ends it);
        no queue when the run is not live in this server."""
        live = self.live.get(run_id)
        if live is None:
            return [], None
        queue: asyncio.Queue = asyncio.Queue()
        if live.finished:
            queue.put_nowait(None)
        else:
            live.listeners.append(queue)
        return list(live.events), queue

    def forget(self, run_id: str, queue: asyncio.Queue) -> None:
        live = self.live.get(run_id)
        if live is not None and queue in live.listeners:
            live.listeners.remove(queue)

    def cancel(self, run_id: str) -> bool:
        live = self.live.get(run_id)
        if live is None or live.finished:
            return False
        live.control.cancel()
        return True

    def is_live(self, run_id: str) -> bool:
        live = self.live.get(run_id)
        return live is not None and not live.finished
