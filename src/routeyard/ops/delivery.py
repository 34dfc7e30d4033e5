"""``select`` and ``export``: the deliver stage.

``select`` keeps one asset out of a fan-out: by position, by one gate's
score, or by several gates at once (``by: [temporal, typography,
background]``). With several, a variant that fails any of them is out — the
steadiest clip is no use if its headline tears — and of those left, the one
whose weakest gate clears its threshold by most wins (the mean breaks ties).
When every variant fails something, the one with the fewest failures and
then the best margin is kept, with a warning, as ``keep_best`` does.
``export`` writes deliverables to a folder with the provenance embedded and
in a sidecar. Both aggregate every branch of their
inputs rather than being mapped over them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, field_validator

from routeyard.brief import Provenance
from routeyard.canonical import sha256_hex
from routeyard.checks import GATES, SCORERS, check, threshold_for
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.store.provenance import SIDECAR, export_assets


class SelectParams(OpParams):
    by: str | list[str] = "index"
    index: NonNegativeInt = 0
    order: Literal["max", "min"] = "max"
    text: str | None = None  # for `by: typography` when no gate recorded it

    @field_validator("by")
    @classmethod
    def _gates(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or len(set(names)) != len(names):
            raise ValueError("give one gate or a list of different gates")
        if isinstance(value, list) and "index" in value:
            raise ValueError("'index' selects by position: it cannot be one of several gates")
        return value


@register
class SelectOp(Op):
    name = "select"
    stage = "deliver"
    Params = SelectParams
    max_inputs = None
    aggregates = True
    threaded = False

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: SelectParams) -> list[Output]:
        ids = [i.id for i in inputs]
        if params.by == "index":
            if params.index >= len(ids):
                raise OpInputError(
                    f"index {params.index} is out of range: the step has {len(ids)} inputs"
                )
            return [
                Output(existing=ids[params.index], meta={"selected_by": f"input #{params.index}"})
            ]
        if isinstance(params.by, list):
            if len(params.by) > 1:
                return [self._several(ctx, inputs, params)]
            params = params.model_copy(update={"by": params.by[0]})
        assert isinstance(params.by, str)
        scores = self._scores(ctx, inputs, params.by, params)
        pick = max if params.order == "max" else min
        chosen = pick(ids, key=lambda i: scores[i])
        meta = {
            "selected_by": f"{params.order} {params.by} score {scores[chosen]:.3f}",
            "scores": {i: round(scores[i], 4) for i in ids},
        }
        return [Output(existing=chosen, meta=meta)]

    def _several(self, ctx: OpContext, inputs: list[InputAsset], params: SelectParams) -> Output:
        gates = list(params.by)
        verdicts = {g: self._verdicts(ctx, inputs, g, params) for g in gates}
        ranked = []
        for item in inputs:
            got = {g: verdicts[g][item.id] for g in gates}
            failed = [g for g, (_, ok, _) in got.items() if not ok]
            margins = [score - thr for score, _, thr in got.values()]
            mean = sum(score for score, _, _ in got.values()) / len(gates)
            ranked.append((len(failed), -min(margins), -mean, item.id, failed))
        ranked.sort(key=lambda r: r[:3])
        chosen, failed = ranked[0][3], ranked[0][4]
        if failed:
            ctx.warn(
                f"no variant passes every gate of {', '.join(gates)}; kept the one that "
                f"fails least ({', '.join(failed)})"
            )
        scores = {i.id: {g: round(verdicts[g][i.id][0], 4) for g in gates} for i in inputs}
        excluded = {r[3]: r[4] for r in ranked if r[4]}
        return Output(
            existing=chosen,
            meta={
                "selected_by": f"passes {', '.join(gates)}; best weakest margin",
                "scores": scores,
                "excluded": excluded,
            },
        )

    def _verdicts(
        self, ctx: OpContext, inputs: list[InputAsset], gate: str, params: SelectParams
    ) -> dict[str, tuple[float, bool, float]]:
        """(score, passed, threshold) per input: recorded by a gate, else measured here."""
        if gate not in GATES:
            raise OpInputError(
                f"step '{ctx.node}', parameter 'by': unknown gate {gate!r}",
                hint=f"one of: {', '.join(sorted(GATES))}",
            )
        out: dict[str, tuple[float, bool, float]] = {}
        for item in inputs:
            rows = ctx.catalog.gate_outcomes(asset_id=item.id, gate=gate)
            if rows:
                row = rows[-1]
                thr = row.get("threshold")
                thr = threshold_for(gate) if thr is None else thr
                out[item.id] = (float(row["score"] or 0.0), bool(row["passed"]), float(thr))
                continue
            result = self._measure(ctx, item, gate, params)
            out[item.id] = (
                0.0 if result.score is None else result.score,
                result.passed is not False,
                result.threshold if result.threshold is not None else threshold_for(gate),
            )
        return out

    @staticmethod
    def _measure(ctx: OpContext, item: InputAsset, gate: str, params: SelectParams):
        extra = {}
        if gate == "typography":
            if not params.text:
                raise OpInputError(
                    f"step '{ctx.node}', parameter 'text': select by typography needs the text",
                    hint="give `text:` on the select step, or gate the variants with typography",
                )
            extra["text"] = params.text
        elif gate not in SCORERS:
            raise OpInputError(
                f"no '{gate}' score for input {item.id[:12]}; add a gate {{check: {gate}}} to "
                f"the step that makes it, or select by one of: {', '.join(sorted(SCORERS))}"
            )
        return check(gate, item.path, **extra)

    @staticmethod
    def _scores(
        ctx: OpContext, inputs: list[InputAsset], by: str, params: SelectParams
    ) -> dict[str, float]:
        """Scores recorded by gates; a known check scores the rest itself."""
        scores = ctx.catalog.gate_scores([i.id for i in inputs], by)
        missing = [i for i in inputs if i.id not in scores]
        if missing and by not in SCORERS and not (by == "typography" and params.text):
            raise OpInputError(
                f"no '{by}' score for inputs {', '.join(i.id[:12] for i in missing)}; "
                f"add a gate {{check: {by}}} to the step that makes them, "
                f"or select by one of: index, {', '.join(sorted(SCORERS))}"
            )
        for item in missing:
            scores[item.id] = SelectOp._measure(ctx, item, by, params).score or 0.0
        return scores


_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$"


class ExportParams(OpParams):
    dir: str = "out"
    # Readable file names: NAME.png, NAME.mp4 (NAME-2.png for a second image),
    # one current set that each run replaces; unset: step-and-hash names.
    name: str | None = Field(default=None, pattern=_NAME)
    # One name per input, in order, for several sets in one folder (a brief's
    # formats: space-week-9x16.png, space-week-9x16.mp4, space-week-1x1.png, …).
    names: list[Annotated[str, Field(pattern=_NAME)]] | None = None
    # Prompt disclosure and the watermark; unset: the brief's, else full + on.
    provenance: Provenance | None = None


@register
class ExportOp(Op):
    name = "export"
    stage = "deliver"
    Params = ExportParams
    max_inputs = None
    aggregates = True
    threaded = False
    has_side_effects = True

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: ExportParams) -> list[Output]:
        dest = self._dest(ctx, params)
        stems: str | list[str] | None = params.name
        if params.names is not None:
            if len(params.names) != len(inputs):
                raise OpInputError(
                    f"step '{ctx.node}', parameter 'names': {len(params.names)} names for "
                    f"{len(inputs)} inputs",
                    hint="give one name per input, in order",
                )
            stems = params.names
        sidecar = export_assets(
            ctx.catalog,
            ctx.asset_path,
            [i.id for i in inputs],
            dest,
            secrets=ctx.secrets,
            stem=stems,
            policy=params.provenance or Provenance(),
        )
        for warning in sidecar.get("warnings", []):
            ctx.warn(warning)
        data = json.dumps(sidecar, indent=2, sort_keys=True).encode()
        files: dict[str, str] = {}
        for f in sidecar["deliverables"]:
            files.setdefault(f["asset"], f["file"])
        # every file, in order (an asset two briefs share is written under each name)
        written = [[f["asset"], f["file"]] for f in sidecar["deliverables"]]
        meta = {"dir": str(dest), "files": files, "written": written}
        return [Output(data=data, mime_hint="application/json", meta=meta)]

    def still_valid(self, params: ExportParams, outputs: list[str], ctx: OpContext) -> bool:
        dest = self._dest(ctx, params)
        try:
            sidecar = json.loads((dest / SIDECAR).read_text())
            return all(
                sha256_hex((dest / f["file"]).read_bytes()) == f["sha256"]
                for f in sidecar["deliverables"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def write_paths(self, params: ExportParams, base_dir: Path) -> dict[str, Path]:
        return {"dir": _resolve_dir(base_dir, params.dir)}

    @staticmethod
    def _dest(ctx: OpContext, params: ExportParams) -> Path:
        return _resolve_dir(ctx.base_dir, params.dir)


def _resolve_dir(base_dir: Path, value: str) -> Path:
    dest = Path(value).expanduser()
    return dest if dest.is_absolute() else base_dir / dest
