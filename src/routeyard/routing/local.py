"""The router for local ops: they run on this machine, at no cost.

A step whose model is ``auto`` or ``local`` routes to the local provider
under the model id ``local/<op>``, versioned by the op's version. Hosted
models arrive with the catalog; until then naming one is an error that says
so rather than a silent substitution.
"""

from __future__ import annotations

from typing import Any

from routeyard.brief import Brief
from routeyard.errors import PipelineError
from routeyard.ops import Op
from routeyard.routing.decision import RouteChoice, RouteDecision

LOCAL_MODELS = ("auto", "local")


class LocalRouter:
    def decide(
        self, *, op: Op, model: str, params: dict[str, Any], brief: Brief | None
    ) -> RouteDecision:
        if model not in LOCAL_MODELS and model != f"local/{op.name}":
            raise PipelineError(
                f"model '{model}' is not known to this install",
                hint="use model: auto (or local) for local ops",
            )
        choice = RouteChoice(
            model=f"local/{op.name}",
            provider="local",
            version=op.version,
            reason=f"'{op.name}' runs locally on this machine",
        )
        return RouteDecision(chain=(choice,), reason=choice.reason)
