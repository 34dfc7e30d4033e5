"""Every catalog write of a run, in one place, redacted on the way in.

The scheduler, the attempts and the gate policy decide; the recorder writes
what they decided: the run row, each step's row from start to end, cached
steps, route decisions, gate outcomes, provider jobs and the event log.
Keeping the writes here is what lets a reader check that no credential
reaches the store: every value passes ``redact`` first.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from routeyard import ops
from routeyard.checks.base import GateParams, GateResult
from routeyard.ops import OpContext
from routeyard.pipeline import gating
from routeyard.pipeline.context import DROPPED, Outcome, RunContext
from routeyard.pipeline.events import Event, EventBus
from routeyard.pipeline.plan import Node
from routeyard.providers import ProviderResult
from routeyard.providers.base import SENT, JobLedger
from routeyard.routing import RouteChoice, RouteDecision
from routeyard.secrets import redact
from routeyard.store import Catalog, NewAsset, StepRecord

_EVENT_FLUSH = 256  # events written to the catalog in batches of this many


class Recorder:
    def __init__(self, catalog: Catalog, events: EventBus, secrets: list[str]) -> None:
        self.catalog = catalog
        self.events = events
        self.secrets = list(secrets)

    def redact(self, value: Any) -> Any:
        return redact(value, self.secrets)

    # -------------------------------------------------------------- run
    def start_run(self, spec, overrides, parent_run_id, rerun_from, pipeline_path) -> str:
        run_id = uuid.uuid4().hex[:12]
        brief = spec.brief
        self.catalog.create_run(
            run_id=run_id,
            pipeline_path=pipeline_path,
            base_dir=str(spec.base_dir),
            pipeline_text=self.redact(spec.text),
            overrides=self.redact(overrides or {}),
            parent_run_id=parent_run_id,
            rerun_from=rerun_from,
            budget_usd=brief.budget_usd if brief else None,
            pid=os.getpid(),
        )
        return run_id

    def finish_run(self, run: RunContext, status: str, error: str | None) -> None:
        self.catalog.finish_run(run.id, status=status, cost_usd=run.budget.spent, error=error)
        self.emit(run, "run_finished", data={"status": status, "cost_usd": run.budget.spent})

    # ------------------------------------------------------------- events
    def emit(
        self, run: RunContext, kind: str, node: str | None = None, data: dict | None = None
    ) -> None:
        self.events.emit(Event(kind=kind, run_id=run.id, node=node, data=data or {}))

    def flush(self, *, when_full: bool = False) -> None:
        if not when_full or len(self.events.pending) >= _EVENT_FLUSH:
            self.catalog.add_events(self.events.drain())

    # -------------------------------------------------------------- steps
    def begin_step(
        self, run: RunContext, node: Node, position: int, choice: RouteChoice, lineage: dict
    ) -> int:
        """The step's row, ``running`` on the route's first model."""
        row = self.catalog.start_step(
            run.id,
            node.id,
            node.step,
            position,
            op=node.op,
            model=choice.model,
            provider=choice.provider,
            model_version=choice.version,
            status="running",
            started_at=time.time(),
            **lineage,
        )
        run.rows[node.id] = row
        return row

    def cached(
        self,
        run: RunContext,
        node: Node,
        position: int,
        choice: RouteChoice,
        key: str,
        hit: tuple[int, list[str]],
        lineage: dict,
    ) -> int:
        cached_from, outputs = hit
        row = self.catalog.record_cached(
            run.id,
            node.id,
            node.step,
            position,
            cached_from=cached_from,
            outputs=outputs,
            op=node.op,
            model=choice.model,
            provider=choice.provider,
            model_version=choice.version,
            status="cached",
            cache_key=key,
            seconds=0.0,
            **lineage,
        )
        self.emit(run, "cached", node.id, {"outputs": outputs})
        return row

    def route(self, row: int, decision: RouteDecision) -> None:
        self.catalog.record_route(row, decision.to_dict())

    def complete(
        self,
        row: int,
        *,
        choice: RouteChoice,
        key: str,
        assets: list[NewAsset],
        inputs: list[str],
        result: ProviderResult,
        warnings: list[str],
        seconds: float,
    ) -> None:
        self.catalog.complete_step(
            row,
            outputs=assets,
            inputs=inputs,
            cache_key=key,
            status="executed",
            model=choice.model,
            provider=choice.provider,
            model_version=choice.version,
            cost_usd=result.cost_usd,
            finished_at=time.time(),
            seconds=seconds,
            # The seed the result was made with: the provider's report, or
            # None where the request carried none (lineage must not lie).
            **({} if result.seed is SENT else {"seed": result.seed}),
            warnings=[self.redact(w) for w in warnings],
        )

    def end_step(self, run: RunContext, node: Node, position: int, outcome: Outcome) -> None:
        """A step that ends without a result (skipped, failed early, cancelled),
        whether or not its row exists yet; tells the subscribers."""
        fields = {"status": outcome.status, "error": outcome.error, "finished_at": time.time()}
        row = run.rows.get(node.id)
        if row is not None:
            self.catalog.update_step(row, **fields)
        else:
            self.catalog.start_step(
                run.id, node.id, node.step, position, op=node.op, model=node.model, **fields
            )
        self.emit(run, outcome.status, node.id, {"error": outcome.error})

    def fail(self, run: RunContext, node: Node, row: int | None, error: str, **fields) -> Outcome:
        """Mark a step failed with ``error`` (redacted) and say so."""
        error = self.redact(error)
        if row is not None:
            self.catalog.update_step(row, status="failed", error=error, **fields)
        self.emit(run, "failed", node.id, {"error": error})
        return Outcome("failed", error=error)

    def drop(self, row: int | None, reason: str) -> None:
        if row is not None:
            self.catalog.update_step(row, status=DROPPED, error=self.redact(reason))

    def warn(self, row: int | None, message: str) -> None:
        if row is None:
            return
        step = self.catalog.get_step(row)
        self.catalog.update_step(row, warnings=[*step.warnings, self.redact(message)])

    def producer(self, row: int | None) -> StepRecord | None:
        return self.catalog.get_step(row) if row is not None else None

    # -------------------------------------------------------------- gates
    def gate(
        self,
        run: RunContext,
        row: int | None,
        asset_id: str,
        producer: StepRecord | None,
        result: GateResult,
        params: GateParams,
    ) -> None:
        """One scored result, against the model and stage of the step that made the asset."""
        op = ops.get_op(producer.op) if producer is not None else None
        brief = run.plan.spec.brief
        self.catalog.record_gate(
            step_id=row,
            asset_id=asset_id,
            model=producer.model if producer is not None else None,
            stage=op.stage if op is not None else None,
            tags=brief.learning_tags() if brief is not None else [],
            **self.redact(gating.record_fields(result, params)),
        )

    def check_results(self, run: RunContext, ctx: OpContext, row: int) -> None:
        """Outcomes of a ``check.*`` step, recorded against each checked asset."""
        for item in ctx.gate_results:
            if item["result"].score is None:
                continue
            for asset_id in item["assets"]:
                producer = self.catalog.producer_of(asset_id)
                self.gate(run, row, asset_id, producer, item["result"], item["params"])

    # --------------------------------------------------------------- jobs
    def ledger(self, row: int, key: str, choice: RouteChoice) -> JobLedger:
        """Where an adapter records the jobs it submits, before it waits on them."""

        def submitted(
            job_id: str,
            status: str = "submitted",
            cost_usd: float | None = None,
            meta: dict | None = None,
        ) -> None:
            self.catalog.record_job(
                step_id=row,
                cache_key=key,
                provider=choice.provider,
                model=choice.model,
                job_id=job_id,
                status=status,
                cost_usd=cost_usd,
                meta=self.redact(meta or {}),
            )

        def updated(job_id: str, **fields: Any) -> None:
            # A job resumed from an interrupted run moves to the step that finishes it:
            # its cost is reported once, where it was collected.
            # ``new_job_id``: a pending submission learns the provider's id for its job.
            if "new_job_id" in fields:
                fields["job_id"] = fields.pop("new_job_id")
            self.catalog.update_job(choice.provider, job_id, step_id=row, **self.redact(fields))

        return JobLedger(
            submitted=submitted,
            updated=updated,
            previous=lambda: self.catalog.jobs_for_cache_key(key),
        )
