"""Ops that only hosted models perform: ``generate`` (text → image) and ``edit``
(an instruction edit of an image, e.g. Kontext, Nano Banana, Seedream edit).

They exist here so that plans can name them, the router can choose a model
for them and ``plan --dry-run`` can price them. Their work is done by a
provider adapter; no CPU algorithm can stand in for a diffusion model, so
running one locally is an error that says what to do.
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register

_HINT = "set a provider key (see `routeyard models show MODEL`) or start from `op: import`"


class GenerateParams(OpParams):
    prompt: str | None = None  # default: the brief's prompt
    negative_prompt: str | None = None
    width: PositiveInt | None = None
    height: PositiveInt | None = None
    aspect: str | None = Field(default=None, pattern=r"^\d+:\d+$")
    # A model's own output tier (1K/2K/4K) and quality (low/medium/high), where it has them.
    resolution: str | None = None
    quality: str | None = None


class EditParams(OpParams):
    prompt: str  # the instruction: "make the jacket red"
    negative_prompt: str | None = None
    resolution: str | None = None
    quality: str | None = None


class _Hosted(Op):
    runs_locally = False
    produces = "image"

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: OpParams) -> list[Output]:
        raise OpInputError(f"'{self.name}' needs a hosted model; {_HINT}")


@register
class GenerateOp(_Hosted):
    name = "generate"
    stage = "base"
    Params = GenerateParams
    min_inputs = 0
    max_inputs = 4  # reference images


@register
class EditOp(_Hosted):
    name = "edit"
    stage = "refine"
    Params = EditParams
