"""Attempts: how one node gets its outputs — cache, then the chain, retries, budget.

A node first looks for each model of its route's chain in the cache (a hit
costs nothing). Otherwise each model in turn, as the budget allows: the
provider runs in a slot, transient failures are retried with jittered
backoff, and only the provider error kinds that fall back move to the next
model. A bug (any other exception) fails the step with its traceback in the
run's log: falling back would pay another provider to hide it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routeyard import billing, ops
from routeyard.catalog import Catalog as ModelCatalog
from routeyard.config import RetryPolicy
from routeyard.errors import MediaError, StoreError
from routeyard.logs import log
from routeyard.ops import InputAsset, Op, OpContext, OpInputError, Output
from routeyard.pipeline.cachekey import cache_key, drawn_seed
from routeyard.pipeline.context import Outcome, RunContext
from routeyard.pipeline.plan import Node
from routeyard.pipeline.recorder import Recorder
from routeyard.pipeline.retry import backoff_delay
from routeyard.pipeline.scheduler import Slots
from routeyard.providers import Provider, ProviderError, ProviderResult, Task
from routeyard.providers.base import PermanentError, TransientError
from routeyard.routing import RouteChoice, RouteDecision
from routeyard.routing.cooldown import Cooldowns
from routeyard.store import AssetRecord, NewAsset, Store

_INLINE_BYTES = 256 * 1024  # smaller outputs are stored on the loop thread


@dataclass
class Work:
    """What one node's attempts share: its op, parameters, inputs and keys."""

    op: Op
    params: Any
    seed: int
    chain: tuple[RouteChoice, ...]
    keys: list[str]
    inputs: list[str]  # asset ids handed to the op
    files: dict[str, InputAsset]
    ctx: OpContext
    lineage: dict[str, Any]  # seed, params, inputs and prompt, as recorded
    start: int  # the position of ``chain[0]`` in the route's full chain


class _Stop(Exception):
    """The chain stops here: the error would be the same on every model."""


