"""The gate policy: judge a step's output, and on a fail take the route the plan names.

``reroute`` runs the next model of the route's chain, ``repair`` runs the
gate's repair op on the failing output (up to ``max_attempts``), and
``keep_best`` waits for the fan-out's siblings and keeps those that pass —
or, if none does, the best. A gate that cannot judge (no score) warns and
lets the output through. Scores are memoised per asset, gate version and
parameters (``gating``), so a re-run judges from the record.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from routeyard import ops
from routeyard.checks import GATES
from routeyard.checks.base import GateResult
from routeyard.pipeline import gating
from routeyard.pipeline.attempts import Attempts
from routeyard.pipeline.context import DROPPED, OK, Outcome, RunContext
from routeyard.pipeline.plan import Node
from routeyard.pipeline.recorder import Recorder
from routeyard.routing import Router
from routeyard.store import Store


class GatePolicy:
    def __init__(
        self, store: Store, *, router: Router, attempts: Attempts, recorder: Recorder
    ) -> None:
        self.store = store
        self.router = router
        self.attempts = attempts
        self.rec = recorder

    async def apply(self, run: RunContext, node: Node, position: int, outcome: Outcome) -> Outcome:
        """Judge the node's first output until it passes or the plan's route runs out."""
        spec = node.gate
        repairs = reroutes = 0
        while True:
            result = await self.judge(run, node, outcome)
            if result.passed is not False:
                if result.passed is None:  # not applicable / unknown: say so, carry on
                    self.rec.warn(outcome.row, f"gate {spec.check}: {result.message}")
                run.verdicts[node.id] = (True, result.score)
                run.gated[node.id].set()
                return outcome
            verdict = (
                f"gate {spec.check} failed: {result.message} "
                f"(score {result.score:.3f} < {result.threshold})"
            )
            self.rec.emit(run, "gate_failed", node.id, {"gate": spec.check, "score": result.score})
            chain = run.decisions[node.id].chain
            if spec.action == "reroute" and outcome.choice + 1 < len(chain):
                self.rec.drop(outcome.row, f"{verdict}; rerouted")
                reroutes += 1
                outcome = await self._reroute(run, node, position, outcome, reroutes)
            elif spec.action == "repair" and repairs < spec.max_attempts:
                repairs += 1
                self.rec.warn(
                    outcome.row, f"{verdict}; repairing with {spec.repair[0]} (#{repairs})"
                )
                outcome = await self._repair(run, node, position, outcome, repairs)
            elif spec.action == "keep_best":
                return await self._keep_best(run, node, outcome, result, verdict)
            else:
                why = {
                    "reroute": "; no further model in the route's chain",
                    "repair": f"; still failing after {repairs} repair(s)",
                }.get(spec.action, "")
                return self.rec.fail(run, node, outcome.row, verdict + why)
            if outcome.status not in OK:
                return outcome

    async def judge(self, run: RunContext, node: Node, outcome: Outcome) -> GateResult:
        """The gate's result for the node's first output: recorded once, then reused."""
        spec = node.gate
        asset_id = outcome.outputs[0]
        record = self.attempts.input(run, asset_id).record
        params = gating.gate_params(spec, run.plan.spec.brief, record.kind)
        found = gating.memoised(self.store.catalog, asset_id, spec.check, params)
        if found is not None:
            return found
        ref = None
        if params.ref:
            ref = Path(params.ref)
            ref = ref if ref.is_absolute() else run.plan.spec.base_dir / ref
        result = await asyncio.to_thread(
            GATES[spec.check].evaluate, [self.store.path_of(asset_id)], params, ref
        )
        if result.score is not None:
            producer = self.rec.producer(outcome.row)
            self.rec.gate(run, outcome.row, asset_id, producer, result, params)
        return result

    async def _reroute(
        self, run: RunContext, node: Node, position: int, outcome: Outcome, attempt: int
    ) -> Outcome:
        """The next model of the route's chain, as a step of its own."""
        retry = dataclasses.replace(node, id=f"{node.id}~reroute{attempt}")
        return await self.attempts.run(
            run, retry, position, start=outcome.choice + 1, decision=run.decisions[node.id]
        )

    async def _repair(
        self, run: RunContext, node: Node, position: int, outcome: Outcome, attempt: int
    ) -> Outcome:
        """Run the gate's repair op on the failing output (and the step's own inputs,
        when the op takes more), as a step of its own in the run."""
        op_name, params = node.gate.repair
        op = ops.get_op(op_name)
        inputs = list(outcome.outputs[:1])
        if op.max_inputs is None or op.max_inputs > 1:
            inputs += run.inputs_of(node, first_only=True)
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
            error = self.rec.redact(f"gate repair {op_name}: {exc}")
            self.store.catalog.update_step(outcome.row, status="failed", error=error)
            return Outcome("failed", error=error)
        self.rec.emit(run, "repair", node.id, {"op": op_name, "attempt": attempt})
        return await self.attempts.run(run, repair, position, input_ids=inputs, decision=decision)

    async def _keep_best(
        self, run: RunContext, node: Node, outcome: Outcome, result: GateResult, verdict: str
    ) -> Outcome:
        """Of a fan-out's branches, keep those that pass; if none does, the best one."""
        run.verdicts[node.id] = (False, result.score)
        run.gated[node.id].set()
        siblings = run.plan.branches[node.step]
        for sibling in siblings:
            await run.gated[sibling].wait()
        if any(run.verdicts.get(s, (False, None))[0] for s in siblings):
            self.rec.drop(outcome.row, f"{verdict}; a passing branch is kept")
            return Outcome(DROPPED, outcome.outputs, error=verdict, row=outcome.row)
        scored = {s: v[1] for s in siblings if (v := run.verdicts.get(s)) and v[1] is not None}
        if max(scored, key=scored.get) == node.id:
            self.rec.warn(
                outcome.row, f"{verdict}; no branch passed, kept as the best of {len(siblings)}"
            )
            return outcome
        self.rec.drop(outcome.row, f"{verdict}; a better branch is kept")
        return Outcome(DROPPED, outcome.outputs, error=verdict, row=outcome.row)
