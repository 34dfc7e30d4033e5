"""Test ops: small, deterministic, and they log every real execution.

Each execution appends ``node`` to the file named by ``ROUTEYARD_TEST_LOG``
(when set), which is how tests prove which steps actually ran, independently
of what the store reports. Loaded in-process by conftest and in subprocesses
through ``ROUTEYARD_PLUGINS=tests.fakes.ops``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from routeyard.ops import register
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output

_lock = threading.Lock()
ACTIVE = {"now": 0, "peak": 0}


def log_execution(node: str) -> None:
    path = os.environ.get("ROUTEYARD_TEST_LOG")
    if path:
        with _lock, open(path, "a") as f:
            f.write(node + "\n")


class WorkParams(OpParams):
    value: int | str = 0
    seconds: float = 0.0
    fail: bool = False
    mask: str | None = None
    # A path: the op writes ``<hold>.started`` and waits until ``hold`` exists,
    # so a test can act while a step is surely running, then release it.
    hold: str | None = None


@register
class WorkOp(Op):
    """Combines its inputs' values with its own; optionally sleeps or fails."""

    name = "test.work"
    stage = "refine"
    Params = WorkParams
    min_inputs = 0
    max_inputs = None
    file_params = ("mask",)

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: WorkParams) -> list[Output]:
        with _lock:
            ACTIVE["now"] += 1
            ACTIVE["peak"] = max(ACTIVE["peak"], ACTIVE["now"])
        try:
            if params.seconds:
                time.sleep(params.seconds)
            if params.hold:
                _wait_for_release(Path(params.hold))
            if params.fail:
                raise OpInputError(f"step '{ctx.node}' was asked to fail")
            log_execution(ctx.node)
            parents = [json.loads(i.path.read_text())["value"] for i in inputs]
            mask = ctx.files["mask"].id[:12] if "mask" in ctx.files else None
            body = {"value": params.value, "parents": parents, "seed": ctx.seed, "mask": mask}
            return [
                Output(data=json.dumps(body, sort_keys=True).encode(), mime_hint="application/json")
            ]
        finally:
            with _lock:
                ACTIVE["now"] -= 1


def _wait_for_release(release: Path, patience_s: float = 300.0) -> None:
    """Block until the test creates ``release`` (never for ever: a test that
    forgets fails its step instead of hanging the suite)."""
    Path(f"{release}.started").write_text("1")
    deadline = time.monotonic() + patience_s
    while not release.exists():
        if time.monotonic() > deadline:
            raise OpInputError(f"{release} was never released")
        time.sleep(0.01)


class NoopParams(OpParams):
    i: int = 0


@register
class NoopOp(Op):
    """As cheap as an op can be: for engine-overhead measurements."""

    name = "test.noop"
    stage = "refine"
    Params = NoopParams
    min_inputs = 0
    max_inputs = None
    threaded = False

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: NoopParams) -> list[Output]:
        return [Output(data=b'{"i":%d}' % params.i, mime_hint="application/json")]


class CrashParams(OpParams):
    pass


@register
class CrashOp(Op):
    name = "test.crash"
    stage = "refine"
    Params = CrashParams
    min_inputs = 0

    def run(self, ctx, inputs, params):
        raise ZeroDivisionError("division by zero inside an op")
