"""``check.<gate>`` steps: every quality gate, usable as a plan step.

A check step scores its input (a series gate: all its inputs) and outputs
the gate's report as JSON, then its plot as PNG when it has one. The
result is recorded against the checked asset, so ``select`` and the
router can use it. A failing score is a warning on the step; with
``strict: true`` it fails the step (and skips what reads from it).
"""

from __future__ import annotations

import json
from typing import ClassVar

from pydantic import create_model

from routeyard.checks import GATES, Gate
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register


class CheckOp(Op):
    stage = "check"
    max_inputs = None
    file_params = ("ref",)
    gate: ClassVar[Gate]

    @property
    def version(self) -> str:  # type: ignore[override]
        """A new gate version is a new algorithm: cached check steps re-run."""
        return f"1+{self.gate.name}.{self.gate.version}"

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: OpParams) -> list[Output]:
        gate_params = self.gate.Params.model_validate(params.model_dump(exclude={"strict"}))
        ref = ctx.files["ref"].path if "ref" in ctx.files else None
        checkable = [i for i in inputs if i.record.kind in ("image", "video")] or inputs
        items = checkable if self.gate.media == "series" else checkable[:1]
        result = self.gate.evaluate([i.path for i in items], gate_params, ref)
        report = {**result.to_dict(), "asset": items[0].id, "assets": [i.id for i in items]}
        ctx.gate_results.append(
            {"assets": [i.id for i in items], "result": result, "params": gate_params}
        )
        if result.passed is False:
            if params.strict:
                raise OpInputError(
                    f"check.{self.gate.name} failed: {result.message} "
                    f"(score {result.score:.3f} < {result.threshold})"
                )
            ctx.warn(
                f"check.{self.gate.name}: {result.message} (score {result.score:.3f} < {result.threshold})"
            )
        outputs = [
            Output(
                data=json.dumps(report, indent=2, sort_keys=True, default=str).encode(),
                mime_hint="application/json",
                meta={"gate": self.gate.name, "score": report["score"], "status": result.status},
            )
        ]
        png = result.plot_png()
        if png is not None:
            outputs.append(
                Output(data=png, mime_hint="image/png", meta={"plot_of": self.gate.name})
            )
        return outputs


def _register(gate: Gate) -> None:
    params = create_model(
        f"Check{gate.name.title().replace('_', '')}Params",
        __base__=(gate.Params, OpParams),
        strict=(bool, False),
    )
    cls = type(
        f"Check{gate.name.title().replace('_', '')}Op",
        (CheckOp,),
        {
            "name": f"check.{gate.name}",
            "Params": params,
            "gate": gate,
        },
    )
    register(cls)


for _gate in GATES.values():
    _register(_gate)