class Attempts:
    def __init__(
        self,
        store: Store,
        *,
        providers: dict[str, Provider],
        models: ModelCatalog | None,
        cooldowns: Cooldowns,
        slots: Slots,
        retry: RetryPolicy,
        rng: random.Random,
        recorder: Recorder,
    ) -> None:
        self.store = store
        self.providers = providers
        self.models = models
        self.cooldowns = cooldowns
        self.slots = slots
        self.retry = retry
        self.rng = rng
        self.rec = recorder

    async def run(
        self,
        run: RunContext,
        node: Node,
        position: int,
        *,
        start: int = 0,
        input_ids: list[str] | None = None,
        decision: RouteDecision | None = None,
    ) -> Outcome:
        """Run (or find in the cache) one node, from model ``start`` of its chain on."""
        full = decision or run.decisions[node.id]
        work = await self._prepare(run, node, input_ids, full, start)
        if node.id not in run.force:
            hit = self._from_cache(run, node, position, work)
            if hit is not None:
                return hit
        first = work.chain[0]
        row = self.rec.begin_step(run, node, position, first, work.lineage)
        self.rec.route(row, dataclasses.replace(full, chain=work.chain))
        return await self._chain(run, node, work, row)

    def input(self, run: RunContext, asset_id: str) -> InputAsset:
        record = run.assets.get(asset_id) or self.store.catalog.get_asset(asset_id)
        return InputAsset(id=asset_id, path=self.store.path_of(asset_id), record=record)

    # ---------------------------------------------------------------- setup
    async def _prepare(
        self,
        run: RunContext,
        node: Node,
        input_ids: list[str] | None,
        decision: RouteDecision,
        start: int,
    ) -> Work:
        op = ops.get_op(node.op)
        params = op.Params.model_validate(node.params)
        spec = run.plan.spec
        inputs = run.inputs_of(node) if input_ids is None else input_ids
        files = await self._import_files(run, op, params, spec.base_dir, node)
        seed = _seed(node)
        chain = decision.chain[start:]
        record = self.rec.redact(params.model_dump(mode="json"))
        prompt = record.get("prompt") or (spec.brief.prompt if spec.brief else None)
        plain = params.model_dump(mode="json")
        keys = [
            cache_key(
                op=op.name,
                op_version=op.version,
                model=c.model,
                model_version=c.version,
                params=plain,
                seed=seed,
                inputs=inputs,
                files={k: v.id for k, v in files.items()},
            )
            for c in chain
        ]
        lineage = {
            "seed": seed,
            "params": record,
            "inputs": inputs + [f.id for f in files.values()],
            "prompt": self.rec.redact(prompt),
        }
        ctx = self._context(run, node, seed, files)
        ctx.warnings.extend(decision.extra.get("warnings") or [])  # deprecations, a class change
        return Work(op, params, seed, chain, keys, inputs, files, ctx, lineage, start)

    def _from_cache(self, run: RunContext, node: Node, position: int, work: Work) -> Outcome | None:
        for i, (choice, key) in enumerate(zip(work.chain, work.keys, strict=True)):
            hit = self._cache_hit(key, work)
            if hit is not None:
                row = self.rec.cached(run, node, position, choice, key, hit, work.lineage)
                return Outcome("cached", tuple(hit[1]), row=row, choice=work.start + i)
        return None

    def _cache_hit(self, key: str, work: Work) -> tuple[int, list[str]] | None:
        hit = self.store.catalog.find_cached(key)
        if hit is None:
            return None
        step_id, outputs = hit
        if not all(self.store.blobs.has(a) for a in outputs):
            return None  # a blob was lost: recompute rather than hand on a dangling id
        if work.op.has_side_effects and not work.op.still_valid(work.params, outputs, work.ctx):
            return None
        return step_id, outputs

    # ---------------------------------------------------------------- chain
    async def _chain(self, run: RunContext, node: Node, work: Work, row: int) -> Outcome:
        """Each model of the chain in turn, until one produces the outputs."""
        inputs = [self.input(run, a) for a in work.inputs]
        errors: list[str] = []
        refused = 0  # models the budget could not afford
        started = time.perf_counter()
        for i, (choice, key) in enumerate(zip(work.chain, work.keys, strict=True)):
            if i:
                self.rec.emit(run, "fallback", node.id, {"to": choice.model, "after": errors[-1]})
            reserved = self._estimate(choice, work, run.plan.spec.brief, inputs)
            if not run.budget.fits(reserved):
                errors.append(
                    f"{choice.model}: estimated ${reserved:.2f} exceeds the "
                    f"${run.budget.left:.2f} left of the budget"
                )
                refused += 1
                continue
            run.budget.reserve(reserved)
            result: ProviderResult | None = None
            try:
                task = Task(
                    node=node.id,
                    op=work.op,
                    model=choice.model,
                    model_version=choice.version,
                    params=work.params,
                    seed=work.seed,
                    inputs=inputs,
                    ctx=work.ctx,
                    jobs=self.rec.ledger(row, key, choice),
                    brief=run.plan.spec.brief,
                    resubmit=node.step in run.resubmit,
                )
                result, assets = await self._attempt(run, node, choice, task, row)
            except _Stop as stop:
                errors.append(str(stop))
                break
            except ProviderError as exc:
                errors.append(f"{choice.model} ({exc.kind}): {exc}")
                continue
            finally:
                run.budget.settle(reserved, result.cost_usd if result else 0.0)
            self.cooldowns.succeeded(choice.model)
            if i and choice.provider == "local" and work.chain[0].provider != "local":
                work.ctx.warnings.append(
                    f"fell back from hosted {work.chain[0].model} to routeyard's local engine "
                    f"(another class, allowed by fallback: local) after: {errors[-1]}"
                )
            return self._completed(run, node, work, row, i, key, result, assets, started)
        error = "; ".join(errors) or "no route could run this step"
        seconds = time.perf_counter() - started
        failed = self.rec.fail(run, node, row, error, finished_at=time.time(), seconds=seconds)
        failed.over_budget = refused == len(work.chain) > 0
        return failed

    async def _attempt(
        self, run: RunContext, node: Node, choice: RouteChoice, task: Task, row: int
    ) -> tuple[ProviderResult, list[NewAsset]]:
        """One model's go: its result stored and checked. Raises ``ProviderError``
        to fall back, ``_Stop`` when no other model would do better."""
        try:
            result = await self._retried(run, node, choice, task, row)
            assets = await self._store_outputs(result.outputs, node)
            _verify(task.op, result.outputs, assets)
            return result, assets
        except ProviderError as exc:
            log.info("step %s: %s failed (%s): %s", node.id, choice.model, exc.kind, exc)
            if not exc.falls_back:
                # The same input or the same missing key fails on every
                # model: say so now instead of trying (and paying) the rest.
                raise _Stop(f"{choice.model} ({exc.kind}): {exc}") from exc
            if exc.kind != "rejected_by_policy":
                self.cooldowns.failed(choice.model)
            raise
        except (OpInputError, MediaError, StoreError) as exc:  # bad input; a full disk
            raise _Stop(str(exc)) from exc
        except Exception as exc:
            # A bug in an op or adapter fails its step, never the run, and
            # never falls back: the next model may be a paid provider, and
            # a fallback would hide the bug. The traceback goes to the log.
            log.exception("step %s: %s on %s crashed", node.id, choice.model, choice.provider)
            raise _Stop(
                f"{choice.model} crashed ({type(exc).__name__}: {exc}); this is a bug in "
                f"routeyard, its traceback is in the run's log"
            ) from exc

    async def _retried(
        self, run: RunContext, node: Node, choice: RouteChoice, task: Task, row: int
    ) -> ProviderResult:
        """The provider's result, retrying what it calls retryable."""
        provider = self.providers[choice.provider]
        attempts = node.retries + 1 if node.retries is not None else self.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self.slots.hold(choice.provider, choice.model):
                    self.store.catalog.update_step(row, attempts=attempt)
                    started = {"model": choice.model, "provider": choice.provider}
                    self.rec.emit(run, "started", node.id, {**started, "attempt": attempt})
                    return await provider.run(task)
            except ProviderError as exc:
                if not exc.retryable or attempt == attempts:
                    raise
                delay = backoff_delay(self.retry, attempt, self.rng, exc.retry_after)
                retry = {"attempt": attempt, "kind": exc.kind, "delay_s": delay}
                self.rec.emit(run, "retry", node.id, {**retry, "error": self.rec.redact(str(exc))})
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _completed(
        self,
        run: RunContext,
        node: Node,
        work: Work,
        row: int,
        i: int,
        key: str,
        result: ProviderResult,
        assets: list[NewAsset],
        started: float,
    ) -> Outcome:
        seconds = time.perf_counter() - started
        self.rec.complete(
            row,
            choice=work.chain[i],
            key=key,
            assets=assets,
            inputs=work.lineage["inputs"],
            result=result,
            warnings=[*result.warnings, *work.ctx.warnings],
            seconds=seconds,
        )
        ids = tuple(a.id for a in assets)
        for a in assets:  # assets are immutable: remember them for the readers
            run.assets[a.id] = AssetRecord(**vars(a))
        self.rec.check_results(run, work.ctx, row)
        done = {"outputs": ids, "seconds": seconds, "cost_usd": result.cost_usd}
        self.rec.emit(run, "finished", node.id, done)
        return Outcome("executed", ids, row=row, choice=work.start + i)

    # -------------------------------------------------------------- helpers
    def _estimate(self, choice: RouteChoice, work: Work, brief, inputs: list[InputAsset]) -> float:
        """What the budget reserves for this attempt: the adapter's own estimate
        (``billing``), now that the inputs' sizes are known; the route's figure
        for a model the catalog does not price."""
        model = self.models.get(choice.model) if self.models is not None else None
        if model is None:
            return choice.est_cost_usd
        images = [i.record for i in inputs if i.record.kind == "image" and i.record.width]
        size = (images[0].width, images[0].height) if images else None
        sizes = [(r.width, r.height) for r in images]
        params = work.params.model_dump()
        request = billing.request_for(work.op.name, params, brief, size, sizes)
        return billing.estimate(model, request, choice.provider).usd

    async def _import_files(
        self, run: RunContext, op: Op, params, base_dir: Path, node: Node
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
            self.store.catalog.add_asset(asset)
            out[name] = self.input(run, asset.id)
        return out

    async def _store_outputs(self, outputs: list[Output], node: Node) -> list[NewAsset]:
        return [
            await self._store_output(out, f"step '{node.id}' output #{i}")
            for i, out in enumerate(outputs)
        ]

    async def _store_output(self, out: Output, source: str) -> NewAsset:
        meta = self.rec.redact(out.meta)
        if out.existing is not None:
            rec = self.store.catalog.get_asset(out.existing)
            fields = {f.name: getattr(rec, f.name) for f in dataclasses.fields(NewAsset)}
            return NewAsset(**fields)
        if out.data is not None:
            put = self.store.put_bytes
            args = (out.data,)
            kwargs = {"source": source, "mime_hint": out.mime_hint, "meta": meta}
            if len(out.data) <= _INLINE_BYTES:
                return put(*args, **kwargs)
            return await asyncio.to_thread(put, *args, **kwargs)
        if out.path is not None:
            return await asyncio.to_thread(
                self.store.put_file, out.path, mime_hint=out.mime_hint, meta=meta
            )
        raise ProviderError(f"{source} is empty")

    def _context(
        self, run: RunContext, node: Node, seed: int, files: dict[str, InputAsset]
    ) -> OpContext:
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            data = {"fraction": max(0.0, min(1.0, fraction))}
            loop.call_soon_threadsafe(self.rec.emit, run, "progress", node.id, data)

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
            catalog=self.store.catalog,
            secrets=tuple(self.rec.secrets),
        )


def _verify(op: Op, outputs: list[Output], assets: list[NewAsset]) -> None:
    """The stored outputs are what was downloaded, and of the kind the op makes."""
    for out, asset in zip(outputs, assets, strict=True):
        expected = out.meta.get("sha256")
        if expected and expected != asset.id:  # the file changed after download
            raise TransientError(
                f"download of {out.meta.get('source_url', 'a result')} hashed "
                f"{expected[:12]} but stored as {asset.id[:12]}"
            )
    wrong = [a.kind for a in assets if op.produces and a.kind != op.produces]
    if wrong:
        raise PermanentError(f"returned a {wrong[0]} where '{op.name}' makes a {op.produces}")


def _seed(node: Node) -> int:
    if isinstance(node.seed, int):
        return node.seed
    if node.seed == "random":
        return secrets.randbits(31)
    return drawn_seed(node.step, node.op, node.branch)
