"""``hold``: pass an asset on unchanged, so a gate can judge it at that point.

A step carries one gate, and some hand-offs need a judgement of their own
without an edit: the character's face checked after the base (repaired with
``face_swap`` when it drifted), or after motion. ``hold`` is that checkpoint:
it stores nothing new, so the lineage shows the gate at the hand-off and the
cache key is the input's.
"""

from __future__ import annotations

from routeyard.ops.base import InputAsset, Op, OpContext, OpParams, Output, register


class HoldParams(OpParams):
    pass


@register
class HoldOp(Op):
    name = "hold"
    stage = "check"
    Params = HoldParams
    threaded = False

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: HoldParams) -> list[Output]:
        return [Output(existing=inputs[0].id, meta={"held": True})]
