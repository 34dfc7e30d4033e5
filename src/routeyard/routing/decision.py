"""The shape of a route decision, shared by every router and the engine.

A decision is an ordered chain: the engine runs the first choice and falls
back along the chain on permanent failures. It is stored with the step so
that "why did this run on X" always has an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from routeyard.brief import Brief
from routeyard.ops import Op


@dataclass(frozen=True)
class RouteChoice:
    model: str
    provider: str
    version: str
    est_cost_usd: float = 0.0
    est_seconds: float | None = None
    reason: str = ""


class Lazy(Sequence[dict[str, Any]]):
    """The ranked candidates' explanations, built the first time they are read.

    A decision's chain is what the engine acts on; the explanation (every
    runner-up with its traits, evidence and price) is read when the route is
    recorded or shown, so it is not built in the routing hot path."""

    def __init__(self, count: int, build: Callable[[int], dict[str, Any]]) -> None:
        self._count, self._build = count, build
        self._items: list[dict[str, Any] | None] = [None] * count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        item = self._items[i]
        if item is None:
            item = self._items[i] = self._build(i)
        return item


@dataclass(frozen=True)
class RouteDecision:
    chain: tuple[RouteChoice, ...]
    reason: str
    candidates: Sequence[dict[str, Any]] = ()
    filtered: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def chosen(self) -> RouteChoice:
        return self.chain[0]

    def to_dict(self) -> dict[str, Any]:
        chosen = asdict(self.chosen)
        chosen["reason"] = self.reason
        return {
            "chosen": chosen,
            "fallbacks": [c.model for c in self.chain[1:]],
            "chain": [asdict(c) for c in self.chain],
            "candidates": list(self.candidates),
            "filtered": list(self.filtered),
            **self.extra,
        }


class Router(Protocol):
    def decide(
        self, *, op: Op, model: str, params: dict[str, Any], brief: Brief | None
    ) -> RouteDecision:
        """Raise ``PipelineError`` when the step cannot be routed at all."""
        ...
