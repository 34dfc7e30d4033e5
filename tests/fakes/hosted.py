"""A simulated hosted provider and a router that hands the engine a chain.

``ScriptedProvider`` answers each call from a per-model script of outcomes
(``"ok"`` — a JSON result —, ``"image"``, ``"transient"``, ``"rate"``,
``"permanent"``, ``"policy"``, ``"invalid"``, ``"auth"``), so a
test can say "fail twice, then succeed" and check what the engine did.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from routeyard.ops import Op, Output
from routeyard.providers import (
    AuthError,
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    Provider,
    ProviderResult,
    RateLimitedError,
    Task,
    TransientError,
)
from routeyard.routing import RouteChoice, RouteDecision


class ScriptedProvider(Provider):
    def __init__(
        self,
        name: str = "fakehost",
        scripts: dict[str, list[str]] | None = None,
        seconds: float = 0.0,
        cost_usd: float = 0.0,
    ) -> None:
        self.name = name
        self.scripts = defaultdict(list, scripts or {})
        self.seconds = seconds
        self.cost_usd = cost_usd
        self.calls: list[str] = []
        self.active = 0
        self.peak = 0

    async def run(self, task: Task) -> ProviderResult:
        self.calls.append(task.model)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            job = f"job-{len(self.calls)}"
            task.jobs.submitted(job, meta={"model": task.model})
            if self.seconds:
                await asyncio.sleep(self.seconds)
            script = self.scripts[task.model]
            outcome = script.pop(0) if script else "ok"
            if outcome == "transient":
                raise TransientError("503 upstream busy")
            if outcome == "rate":
                raise RateLimitedError("429 slow down", retry_after=0.01)
            if outcome == "permanent":
                raise PermanentError("model is gone")
            if outcome == "policy":
                raise PolicyRejectedError("content policy")
            if outcome == "invalid":
                raise InvalidInputError("image_url: not a valid image")
            if outcome == "auth":
                raise AuthError("401 unauthorised: set FAKE_KEY")
            if outcome == "image":
                return ProviderResult(outputs=[Output(data=_png(), mime_hint="image/png")])
            task.jobs.updated(job, status="succeeded", cost_usd=self.cost_usd)
            body = {"model": task.model, "seed": task.seed, "params": task.params.model_dump()}
            return ProviderResult(
                outputs=[
                    Output(
                        data=json.dumps(body, sort_keys=True).encode(), mime_hint="application/json"
                    )
                ],
                cost_usd=self.cost_usd,
            )
        finally:
            self.active -= 1


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


class ChainRouter:
    """Routes every step to a fixed chain of (model, provider, estimated cost)."""

    def __init__(self, chain: list[tuple[str, str, float]]) -> None:
        self.chain = chain

    def decide(self, *, op: Op, model: str, params: dict[str, Any], brief) -> RouteDecision:
        choices = tuple(
            RouteChoice(model=m, provider=p, version="1", est_cost_usd=c, reason=f"scripted {m}")
            for m, p, c in self.chain
        )
        return RouteDecision(chain=choices, reason=f"test chain starting at {self.chain[0][0]}")
