"""``select`` and ``export``: the deliver stage.

``select`` keeps one asset out of a fan-out (the best by a recorded gate
score, or by position); ``export`` writes deliverables to a folder with the
provenance embedded and in a sidecar. Both aggregate every branch of their
inputs rather than being mapped over them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt

from routeyard.canonical import sha256_hex
from routeyard.checks import SCORERS
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.store.provenance import SIDECAR, export_assets


class SelectParams(OpParams):
    by: str = "index"
    index: NonNegativeInt = 0
    order: Literal["max", "min"] = "max"


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
        scores = self._scores(ctx, inputs, params.by)
        pick = max if params.order == "max" else min
        chosen = pick(ids, key=lambda i: scores[i])
        meta = {
            "selected_by": f"{params.order} {params.by} score {scores[chosen]:.3f}",
            "scores": {i: round(scores[i], 4) for i in ids},
        }
        return [Output(existing=chosen, meta=meta)]

    @staticmethod
    def _scores(ctx: OpContext, inputs: list[InputAsset], by: str) -> dict[str, float]:
        """Scores recorded by gates; a known check scores the rest itself."""
        scores = ctx.catalog.gate_scores([i.id for i in inputs], by)
        missing = [i for i in inputs if i.id not in scores]
        if missing and by in SCORERS:
            for item in missing:
                scores[item.id] = SCORERS[by](item.path)
        elif missing:
            raise OpInputError(
                f"no '{by}' score for inputs {', '.join(i.id[:12] for i in missing)}; "
                f"add a gate {{check: {by}}} to the step that makes them, "
                f"or select by one of: index, {', '.join(sorted(SCORERS))}"
            )
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
        )
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
