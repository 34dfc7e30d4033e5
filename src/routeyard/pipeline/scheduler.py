"""The scheduler: runs a plan's nodes as tasks, in dependency order, in slots.

Every node is an asyncio task that waits for its inputs; a node whose
input failed is skipped, one whose input a gate turned away is dropped
with it. Provider slots cap how many jobs run at once on a provider (and a
model, where limited). Ctrl-C cancels every task; each records itself as
cancelled, and the run is never left ``running``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from routeyard import ops
from routeyard.config import Limits
from routeyard.errors import OVER_BUDGET, MediaError, OpInputError, StoreError
from routeyard.pipeline.context import DROPPED, OK, Outcome, RunContext
from routeyard.pipeline.plan import Node
from routeyard.pipeline.recorder import Recorder

StepRunner = Callable[[RunContext, Node, int], Awaitable[Outcome]]


class Slots:
    """One semaphore per provider and per limited ``provider/model``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._held: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def hold(self, provider: str, model: str) -> AsyncIterator[None]:
        model_limit = self.limits.for_model(provider, model)
        keys = ([f"{provider}/{model}"] if model_limit else []) + [provider]
        async with contextlib.AsyncExitStack() as stack:
            for key in keys:
                if key not in self._held:
                    limit = model_limit if key != provider else self.limits.for_provider(provider)
                    self._held[key] = asyncio.Semaphore(limit)
                await stack.enter_async_context(self._held[key])
            yield


class Scheduler:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def execute(self, run: RunContext, step: StepRunner) -> None:
        """Run every node; mark the run done, failed or cancelled at the end."""
        rec = self.recorder
        rec.emit(run, "run_started", data={"nodes": len(run.plan.nodes)})
        for node in run.plan.nodes.values():
            run.done[node.id] = asyncio.Event()
            run.gated[node.id] = asyncio.Event()
            rec.emit(run, "queued", node.id, {"step": node.step, "op": node.op})
        tasks = [
            asyncio.create_task(self._node(run, node, i, step), name=node.id)
            for i, node in enumerate(run.plan.nodes.values())
        ]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            await _cancel(tasks)
            rec.finish_run(run, "cancelled", "cancelled by the user")
            raise
        except StoreError as exc:  # the disk refused a write: say so, end the run failed
            await _cancel(tasks)
            with contextlib.suppress(StoreError):  # the disk may refuse this one too
                rec.finish_run(run, "failed", str(exc))
            raise
        except BaseException as exc:  # a bug: still leave the run marked, never 'running'
            await _cancel(tasks)
            rec.finish_run(run, "failed", f"internal error: {type(exc).__name__}: {exc}")
            raise
        rec.finish_run(run, *_verdict(run))

    async def _node(self, run: RunContext, node: Node, position: int, step: StepRunner) -> None:
        """One node's task: wait for its inputs, then run it, or say why not."""
        outcome = Outcome("failed")
        try:
            for dep in node.deps:
                await run.done[dep].wait()
            outcome = _blocked(run, node)
            if outcome is None:
                outcome = await step(run, node, position)
            else:
                self.recorder.end_step(run, node, position, outcome)
        except (OpInputError, MediaError) as exc:  # bad input files: fail this step only
            outcome = Outcome("failed", error=self.recorder.redact(str(exc)))
            self.recorder.end_step(run, node, position, outcome)
        except asyncio.CancelledError:
            outcome = Outcome("cancelled", error="cancelled by the user")
            self.recorder.end_step(run, node, position, outcome)
            raise
        finally:
            run.outcomes[node.id] = outcome
            run.gated[node.id].set()
            run.done[node.id].set()
            self.recorder.flush(when_full=True)


def _verdict(run: RunContext) -> tuple[str, str | None]:
    """The run's status and error, from its nodes' outcomes."""
    if {o.status for o in run.outcomes.values()} <= {*OK, DROPPED}:
        return "done", None
    failed = {n: o for n, o in run.outcomes.items() if o.status == "failed"}
    names = ", ".join(list(failed)[:5])
    if failed and all(o.over_budget for o in failed.values()):
        return "failed", f"{OVER_BUDGET}: {len(failed)} step(s) did not fit the budget: {names}"
    return "failed", f"{len(failed)} step(s) failed: {names}"


def _blocked(run: RunContext, node: Node) -> Outcome | None:
    """Why a node whose inputs have ended cannot run, or None when it can."""
    dropped = [d for d in node.deps if run.outcomes[d].status == DROPPED]
    bad = [d for d in node.deps if run.outcomes[d].status not in (*OK, DROPPED)]
    if bad:
        return Outcome("skipped", error=f"input '{bad[0]}' did not complete")
    if dropped and (not ops.get_op(node.op).aggregates or len(dropped) == len(node.deps)):
        return Outcome(
            DROPPED, error=f"branch dropped: its input '{dropped[0]}' was rejected by a gate"
        )
    return None


async def _cancel(tasks: list[asyncio.Task]) -> None:
    for t in tasks:
        t.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait(tasks)
