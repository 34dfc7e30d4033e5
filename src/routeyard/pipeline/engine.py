"""The engine: executes a plan's DAG with caching, retries, fallbacks and a budget.

One asyncio loop runs every node as a task that waits for its inputs. A
node first computes its cache key; on a hit it records the stored outputs
and costs nothing. Otherwise it takes a slot for its provider (and model,
where limited), runs, retries transient failures with jittered backoff,
falls back along its route's chain on permanent ones, and records its
outputs, lineage and cache entry in one transaction. Ctrl-C cancels every
running node, which records itself as cancelled; blobs are atomic and a
step's catalog writes are one transaction, so nothing is half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import secrets
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routeyard import billing, ops
from routeyard.checks import GATES
from routeyard.config import Limits, RetryPolicy
from routeyard.errors import MediaError, PipelineError
from routeyard.logs import log, run_log
from routeyard.ops import InputAsset, Op, OpContext, OpInputError, Output
from routeyard.pipeline import gating
from routeyard.pipeline.budget import Budget
from routeyard.pipeline.cachekey import cache_key, drawn_seed
from routeyard.pipeline.events import Event, EventBus, Subscriber
from routeyard.pipeline.plan import Node, Plan, build
from routeyard.pipeline.retry import backoff_delay
from routeyard.pipeline.spec import PipelineSpec
from routeyard.providers import LocalProvider, Provider, ProviderError, ProviderResult, Task
from routeyard.providers.base import SENT, JobLedger, PermanentError, TransientError
from routeyard.routing import RouteChoice, RouteDecision, Router
from routeyard.routing.cooldown import Cooldowns
from routeyard.secrets import redact
from routeyard.store import AssetRecord, NewAsset, Store

OK = ("executed", "cached")
# A branch its gate turned away (keep_best kept a better one): not a failure.
DROPPED = "rejected"
_INLINE_BYTES = 256 * 1024  # smaller outputs are stored on the loop thread
_EVENT_FLUSH = 256


@dataclass
class Outcome:
    status: str
    outputs: tuple[str, ...] = ()
    error: str | None = None
    row: int | None = None  # the step row that produced the outputs
    choice: int = 0  # which model of the route's chain produced them


@dataclass
class _Run:
    id: str
    plan: Plan
    decisions: dict[str, RouteDecision]
    force: set[str]
    budget: Budget
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # Set once a node's gate has judged it (or the node ended without one):
    # keep_best branches wait for their siblings' verdicts.
    gated: dict[str, asyncio.Event] = field(default_factory=dict)
    verdicts: dict[str, tuple[bool, float | None]] = field(default_factory=dict)


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
        self.catalog = store.catalog
        self.providers = {"local": LocalProvider(), **providers}
        self.router = router
        self.cooldowns = cooldowns
        self.limits = limits or Limits()
        self.retry = retry or RetryPolicy()
        self.events = EventBus(subscribers)
        self.rng = rng or random.Random()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._assets: dict[str, AssetRecord] = {}
        self._secrets: list[str] = list(secrets or [])

    # ------------------------------------------------------------------ plan
    def route(self, plan: Plan) -> dict[str, RouteDecision]:
        """Route every node before anything runs, so a bad model fails fast."""
        decisions = {}
        for node in plan.nodes.values():
            op = ops.get_op(node.op)
            try:
                decision = self.router.decide(
                    op=op, model=node.model, params=node.params, brief=plan.spec.brief
                )
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

    # ------------------------------------------------------------------- run
    async def run(
        self,
        spec: PipelineSpec,
        *,
        overrides: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        rerun_from: str | None = None,
        pipeline_path: str | None = None,
    ) -> str:
        """Execute ``spec``; returns the run id. ``rerun_from`` forces that step and its descendants."""
        plan = build(spec)
        decisions = self.route(plan)
        force = plan.descendants(plan.resolve(rerun_from)) if rerun_from else set()
        with self.store.run_lock():
            self.catalog.mark_interrupted()
            run = self._start_run(
                spec, plan, decisions, force, overrides, parent_run_id, rerun_from, pipeline_path
            )
            with run_log(self.store.home / "logs" / f"{run.id}.log", self._secrets):
                log.info("run %s: %d steps from %s", run.id, len(plan.nodes), spec.source)
                try:
                    await self._execute(run)
                finally:
                    self.catalog.add_events(self.events.drain())
                    shutil.rmtree(self.store.home / "work" / run.id, ignore_errors=True)
        return run.id

    def _start_run(
        self,
        spec: PipelineSpec,
        plan: Plan,
        decisions: dict[str, RouteDecision],
        force: set[str],
        overrides: dict[str, Any] | None,
        parent_run_id: str | None,
        rerun_from: str | None,
        pipeline_path: str | None,
    ) -> _Run:
        """The run's record in the catalog, and its in-memory context."""
        run_id = uuid.uuid4().hex[:12]
        brief = spec.brief
        self.catalog.create_run(
            run_id=run_id,
            pipeline_path=pipeline_path,
            base_dir=str(spec.base_dir),
            pipeline_text=self._redact(spec.text),
            overrides=self._redact(overrides or {}),
            parent_run_id=parent_run_id,
            rerun_from=rerun_from,
            budget_usd=brief.budget_usd if brief else None,
            pid=os.getpid(),
        )
        return _Run(
            id=run_id,
            plan=plan,
            decisions=decisions,
            force=force,
            budget=Budget(brief.budget_usd if brief else None),
        )

    async def _execute(self, run: _Run) -> None:
        self._emit(run, "run_started", data={"nodes": len(run.plan.nodes)})
        for node in run.plan.nodes.values():
            run.done[node.id] = asyncio.Event()
            run.gated[node.id] = asyncio.Event()
            self._emit(run, "queued", node.id, {"step": node.step, "op": node.op})
        tasks = [
            asyncio.create_task(self._node(run, node, i), name=node.id)
            for i, node in enumerate(run.plan.nodes.values())
        ]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            for t in tasks:
                t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait(tasks)
            self._finish(run, "cancelled", "cancelled by the user")
            raise
        except BaseException as exc:  # a bug: still leave the run marked, never 'running'
            for t in tasks:
                t.cancel()
            self._finish(run, "failed", f"internal error: {type(exc).__name__}: {exc}")
            raise
        statuses = {o.status for o in run.outcomes.values()}
        failed = [n for n, o in run.outcomes.items() if o.status == "failed"]
        if statuses <= {*OK, DROPPED}:
            self._finish(run, "done", None)
        else:
            self._finish(run, "failed", f"{len(failed)} step(s) failed: {', '.join(failed[:5])}")

    def _finish(self, run: _Run, status: str, error: str | None) -> None:
        self.catalog.finish_run(run.id, status=status, cost_usd=run.budget.spent, error=error)
        self._emit(run, "run_finished", data={"status": status, "cost_usd": run.budget.spent})

    # ------------------------------------------------------------------ node
    async def _node(self, run: _Run, node: Node, position: int) -> None:
        outcome = Outcome("failed")
        step_id: list[int] = []  # set once the step row exists
        try:
            for dep in node.deps:
                await run.done[dep].wait()
            dropped = [d for d in node.deps if run.outcomes[d].status == DROPPED]
            bad = [d for d in node.deps if run.outcomes[d].status not in (*OK, DROPPED)]
            aggregates = ops.get_op(node.op).aggregates
            if bad:
                outcome = Outcome("skipped", error=f"input '{bad[0]}' did not complete")
                self._end_step(run, node, position, step_id, outcome)
            elif dropped and (not aggregates or len(dropped) == len(node.deps)):
                outcome = Outcome(
                    DROPPED,
                    error=f"branch dropped: its input '{dropped[0]}' was rejected by a gate",
                )
                self._end_step(run, node, position, step_id, outcome)
            else:
                outcome = await self._run_node(run, node, position, step_id)
                if node.gate is not None and outcome.status in OK:
                    outcome = await self._gate(run, node, position, outcome)
        except (OpInputError, MediaError) as exc:  # bad input files: fail this step only
            outcome = Outcome("failed", error=self._redact(str(exc)))
            self._end_step(run, node, position, step_id, outcome)
        except asyncio.CancelledError:
            outcome = Outcome("cancelled", error="cancelled by the user")
            self._end_step(run, node, position, step_id, outcome)
            raise
        finally:
            run.outcomes[node.id] = outcome
            run.gated[node.id].set()
            run.done[node.id].set()
            if len(self.events.pending) >= _EVENT_FLUSH:
                self.catalog.add_events(self.events.drain())

    def _end_step(
        self, run: _Run, node: Node, position: int, step_id: list[int], outcome: Outcome
    ) -> None:
        """Record a step that ends without a result (skipped, failed early, cancelled),
        whether or not its row exists yet, and tell the subscribers."""
        fields = {"status": outcome.status, "error": outcome.error, "finished_at": time.time()}
        if step_id:
            self.catalog.update_step(step_id[0], **fields)
        else:
            self.catalog.start_step(
                run.id, node.id, node.step, position, op=node.op, model=node.model, **fields
            )
        self._emit(run, outcome.status, node.id, {"error": outcome.error})

    async def _run_node(
        self,
        run: _Run,
        node: Node,
        position: int,
        step_id: list[int],
        *,
        start: int = 0,
        input_ids: list[str] | None = None,
        decision: RouteDecision | None = None,
    ) -> Outcome:
        """Run (or find in the cache) one node, from model ``start`` of its chain on."""
        op = ops.get_op(node.op)
        params = op.Params.model_validate(node.params)
        spec = run.plan.spec
        if input_ids is None:
            input_ids = [
                a
                for dep in node.deps
                if run.outcomes[dep].status in OK
                for a in run.outcomes[dep].outputs
            ]
        files = await self._import_files(op, params, spec.base_dir, node)
        seed = self._seed(node)
        full = decision or run.decisions[node.id]
        decision = dataclasses.replace(full, chain=full.chain[start:])
        record = self._redact(params.model_dump(mode="json"))
        prompt = self._redact(record.get("prompt") or (spec.brief.prompt if spec.brief else None))
        lineage_inputs = input_ids + [f.id for f in files.values()]
        ctx = self._context(run, node, seed, files)
        keys = [self._key(op, c, params, seed, input_ids, files) for c in decision.chain]

        if node.id not in run.force:
            for i, (choice, key) in enumerate(zip(decision.chain, keys, strict=True)):
                hit = self._cache_hit(key, op, params, ctx)
                if hit is not None:
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
                        seed=seed,
                        params=record,
                        inputs=lineage_inputs,
                        prompt=prompt,
                        seconds=0.0,
                    )
                    self._emit(run, "cached", node.id, {"outputs": outputs})
                    return Outcome("cached", tuple(outputs), row=row, choice=start + i)

        inputs = [self._input(a) for a in input_ids]
        first = decision.chosen
        step_id.append(
            self.catalog.start_step(
                run.id,
                node.id,
                node.step,
                position,
                op=node.op,
                model=first.model,
                provider=first.provider,
                model_version=first.version,
                status="running",
                seed=seed,
                params=record,
                inputs=lineage_inputs,
                prompt=prompt,
                started_at=time.time(),
            )
        )
        self.catalog.record_route(step_id[0], decision.to_dict())
        errors: list[str] = []
        started = time.perf_counter()
        for i, (choice, key) in enumerate(zip(decision.chain, keys, strict=True)):
            if i:
                self._emit(run, "fallback", node.id, {"to": choice.model, "after": errors[-1]})
            reserved = self._estimate(choice, op, params, spec.brief, inputs)
            if not run.budget.fits(reserved):
                errors.append(
                    f"{choice.model}: estimated ${reserved:.2f} exceeds the "
                    f"${run.budget.left:.2f} left of the budget"
                )
                continue
            run.budget.reserve(reserved)
            result: ProviderResult | None = None
            try:
                task = Task(
                    node=node.id,
                    op=op,
                    model=choice.model,
                    model_version=choice.version,
                    params=params,
                    seed=seed,
                    inputs=inputs,
                    ctx=ctx,
                    jobs=self._ledger(step_id[0], key, choice),
                    brief=spec.brief,
                )
                result = await self._attempts(run, node, choice, task, step_id[0])
                assets = await self._store_outputs(result.outputs, node)
                for out, asset in zip(result.outputs, assets, strict=True):
                    expected = out.meta.get("sha256")
                    if expected and expected != asset.id:  # the file changed after download
                        raise TransientError(
                            f"download of {out.meta.get('source_url', 'a result')} hashed "
                            f"{expected[:12]} but stored as {asset.id[:12]}"
                        )
                wrong = [a.kind for a in assets if op.produces and a.kind != op.produces]
                if wrong:
                    raise PermanentError(
                        f"returned a {wrong[0]} where '{op.name}' makes a {op.produces}"
                    )
            except ProviderError as exc:
                errors.append(f"{choice.model} ({exc.kind}): {exc}")
                log.info("step %s: %s failed (%s): %s", node.id, choice.model, exc.kind, exc)
                if not exc.falls_back:
                    # The same input or the same missing key fails on every
                    # model: say so now instead of trying (and paying) the rest.
                    break
                if exc.kind != "rejected_by_policy":
                    self.cooldowns.failed(choice.model)
                continue
            except (OpInputError, MediaError) as exc:
                errors.append(str(exc))
                break
            except Exception as exc:
                # A bug in an op or adapter fails its step, never the run, and
                # never falls back: the next model may be a paid provider, and
                # a fallback would hide the bug. The traceback goes to the log.
                log.exception("step %s: %s on %s crashed", node.id, choice.model, choice.provider)
                errors.append(
                    f"{choice.model} crashed ({type(exc).__name__}: {exc}); this is a bug in "
                    f"routeyard, its traceback is in the run's log"
                )
                break
            finally:
                run.budget.settle(reserved, result.cost_usd if result else 0.0)
            self.cooldowns.succeeded(choice.model)
            seconds = time.perf_counter() - started
            self.catalog.complete_step(
                step_id[0],
                outputs=assets,
                inputs=lineage_inputs,
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
                warnings=[self._redact(w) for w in [*result.warnings, *ctx.warnings]],
            )
            ids = tuple(a.id for a in assets)
            for a in assets:  # assets are immutable: remember them for the readers
                self._assets[a.id] = AssetRecord(**vars(a))
            self._record_check_results(ctx, step_id[-1], run)
            self._emit(
                run,
                "finished",
                node.id,
                {"outputs": ids, "seconds": seconds, "cost_usd": result.cost_usd},
            )
            return Outcome("executed", ids, row=step_id[-1], choice=start + i)

        error = self._redact("; ".join(errors) or "no route could run this step")
        self.catalog.update_step(
            step_id[0],
            status="failed",
            error=error,
            finished_at=time.time(),
            seconds=time.perf_counter() - started,
        )
        self._emit(run, "failed", node.id, {"error": error})
        return Outcome("failed", error=error)

    # ----------------------------------------------------------------- gates
    async def _gate(self, run: _Run, node: Node, position: int, outcome: Outcome) -> Outcome:
        """Judge the node's first output; on a fail, take the route the plan names."""
        spec = node.gate
        repairs = reroutes = 0
        while True:
            result = await self._judge(run, node, outcome)
            if result.passed is not False:
                if result.passed is None:  # not applicable / unknown: say so, carry on
                    self._warn(outcome.row, f"gate {spec.check}: {result.message}")
                run.verdicts[node.id] = (True, result.score)
                run.gated[node.id].set()
                return outcome
            verdict = (
                f"gate {spec.check} failed: {result.message} "
                f"(score {result.score:.3f} < {result.threshold})"
            )
            self._emit(run, "gate_failed", node.id, {"gate": spec.check, "score": result.score})
            chain = run.decisions[node.id].chain
            if spec.action == "reroute" and outcome.choice + 1 < len(chain):
                self.catalog.update_step(outcome.row, status=DROPPED, error=f"{verdict}; rerouted")
                reroutes += 1
                retry = dataclasses.replace(node, id=f"{node.id}~reroute{reroutes}")
                nxt = await self._run_node(
                    run,
                    retry,
                    position,
                    [],
                    start=outcome.choice + 1,
                    decision=run.decisions[node.id],
                )
                if nxt.status not in OK:
                    return nxt
                outcome = nxt
                continue
            if spec.action == "repair" and repairs < spec.max_attempts:
                repairs += 1
                self._warn(outcome.row, f"{verdict}; repairing with {spec.repair[0]} (#{repairs})")
                outcome = await self._repair(run, node, position, outcome, repairs)
                if outcome.status not in OK:
                    return outcome
                continue
            if spec.action == "keep_best":
                return await self._keep_best(run, node, outcome, result, verdict)
            why = {
                "reroute": "; no further model in the route's chain",
                "repair": f"; still failing after {repairs} repair(s)",
            }.get(spec.action, "")
            error = self._redact(verdict + why)
            self.catalog.update_step(outcome.row, status="failed", error=error)
            self._emit(run, "failed", node.id, {"error": error})
            return Outcome("failed", error=error)

    async def _judge(self, run: _Run, node: Node, outcome: Outcome):
        """The gate's result for the node's first output: recorded once, then reused."""
        spec = node.gate
        asset_id = outcome.outputs[0]
        record = self._input(asset_id).record
        params = gating.gate_params(spec, run.plan.spec.brief, record.kind)
        rows = self.catalog.gate_outcomes(asset_id=asset_id, gate=spec.check)
        row = gating.recorded(rows, spec.check, params)
        if row is not None:
            return gating.from_record(spec.check, row, params)
        ref = None
        if params.ref:
            ref = Path(params.ref)
            ref = ref if ref.is_absolute() else run.plan.spec.base_dir / ref
        result = await asyncio.to_thread(
            GATES[spec.check].evaluate, [self.store.path_of(asset_id)], params, ref
        )
        if result.score is not None:
            producer = self.catalog.get_step(outcome.row) if outcome.row is not None else None
            self._record_gate(run, outcome.row, asset_id, producer, result, params)
        return result

    def _record_gate(
        self, run: _Run, row: int | None, asset_id: str, producer, result, params
    ) -> None:
        """One scored result, against the model and stage of the step that made the asset."""
        op = ops.get_op(producer.op) if producer is not None else None
        self.catalog.record_gate(
            step_id=row,
            asset_id=asset_id,
            model=producer.model if producer is not None else None,
            stage=op.stage if op is not None else None,
            tags=gating.brief_tags(run.plan.spec.brief),
            **self._redact(gating.record_fields(result, params)),
        )

    def _record_check_results(self, ctx: OpContext, row: int, run: _Run) -> None:
        """Outcomes of a ``check.*`` step, recorded against each checked asset."""
        for item in ctx.gate_results:
            if item["result"].score is None:
                continue
            for asset_id in item["assets"]:
                producer = self.catalog.producer_of(asset_id)
                self._record_gate(run, row, asset_id, producer, item["result"], item["params"])

    async def _repair(
        self, run: _Run, node: Node, position: int, outcome: Outcome, attempt: int
    ) -> Outcome:
        """Run the gate's repair op on the failing output (and the step's own inputs,
        when the op takes more), as a step of its own in the run."""
        op_name, params = node.gate.repair
        op = ops.get_op(op_name)
        inputs = list(outcome.outputs[:1])
        if op.max_inputs is None or op.max_inputs > 1:
            inputs += [
                a
                for dep in node.deps
                if run.outcomes[dep].status in OK
                for a in run.outcomes[dep].outputs[:1]
            ]
            inputs = inputs[: op.max_inputs] if op.max_inputs else inputs
        repair = Node(
            id=f"{node.id}~{op_name}{attempt}",
            step=node.step,
            branch=node.branch,
            op=op_name,
            model="auto",
            params=params,
            deps=(),
            seed=None,
        )
        try:
            op.Params.model_validate(params)
            decision = self.router.decide(
                op=op, model="auto", params=params, brief=run.plan.spec.brief
            )
        except Exception as exc:  # bad repair parameters: fail the gated step, clearly
            error = self._redact(f"gate repair {op_name}: {exc}")
            self.catalog.update_step(outcome.row, status="failed", error=error)
            return Outcome("failed", error=error)
        self._emit(run, "repair", node.id, {"op": op_name, "attempt": attempt})
        return await self._run_node(run, repair, position, [], input_ids=inputs, decision=decision)

    async def _keep_best(
        self, run: _Run, node: Node, outcome: Outcome, result, verdict: str
    ) -> Outcome:
        """Of a fan-out's branches, keep those that pass; if none does, the best one."""
        run.verdicts[node.id] = (False, result.score)
        run.gated[node.id].set()
        siblings = run.plan.branches[node.step]
        for sibling in siblings:
            await run.gated[sibling].wait()
        if any(run.verdicts.get(s, (False, None))[0] for s in siblings):
            self.catalog.update_step(
                outcome.row, status=DROPPED, error=f"{verdict}; a passing branch is kept"
            )
            return Outcome(DROPPED, outcome.outputs, error=verdict, row=outcome.row)
        scored = {s: v[1] for s in siblings if (v := run.verdicts.get(s)) and v[1] is not None}
        if max(scored, key=scored.get) == node.id:
            self._warn(
                outcome.row, f"{verdict}; no branch passed, kept as the best of {len(siblings)}"
            )
            return outcome
        self.catalog.update_step(
            outcome.row, status=DROPPED, error=f"{verdict}; a better branch is kept"
        )
        return Outcome(DROPPED, outcome.outputs, error=verdict, row=outcome.row)

    def _warn(self, row: int | None, message: str) -> None:
        if row is None:
            return
        step = self.catalog.get_step(row)
        self.catalog.update_step(row, warnings=[*step.warnings, self._redact(message)])

    async def _attempts(
        self, run: _Run, node: Node, choice: RouteChoice, task: Task, step_id: int
    ) -> ProviderResult:
        provider = self.providers[choice.provider]
        attempts = node.retries + 1 if node.retries is not None else self.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._slot(choice.provider, choice.model):
                    self.catalog.update_step(step_id, attempts=attempt)
                    self._emit(
                        run,
                        "started",
                        node.id,
                        {"model": choice.model, "provider": choice.provider, "attempt": attempt},
                    )
                    return await provider.run(task)
            except ProviderError as exc:
                if not exc.retryable or attempt == attempts:
                    raise
                delay = backoff_delay(self.retry, attempt, self.rng, exc.retry_after)
                self._emit(
                    run,
                    "retry",
                    node.id,
                    {
                        "attempt": attempt,
                        "kind": exc.kind,
                        "error": self._redact(str(exc)),
                        "delay_s": delay,
                    },
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # --------------------------------------------------------------- helpers
    @contextlib.asynccontextmanager
    async def _slot(self, provider: str, model: str):
        model_limit = self.limits.for_model(provider, model)
        keys = ([f"{provider}/{model}"] if model_limit else []) + [provider]
        sems = []
        for key in keys:
            if key not in self._slots:
                limit = model_limit if key != provider else self.limits.for_provider(provider)
                self._slots[key] = asyncio.Semaphore(limit)
            sems.append(self._slots[key])
        async with contextlib.AsyncExitStack() as stack:
            for sem in sems:
                await stack.enter_async_context(sem)
            yield

    def _estimate(
        self, choice: RouteChoice, op: Op, params, brief, inputs: list[InputAsset]
    ) -> float:
        """What the budget reserves for this attempt: the adapter's own estimate
        (``billing``), now that the inputs' sizes are known; the route's figure
        for a model the catalog does not price."""
        catalog = getattr(self.router, "catalog", None)
        model = catalog.get(choice.model) if catalog is not None else None
        if model is None:
            return choice.est_cost_usd
        image = next((i.record for i in inputs if i.record.kind == "image"), None)
        size = (image.width, image.height) if image is not None and image.width else None
        request = billing.request_for(op.name, params.model_dump(), brief, size)
        return billing.estimate(model, request).usd

    def _seed(self, node: Node) -> int:
        if isinstance(node.seed, int):
            return node.seed
        if node.seed == "random":
            return secrets.randbits(31)
        return drawn_seed(node.step, node.op, node.branch)

    def _key(
        self,
        op: Op,
        choice: RouteChoice,
        params,
        seed: int,
        inputs: list[str],
        files: dict[str, InputAsset],
    ) -> str:
        plain = params.model_dump(mode="json")
        return cache_key(
            op=op.name,
            op_version=op.version,
            model=choice.model,
            model_version=choice.version,
            params=plain,
            seed=seed,
            inputs=inputs,
            files={k: v.id for k, v in files.items()},
        )

    def _cache_hit(self, key: str, op: Op, params, ctx: OpContext) -> tuple[int, list[str]] | None:
        hit = self.catalog.find_cached(key)
        if hit is None:
            return None
        step_id, outputs = hit
        if not all(self.store.blobs.has(a) for a in outputs):
            return None  # a blob was lost: recompute rather than hand on a dangling id
        if op.has_side_effects and not op.still_valid(params, outputs, ctx):
            return None
        return step_id, outputs

    def _input(self, asset_id: str) -> InputAsset:
        record = self._assets.get(asset_id) or self.catalog.get_asset(asset_id)
        return InputAsset(id=asset_id, path=self.store.path_of(asset_id), record=record)

    async def _import_files(
        self, op: Op, params, base_dir: Path, node: Node
    ) -> dict[str, InputAsset]:
        out = {}
        for name, path in op.file_paths(params, base_dir).items():
            try:
                asset = await asyncio.to_thread(
                    self.store.put_file, path, meta={"source": str(path)}
                )
            except FileNotFoundError:
                raise OpInputError(
                    f"step '{node.step}', parameter '{name}': file {path} not found"
                ) from None
            except MediaError as exc:
                raise MediaError(
                    f"step '{node.step}', parameter '{name}': {exc.message}", hint=exc.hint
                ) from None
            self.catalog.add_asset(asset)
            out[name] = self._input(asset.id)
        return out

    async def _store_outputs(self, outputs: list[Output], node: Node) -> list[NewAsset]:
        assets = []
        for i, out in enumerate(outputs):
            source = f"step '{node.id}' output #{i}"
            meta = self._redact(out.meta)
            if out.existing is not None:
                rec = self.catalog.get_asset(out.existing)
                assets.append(
                    NewAsset(
                        id=rec.id,
                        kind=rec.kind,
                        mime=rec.mime,
                        size_bytes=rec.size_bytes,
                        width=rec.width,
                        height=rec.height,
                        frames=rec.frames,
                        fps=rec.fps,
                        duration=rec.duration,
                        meta=rec.meta,
                    )
                )
            elif out.data is not None:
                if len(out.data) <= _INLINE_BYTES:
                    assets.append(
                        self.store.put_bytes(
                            out.data, source=source, mime_hint=out.mime_hint, meta=meta
                        )
                    )
                else:
                    assets.append(
                        await asyncio.to_thread(
                            self.store.put_bytes,
                            out.data,
                            source=source,
                            mime_hint=out.mime_hint,
                            meta=meta,
                        )
                    )
            elif out.path is not None:
                assets.append(
                    await asyncio.to_thread(
                        self.store.put_file, out.path, mime_hint=out.mime_hint, meta=meta
                    )
                )
            else:
                raise ProviderError(f"{source} is empty")
        return assets

    def _context(self, run: _Run, node: Node, seed: int, files: dict[str, InputAsset]) -> OpContext:
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            loop.call_soon_threadsafe(
                self._emit, run, "progress", node.id, {"fraction": max(0.0, min(1.0, fraction))}
            )

        return OpContext(
            run_id=run.id,
            node=node.id,
            step=node.step,
            seed=seed,
            base_dir=run.plan.spec.base_dir,
            files=files,
            work_dir=self.store.home / "work" / run.id / node.id.replace("[", "-").replace("]", ""),
            report_progress=progress,
            asset_path=self.store.path_of,
            catalog=self.catalog,
            secrets=tuple(self._secrets),
        )

    def _ledger(self, step_id: int, key: str, choice: RouteChoice) -> JobLedger:
        def submitted(
            job_id: str,
            status: str = "submitted",
            cost_usd: float | None = None,
            meta: dict | None = None,
        ) -> None:
            self.catalog.record_job(
                step_id=step_id,
                cache_key=key,
                provider=choice.provider,
                model=choice.model,
                job_id=job_id,
                status=status,
                cost_usd=cost_usd,
                meta=self._redact(meta or {}),
            )

        def updated(job_id: str, **fields: Any) -> None:
            # A job resumed from an interrupted run moves to the step that finishes it:
            # its cost is reported once, where it was collected.
            self.catalog.update_job(
                choice.provider, job_id, step_id=step_id, **self._redact(fields)
            )

        return JobLedger(
            submitted=submitted,
            updated=updated,
            previous=lambda: self.catalog.jobs_for_cache_key(key),
        )

    def _redact(self, value: Any) -> Any:
        return redact(value, self._secrets)

    def _emit(
        self, run: _Run, kind: str, node: str | None = None, data: dict | None = None
    ) -> None:
        self.events.emit(Event(kind=kind, run_id=run.id, node=node, data=data or {}))
