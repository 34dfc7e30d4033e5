"""The local provider: runs ops on this machine's CPU, at no cost.

CPU-heavy ops run in a worker thread so the event loop keeps serving hosted
jobs and progress; ops that read the catalog run on the loop's thread.
"""

from __future__ import annotations

import asyncio

from routeyard.providers.base import Provider, ProviderResult, Task


class LocalProvider(Provider):
    name = "local"

    async def run(self, task: Task) -> ProviderResult:
        if task.op.threaded:
            outputs = await asyncio.to_thread(task.op.run, task.ctx, task.inputs, task.params)
        else:
            outputs = task.op.run(task.ctx, task.inputs, task.params)
        return ProviderResult(outputs=list(outputs), cost_usd=0.0)
