"""Expand a spec into the DAG of concrete nodes the engine runs.

``variants`` fans a step out into one branch per combination of values
(``motion[0]``, ``motion[1]``…). A step that reads a fanned-out step is
mapped over its branches (one branch per upstream branch), unless its op
aggregates (``select``, ``export``), in which case it reads every branch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from routeyard import ops
from routeyard.errors import PipelineError
from routeyard.pipeline.spec import GateSpec, PipelineSpec, StepSpec


@dataclass(frozen=True)
class Node:
    id: str
    step: str
    branch: int | None
    op: str
    model: str
    params: dict[str, Any]
    deps: tuple[str, ...]
    seed: int | str | None = None
    retries: int | None = None
    variant: dict[str, Any] = field(default_factory=dict)
    gate: GateSpec | None = None


@dataclass(frozen=True)
class Plan:
    spec: PipelineSpec
    nodes: dict[str, Node]  # in topological order
    branches: dict[str, tuple[str, ...]]  # step name → its node ids

    def descendants(self, node_ids: set[str]) -> set[str]:
        """The nodes given and every node that reads from them, directly or not."""
        out = set(node_ids)
        for node in self.nodes.values():  # topological order: one pass suffices
            if any(d in out for d in node.deps):
                out.add(node.id)
        return out

    def resolve(self, ref: str) -> set[str]:
        """A step name (all its branches) or one branch id such as ``motion[1]``."""
        if ref in self.branches:
            return set(self.branches[ref])
        if ref in self.nodes:
            return {ref}
        raise PipelineError(
            f"{self.spec.source}: no step '{ref}' in this pipeline",
            hint=f"steps: {', '.join(self.branches)}",
        )


def _with_brief(params: dict, op: str, spec: PipelineSpec) -> dict:
    """An export step takes the brief's ``provenance:`` unless it sets its own."""
    brief = spec.brief
    if op == "export" and "provenance" not in params and brief is not None and brief.provenance:
        return {**params, "provenance": brief.provenance.model_dump()}
    return params


def build(spec: PipelineSpec) -> Plan:
    nodes: dict[str, Node] = {}
    branches: dict[str, tuple[str, ...]] = {}
    for name in spec.order():
        step = spec.steps[name]
        op = ops.get_op(step.op)
        assert op is not None  # spec validation guarantees it
        combos = _combos(step)
        if op.aggregates:
            deps = tuple(d for src in step.inputs for d in branches[src])
            mapped: list[tuple[str, ...]] = [deps]
        else:
            fanned = [src for src in step.inputs if len(branches[src]) > 1]
            if len(fanned) > 1:
                raise PipelineError(
                    f"{spec.source}:{step.line}: step '{name}' reads from two fan-outs "
                    f"('{fanned[0]}' and '{fanned[1]}')",
                    hint="add a 'select' step to one of them first",
                )
            if fanned:
                mapped = [
                    tuple(b if src == fanned[0] else branches[src][0] for src in step.inputs)
                    for b in branches[fanned[0]]
                ]
            else:
                mapped = [tuple(branches[src][0] for src in step.inputs)]
        fan = len(mapped) * len(combos) > 1
        ids = []
        for i, (deps, combo) in enumerate(itertools.product(mapped, combos)):
            node_id = f"{name}[{i}]" if fan else name
            nodes[node_id] = Node(
                id=node_id,
                step=name,
                branch=i if fan else None,
                op=step.op,
                model=step.model,
                params=_with_brief({**step.params, **combo}, step.op, spec),
                deps=deps,
                seed=step.seed,
                retries=step.retries,
                variant=combo,
                gate=step.gate,
            )
            ids.append(node_id)
        branches[name] = tuple(ids)
    return Plan(spec=spec, nodes=nodes, branches=branches)


def _combos(step: StepSpec) -> list[dict[str, Any]]:
    if not step.variants:
        return [{}]
    keys = list(step.variants)
    return [
        dict(zip(keys, vals, strict=True)) for vals in itertools.product(*step.variants.values())
    ]
