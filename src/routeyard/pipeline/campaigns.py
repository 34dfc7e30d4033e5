"""Campaigns: many briefs, one run, one budget, one look.

A campaign file is a brief (the fields every deliverable shares) and a
``campaign:`` block that lists the briefs, or a ``matrix`` whose every
combination is one (``product: [mug, tote, cap]`` × ``format: [9:16, 1:1]``;
``${product}`` in the shared brief's text is replaced, and ``format`` becomes
each brief's ``deliver.formats``, so one base serves all its formats). Each
brief is expanded through its recipe like a brief alone; its steps are
prefixed with the brief's name (``mug.base``, ``mug.motion-9x16``), its own
prompt and text travel as step parameters, each base is colour-matched to the
campaign's ``look`` (a file, or ``first``: the first brief's base) and the
series of stills is judged by ``series_color``. One export writes every
deliverable, ``<brief>-<format>.png/.mp4``, with one provenance file.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from routeyard.brief import Brief
from routeyard.errors import PipelineError
from routeyard.pipeline import recipes

# The full Lab mean/std transfer: the series then shares the look's statistics,
# which is what series_color judges (a partial match leaves a visible cast).
LOOK_STRENGTH = 1.0
_PER_BRIEF = ("prompt", "negative_prompt", "text", "source", "references", "fixes", "recipe")
_VAR = re.compile(r"\$\{(\w+)\}")


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,60}$")
    # a colour reference file, or "first" (the first brief's base)
    look: str | None = None
    briefs: list[dict[str, Any]] | None = None
    matrix: dict[str, list[Any]] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> CampaignSpec:
        if (self.briefs is None) == (self.matrix is None):
            raise ValueError("give either 'briefs' (a list) or 'matrix' (lists to combine)")
        if self.matrix is not None and not all(self.matrix.values()):
            raise ValueError("every matrix entry is a non-empty list")
        if self.briefs is not None and not self.briefs:
            raise ValueError("'briefs' lists at least one brief")
        return self


def is_campaign(data: Any) -> bool:
    return isinstance(data, dict) and "campaign" in data and "steps" not in data


def parse(data: dict[str, Any], source: str) -> tuple[CampaignSpec, dict[str, Any]]:
    extra = set(data) - {"campaign", "brief"}
    if extra:
        raise PipelineError(
            f"{source}: a campaign file has 'brief:' and 'campaign:', not {sorted(extra)}"
        )
    try:
        spec = CampaignSpec.model_validate(data["campaign"] or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "campaign"
        raise PipelineError(
            f"{source}: campaign field '{field}': {err['msg']}",
            hint="campaign: {look: FILE|first, briefs: [...] | matrix: {product: [...]}}",
        ) from None
    shared = data.get("brief") or {}
    if not isinstance(shared, dict):
        raise PipelineError(f"{source}: 'brief:' is a mapping of the fields every brief shares")
    return spec, shared


def items(spec: CampaignSpec, shared: dict[str, Any], source: str) -> list[tuple[str, dict]]:
    """Each brief of the campaign as (name, raw brief fields)."""
    out: list[tuple[str, dict]] = []
    if spec.briefs is not None:
        for i, own in enumerate(spec.briefs):
            if not isinstance(own, dict):
                raise PipelineError(f"{source}: campaign field 'briefs[{i}]': a mapping of fields")
            own = dict(own)
            name = str(own.pop("name", None) or f"brief{i + 1}")
            out.append((_slug(name), _merged(shared, own)))
    else:
        matrix = dict(spec.matrix or {})
        formats = [str(f) for f in matrix.pop("format", [])]
        keys = list(matrix)
        for combo in itertools.product(*matrix.values()) if keys else [()]:
            values = {k: str(v) for k, v in zip(keys, combo, strict=True)}
            raw = _substituted(shared, values, source)
            if formats:
                deliver = dict(raw.get("deliver") or {})
                deliver["formats"] = formats
                raw["deliver"] = deliver
            name = "-".join(values.values()) or "brief"
            out.append((_slug(name), raw))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise PipelineError(f"{source}: campaign briefs share a name: {names}")
    return out


def expand(data: dict[str, Any], path: Path, *, check_files: bool = True) -> dict[str, Any]:
    """The campaign as one pipeline document (``brief:`` and ``steps:``);
    ``check_files=False`` reads none of the files it names (see recipes)."""
    source = str(path)
    spec, shared = parse(data, source)
    base_dir = path.resolve().parent
    look = spec.look
    if check_files and look and look != "first" and not recipes._file(base_dir, look).is_file():
        raise PipelineError(
            f"{source}: campaign field 'look': file {recipes._file(base_dir, look)} not found",
            hint="a colour reference image, or 'first' (the first brief's base)",
        )
    steps: dict[str, dict[str, Any]] = {}
    exports: list[tuple[list[str], list[str]]] = []
    stills: list[str] = []
    first_base: str | None = None
    export_dir: str | None = None
    for name, raw in items(spec, shared, source):
        brief = _brief(raw, f"{source}: campaign brief '{name}'")
        size = recipes.preflight(brief, path) if check_files else None
        doc = recipes.expand(
            brief, raw, stem=name, source_size=size, base_dir=base_dir if check_files else None
        )
        own = {k: f"{name}.{k}" for k in doc["steps"]}
        for step_id, step in doc["steps"].items():
            step = _retargeted(step, own, brief)
            if step["op"] == "export":
                names = step.pop("names", None) or [step.get("name")] * len(step["input"])
                exports.append((step["input"], names))
                export_dir = export_dir or step.get("dir")
                continue
            steps[own[step_id]] = step
        base_end = own["fit"] if "fit" in own else own.get("base")
        if look and base_end:
            matched = f"{name}.look"
            if look == "first" and first_base is None:
                first_base = base_end
            else:
                reference = {"reference": look} if look != "first" else {}
                inputs = [first_base, base_end] if look == "first" else base_end
                _insert_after(steps, base_end, matched, {
                    "op": "color_match", "input": inputs, **reference,
                    "strength": LOOK_STRENGTH,
                })  # fmt: skip
                base_end = matched
        if base_end:
            stills.append(base_end)
    out: dict[str, dict[str, Any]] = dict(steps)
    if len(stills) > 1:
        check = {"op": "check.series_color", "input": stills}
        if look and look != "first":
            check["ref"] = look
        out["series"] = check
    inputs = [i for ins, _ in exports for i in ins]
    names = [n for _, ns in exports for n in ns]
    export = {"op": "export", "input": inputs, "dir": export_dir or "out/"}
    if all(names):
        export["names"] = names
    out["out"] = export
    # the run's own brief: what every brief shares (each one's prompt and text
    # travel as its steps' parameters)
    common = {k: v for k, v in shared.items() if k not in _PER_BRIEF and "${" not in str(v)}
    document = {"brief": common, "steps": out, "recipe": "campaign"}
    return document


def _brief(raw: dict[str, Any], where: str) -> Brief:
    try:
        return Brief.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "brief"
        raise PipelineError(f"{where}: brief field '{field}': {err['msg']}") from None


def _retargeted(step: dict[str, Any], own: dict[str, str], brief: Brief) -> dict[str, Any]:
    """A brief's step inside the campaign: inputs renamed, and the brief's own
    prompt and text as parameters (the run has one shared brief)."""
    step = dict(step)
    if "input" in step:
        value = step["input"]
        step["input"] = (
            [own.get(v, v) for v in value] if isinstance(value, list) else own.get(value, value)
        )
    if step["op"] in ("generate", "animate") and brief.prompt and "prompt" not in step:
        step["prompt"] = brief.prompt
    gate = step.get("gate")
    if isinstance(gate, dict) and gate.get("check") == "typography" and brief.text:
        step["gate"] = {**gate, "params": {**gate.get("params", {}), "text": brief.text}}
    return step


def _insert_after(
    steps: dict[str, dict[str, Any]], after: str, new_id: str, new: dict[str, Any]
) -> None:
    """Put ``new`` between ``after`` and every step that read it."""
    for step_id, step in steps.items():
        if step_id == new_id:
            continue
        value = step.get("input")
        if value == after:
            step["input"] = new_id
        elif isinstance(value, list) and after in value:
            step["input"] = [new_id if v == after else v for v in value]
    steps[new_id] = new


def _merged(shared: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out = dict(shared)
    for key, value in own.items():
        if key == "deliver" and isinstance(value, dict) and isinstance(out.get("deliver"), dict):
            out["deliver"] = {**out["deliver"], **value}
        else:
            out[key] = value
    return out


def _substituted(value: Any, values: dict[str, str], source: str) -> Any:
    if isinstance(value, str):

        def one(m: re.Match) -> str:
            if m[1] not in values:
                raise PipelineError(
                    f"{source}: '${{{m[1]}}}' names no matrix entry",
                    hint=f"matrix entries: {', '.join(values) or 'none'}",
                )
            return values[m[1]]

        return _VAR.sub(one, value)
    if isinstance(value, list):
        return [_substituted(v, values, source) for v in value]
    if isinstance(value, dict):
        return {k: _substituted(v, values, source) for k, v in value.items()}
    return value


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "brief"
