"""The state of one run: what every node's task reads and writes while it runs.

It lives here, not on the engine, so an engine holds no run's leftovers and
each piece (scheduler, attempts, gate policy, recorder) is handed exactly
the run it works on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from routeyard.pipeline.budget import Budget
from routeyard.pipeline.plan import Node, Plan
from routeyard.routing import RouteDecision
from routeyard.store import AssetRecord

OK = ("executed", "cached")
# A branch its gate turned away (keep_best kept a better one): not a failure.
DROPPED = "rejected"


@dataclass
class Outcome:
    """How a node ended: its status, outputs and the step row that made them."""

    status: str
    outputs: tuple[str, ...] = ()
    error: str | None = None
    row: int | None = None  # the step row that produced the outputs
    choice: int = 0  # which model of the route's chain produced them
    over_budget: bool = False  # failed only because no model fitted the budget


@dataclass
class RunContext:
    id: str
    plan: Plan
    decisions: dict[str, RouteDecision]
    force: set[str]
    budget: Budget
    resubmit: set[str] = field(default_factory=set)  # steps to submit again (see Task)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # Set once a node's gate has judged it (or the node ended without one):
    # keep_best branches wait for their siblings' verdicts.
    gated: dict[str, asyncio.Event] = field(default_factory=dict)
    verdicts: dict[str, tuple[bool, float | None]] = field(default_factory=dict)
    # The running step row of each node id, once it exists.
    rows: dict[str, int] = field(default_factory=dict)
    # Assets made in this run (immutable), so readers need not ask the catalog.
    assets: dict[str, AssetRecord] = field(default_factory=dict)

    def inputs_of(self, node: Node, *, first_only: bool = False) -> list[str]:
        """The outputs of the node's completed inputs, in dependency order."""
        return [
            a
            for dep in node.deps
            if self.outcomes[dep].status in OK
            for a in self.outcomes[dep].outputs[: 1 if first_only else None]
        ]
