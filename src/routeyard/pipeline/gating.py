"""Judging a step's output with its gate: parameters, memo, and the outcome record.

A gate's score depends only on the asset's bytes, the gate's version and its
parameters (not on the threshold), so it is computed once per (asset, gate
version, params)
and recorded; a re-run, or another step with a different ``min``, reuses
it. Every scored result is also an outcome for the router to learn from:
the model that made the asset, its stage and the brief's tags.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from routeyard.brief import Brief
from routeyard.canonical import sha256_hex
from routeyard.checks import GATES
from routeyard.checks.base import GateParams, GateResult
from routeyard.pipeline.spec import GateSpec
from routeyard.store import Catalog


def gate_params(spec: GateSpec, brief: Brief | None, kind: str) -> GateParams:
    """The check's parameters: the step's, then what the brief implies."""
    gate = GATES[spec.check]
    params: dict[str, Any] = dict(spec.params)
    if spec.min is not None:
        params["min"] = spec.min
    fields = gate.Params.model_fields
    if brief is not None:
        if "text" in fields and "text" not in params and brief.text:
            params["text"] = brief.text
        deliver = brief.deliver
        if "deliver" in fields and "deliver" not in params and deliver is not None:
            target = deliver.video if kind == "video" else deliver.image
            if (
                target is not None
                and getattr(target, "width", None)
                and getattr(target, "height", None)
            ):
                params["deliver"] = f"{target.width}x{target.height}"
    return gate.Params.model_validate(params)


def params_key(check: str, params: GateParams) -> str:
    """The memo key of a measurement: the gate, its version and its parameters
    (not the threshold, which only judges the score)."""
    version = GATES[check].version
    return sha256_hex(f"{check}@{version}:{params.model_dump_json(exclude={'min'})}".encode())[:16]


def from_record(check: str, row: dict[str, Any], params: GateParams) -> GateResult:
    """A recorded score judged against this step's threshold."""
    gate = GATES[check]
    evidence = row.get("evidence") or {}
    curve = evidence.get("per_frame") or {}
    grid = evidence.get("per_region") or {}
    found = GateResult(
        score=row["score"],
        message=row.get("message") or "",
        details=dict(row["details"]),
        series=curve.get("values"),
        series_label=curve.get("label", ""),
        heatmap=np.asarray(grid["grid"], dtype=float) if grid.get("grid") else None,
        heatmap_label=grid.get("label", ""),
        hard_fail=bool(row.get("hard_fail")),
        gate=check,
        version=row.get("gate_version") or "",
    )
    return found.judged(gate.threshold_of(params))


def memoised(catalog: Catalog, asset_id: str, check: str, params: GateParams) -> GateResult | None:
    """This gate version's recorded measurement of the asset with these
    parameters, judged against their threshold; None when there is none."""
    row = recorded(catalog.gate_outcomes(asset_id=asset_id, gate=check), check, params)
    return from_record(check, row, params) if row is not None else None


def recorded(rows: list[dict[str, Any]], check: str, params: GateParams) -> dict | None:
    """The newest stored measurement of this gate version with these parameters."""
    key = params_key(check, params)
    version = GATES[check].version
    for row in reversed(rows):
        if row.get("params_key") == key and row.get("gate_version") == version:
            return row
    return None


def record_fields(result: GateResult, params: GateParams) -> dict[str, Any]:
    """What the store keeps of a scored result: score, verdict, evidence, version, memo key."""
    return {
        "gate": result.gate,
        "gate_version": result.version,
        "params_key": params_key(result.gate, params),
        "score": float(result.score),
        "passed": bool(result.passed),
        "threshold": result.threshold,
        "message": result.message,
        "hard_fail": result.hard_fail,
        "details": result.details,
        "evidence": {k: v for k, v in result.to_dict().items() if k in ("per_frame", "per_region")},
    }
