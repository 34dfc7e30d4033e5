"""The engine: routes a plan, then runs it with caching, retries, fallbacks and a budget.

It is the small front of four pieces, each with one job: the ``scheduler``
runs the DAG's nodes as tasks in provider slots and handles cancellation;
``attempts`` gets one node its outputs (cache → chain → retries → budget);
the ``gatepolicy`` judges them and reroutes, repairs or keeps the best; the
``recorder`` makes every catalog write of the run. Blobs are atomic and a
step's catalog writes are one transaction, so Ctrl-C leaves nothing
half-written: running steps record themselves as cancelled.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from typing import Any

from routeyard import ops
from routeyard.config import Limits, RetryPolicy
from routeyard.errors import PipelineError, StoreError
from routeyard.logs import log, run_log
from routeyard.pipeline.attempts import Attempts
from routeyard.pipeline.budget import Budget
from routeyard.pipeline.context import DROPPED, OK, Outcome, RunContext
from routeyard.pipeline.events import EventBus, Subscriber
from routeyard.pipeline.gatepolicy import GatePolicy
from routeyard.pipeline.plan import Node, Plan, build
from routeyard.pipeline.recorder import Recorder
from routeyard.pipeline.scheduler import Scheduler, Slots
from routeyard.pipeline.spec import PipelineSpec
from routeyard.providers import LocalProvider, Provider
from routeyard.routing import RouteDecision, Router
from routeyard.routing.cooldown import Cooldowns
from routeyard.store import Store

__all__ = ["DROPPED", "OK", "Engine", "Outcome"]


class Engine:
    def __init__(
        self,
        store: Store,
        *,
        router: Router,
        providers: dict[str, Provider],
        cooldowns: Cooldowns,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        subscribers: list[Subscriber] | None = None,
        rng: random.Random | None = None,
        secrets: list[str] | None = None,
    ) -> None:
        """Everything the engine talks to is handed in (``api.build_engine`` is the
        composition root): providers, the router, the cooldowns it reports to and
        the credential values to redact."""
        self.store = store
        self.router = router
        self.providers = {"local": LocalProvider(), **providers}
        self.events = EventBus(subscribers)
        self.limits = limits or Limits()
        self.retry = retry or RetryPolicy()
        self.cooldowns = cooldowns
        self.rng = rng or random.Random()
        self.secrets: list[str] = list(secrets or [])

    def route(self, plan: Plan) -> dict[str, RouteDecision]:
        """Route every node before anything runs, so a bad model fails fast."""
        decisions = {}
        for node in plan.nodes.values():
            try:
                decision = self.router.decide(
                    op=ops.get_op(node.op), model=node.model, params=node.params,
                    brief=plan.spec.brief,
                )  # fmt: skip
            except PipelineError as exc:
                line = plan.spec.steps[node.step].line
                raise PipelineError(
                    f"{plan.spec.source}:{line}: step '{node.step}': {exc.message}", hint=exc.hint
                ) from None
            for choice in decision.chain:
                if choice.provider not in self.providers:
                    raise PipelineError(
                        f"step '{node.step}': provider '{choice.provider}' is not configured",
                        hint="check `routeyard providers check`",
                    )
            decisions[node.id] = decision
        return decisions

    async def run(
        self,
        spec: PipelineSpec,
        *,
        overrides: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        rerun_from: str | None = None,
        pipeline_path: str | None = None,
        resubmit: set[str] | None = None,
    ) -> str:
        """Execute ``spec``; returns the run id. ``rerun_from`` forces that step and
        its descendants; ``resubmit`` names steps whose possibly-accepted hosted
        request the operator wants sent again."""
        plan = build(spec)
        unknown = sorted(set(resubmit or ()) - set(spec.steps))
        if unknown:
            raise PipelineError(
                f"--resubmit: {spec.source} has no step '{unknown[0]}'",
                hint=f"steps: {', '.join(spec.steps)}",
            )
        decisions = self.route(plan)
        force = plan.descendants(plan.resolve(rerun_from)) if rerun_from else set()
        recorder = Recorder(self.store.catalog, self.events, self.secrets)
        with self.store.run_lock():
            self.store.catalog.mark_interrupted()
            # Holding the lock, no other run is alive: any work folder left is a
            # killed run's partial files (a half-written video), never needed.
            shutil.rmtree(self.store.home / "work", ignore_errors=True)
            run_id = recorder.start_run(spec, overrides, parent_run_id, rerun_from, pipeline_path)
            budget = Budget(spec.brief.budget_usd if spec.brief else None)
            run = RunContext(run_id, plan, decisions, force, budget, resubmit=set(resubmit or ()))
            with run_log(self.store.home / "logs" / f"{run.id}.log", self.secrets):
                log.info("run %s: %d steps from %s", run.id, len(plan.nodes), spec.source)
                try:
                    await self._execute(run, recorder)
                except StoreError:
                    # The disk is full: free the run's scratch space, then try
                    # once more to leave the run marked failed, not running.
                    shutil.rmtree(self.store.home / "work" / run.id, ignore_errors=True)
                    with contextlib.suppress(StoreError):
                        if self.store.catalog.get_run(run.id).status == "running":
                            self.store.catalog.finish_run(
                                run.id, status="failed", cost_usd=run.budget.spent,
                                error="the store could not be written (disk full?)",
                            )  # fmt: skip
                    raise
                finally:
                    shutil.rmtree(self.store.home / "work" / run.id, ignore_errors=True)
                    with contextlib.suppress(StoreError):  # events are a log, never a blocker
                        recorder.flush()
        return run.id

    async def _execute(self, run: RunContext, recorder: Recorder) -> None:
        """Wire one run's pieces together and let the scheduler drive them."""
        attempts = Attempts(
            self.store,
            providers=self.providers,
            models=getattr(self.router, "catalog", None),
            cooldowns=self.cooldowns,
            slots=Slots(self.limits),
            retry=self.retry,
            rng=self.rng,
            recorder=recorder,
        )
        gates = GatePolicy(self.store, router=self.router, attempts=attempts, recorder=recorder)

        async def step(run: RunContext, node: Node, position: int) -> Outcome:
            outcome = await attempts.run(run, node, position)
            if node.gate is not None and outcome.status in OK:
                outcome = await gates.apply(run, node, position, outcome)
            return outcome

        await Scheduler(recorder).execute(run, step)
