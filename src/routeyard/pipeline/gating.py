"""Judging a step's output with its gate: parameters, memo, and the outcome record.

A gate's score depends only on the asset's bytes and the gate's parameters
(not on the threshold), so it is computed once per (asset, gate, params)
and recorded; a re-run, or another step with a different ``min``, reuses
it. Every scored result is also an outcome for the router to learn from:
the model that made the asset, its stage and the brief's tags.
"""

from __future__ import annotations

from typing import Any

from routeyard.brief import Brief
from routeyard.canonical import sha256_hex
from routeyard.checks import GATES
from routeyard.checks.base import GateParams, GateResult
from routeyard.checks.thresholds import threshold_for
from routeyard.pipeline.spec import GateSpec


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
    return sha256_hex(f"{check}:{params.model_dump_json(exclude={'min'})}".encode())[:16]


def from_record(check: str, row: dict[str, Any], params: GateParams) -> GateResult:
    """A recorded score judged against this step's threshold."""
    threshold = params.min if params.min is not None else threshold_for(check)
    details = dict(row["details"])
    hard = details.pop("_hard_fail", False)
    details.pop("_key", None)
    message = details.pop("_message", "")
    ok = row["score"] >= threshold and not hard
    return GateResult(
        gate=check,
        score=row["score"],
        threshold=threshold,
        status="pass" if ok else "fail",
        message=message,
        details=details,
    )


def brief_tags(brief: Brief | None) -> list[str]:
    """What the router learns outcomes against: the brief's tags, style, motion, text."""
    if brief is None:
        return []
    tags = list(brief.tags)
    tags += [f"{k}:{v}" for k, v in (("style", brief.style), ("motion", brief.motion)) if v]
    return tags + (["text"] if brief.text else [])


def record_fields(result: GateResult, params: GateParams) -> dict[str, Any]:
    """What the store keeps of a scored result (score, verdict, details, memo key)."""
    hard_fail = result.status == "fail" and result.score >= result.threshold
    return {
        "gate": result.gate,
        "score": float(result.score),
        "passed": bool(result.passed),
        "threshold": result.threshold,
        "details": {
            **result.details,
            "_key": params_key(result.gate, params),
            "_message": result.message,
            "_hard_fail": hard_fail,
        },
    }
