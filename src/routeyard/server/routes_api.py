"""The studio's JSON API: every page is built on these, and scripts may use them too.

Runs start on a thread and return their id at once (202); progress streams
as Server-Sent Events from ``/api/runs/{run}/events``. Every request that
changes something needs ``X-Routeyard: 1`` or a bearer token (see security).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from routeyard import api
from routeyard.errors import MediaError, NotFoundError, PipelineError, RouteyardError
from routeyard.pipeline import spec as specs
from routeyard.server import media, views
from routeyard.server.state import Studio

router = APIRouter(prefix="/api")
ASSET_REF = re.compile(r"^[0-9a-f]{4,64}$")


def studio(request: Request) -> Studio:
    return request.app.state.studio


class PipelineIn(BaseModel):
    text: str | None = Field(default=None, description="pipeline YAML written in the browser")
    path: str | None = Field(default=None, description="a pipeline file under the served folder")


class RerunIn(BaseModel):
    from_step: str = Field(alias="from", description="the step to re-run (and its descendants)")
    sets: dict[str, Any] = Field(default_factory=dict, description="parameters to change")
    params_yaml: str | None = Field(
        default=None,
        description="the step's parameters edited as YAML; the keys that differ become sets",
    )


class AnnotationIn(BaseModel):
    frame: int | None = Field(default=None, ge=0)
    label: str = Field(default="physics", min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)


# ------------------------------------------------------------------ pipelines
@router.get("/pipelines")
def pipelines(request: Request) -> dict[str, Any]:
    s = studio(request)
    return {"root": str(s.root), "files": s.pipeline_files()}


@router.get("/pipelines/file")
def pipeline_file(request: Request, path: str) -> dict[str, Any]:
    return {"path": path, "text": studio(request).read_pipeline(path)}


@router.post("/briefs")
async def upload_brief(request: Request, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Upload a pipeline or brief file: YAML only, size-limited, parsed before it is kept."""
    s = studio(request)
    data = await file.read(media.BRIEF_MAX_BYTES + 1)
    name = file.filename or "upload"
    if len(data) > media.BRIEF_MAX_BYTES:
        raise PipelineError(
            f"{name}: over the {media.BRIEF_MAX_BYTES // 1024} KiB limit for a pipeline file",
            hint="a pipeline file is a few KiB of YAML",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(
            f"{name}: not a YAML pipeline (not UTF-8 text)",
            hint="upload the .yaml file with `steps:` or `brief:`",
        ) from None
    loaded, _ = specs.read_document(text, name)
    if not isinstance(loaded, dict) or not ({"steps", "brief", "prompt"} & set(loaded)):
        raise PipelineError(
            f"{name}: has no `steps:` or `brief:`", hint="upload a routeyard pipeline or brief file"
        )
    saved = s.save_brief(text)
    return {"path": None, "saved": saved.name, "text": text}


def _pipeline_source(s: Studio, body: PipelineIn) -> tuple[Path, bool]:
    """The file to plan or run: a listed file as is, or the text kept in the store."""
    if body.path:
        file = s.resolve_pipeline(body.path)
        if body.text is None or body.text == s.read_pipeline(body.path):
            return file, True
    if not body.text or not body.text.strip():
        raise PipelineError("no pipeline given", hint="pick a file or write the pipeline's YAML")
    return s.save_brief(body.text), False


def _spec_of(path: Path) -> specs.PipelineSpec:
    """A pipeline, brief or campaign file as a spec, reading none of the files it
    names (the guard confines them next)."""
    from routeyard.pipeline import expansion

    text = expansion.pipeline_text(specs.read_file(path), str(path), check_files=False)
    return specs.parse(text, source=str(path), base_dir=path.resolve().parent, check_files=False)


@router.post("/plan")
def plan(request: Request, body: PipelineIn) -> dict[str, Any]:
    """The route of every step with its reason and the estimated cost: nothing runs."""
    s = studio(request)
    path, _ = _pipeline_source(s, body)
    s.guard.check_spec(_spec_of(path))  # a brief's or campaign's files, confined too
    return api.plan_dry_run(path)


# ------------------------------------------------------------------------ runs
@router.post("/runs", status_code=202)
async def start_run(request: Request, body: PipelineIn) -> dict[str, Any]:
    s = studio(request)
    path, _ = await run_in_threadpool(_pipeline_source, s, body)
    spec = await run_in_threadpool(_spec_of, path)
    await run_in_threadpool(s.guard.check_spec, spec)
    run_id = await s.runs.start(
        lambda subs, control: api.run_pipeline(
            spec, home=s.home, subscribers=subs, control=control, pipeline_path=str(path)
        )
    )
    return {"run": run_id}


@router.get("/runs")
def list_runs(request: Request, limit: int = 50) -> list[dict[str, Any]]:
    s = studio(request)
    rows = api.list_runs(home=s.home, limit=min(max(limit, 1), 500))
    for row in rows:
        row["live"] = s.runs.is_live(row["run"])
    return rows


@router.get("/runs/{run}")
def get_run(request: Request, run: str) -> dict[str, Any]:
    s = studio(request)
    detail = views.run_detail(s.store(), run)
    detail["live"] = s.runs.is_live(detail["run"])
    return detail


@router.post("/runs/{run}/cancel")
def cancel_run(request: Request, run: str) -> dict[str, Any]:
    s = studio(request)
    run_id = s.store().catalog.resolve_run(run)
    if not s.runs.cancel(run_id):
        raise PipelineError(f"run {run_id} is not running in this studio", hint="refresh the page")
    return {"run": run_id, "cancelling": True}


@router.post("/runs/{run}/rerun", status_code=202)
async def rerun(request: Request, run: str, body: RerunIn) -> dict[str, Any]:
    """Re-run from a step with changed parameters; upstream steps are cache hits.
    A value ``asset:ID`` names a store asset (a mask painted in the studio)."""
    s = studio(request)

    def prepare() -> tuple[str, dict[str, Any]]:
        run_id = s.store().catalog.resolve_run(run)
        sets = dict(body.sets)
        if body.params_yaml is not None:
            sets.update(
                _changed_params(
                    views.find_step(s.store(), run_id, body.from_step), body.params_yaml
                )
            )
        return run_id, {k: _resolve_value(s, v) for k, v in sets.items()}

    run_id, sets = await run_in_threadpool(prepare)
    new_id = await s.runs.start(
        lambda subs, control: api.rerun(
            run_id,
            body.from_step,
            sets,
            home=s.home,
            subscribers=subs,
            control=control,
            guard=s.guard.check_spec,
        )
    )
    return {"run": new_id, "parent": run_id}


def _changed_params(step, text: str) -> dict[str, Any]:
    try:
        edited = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PipelineError(
            f"step '{step.node}': the edited parameters are not valid YAML{where}",
            hint="write key: value lines (JSON works too)",
        ) from None
    if not isinstance(edited, dict):
        raise PipelineError(
            f"step '{step.node}': the edited parameters must be a mapping of key: value",
            hint="e.g. scale: 4",
        )
    return {k: v for k, v in edited.items() if step.params.get(k) != v}


def _resolve_value(s: Studio, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("asset:"):
        store = s.store()
        asset_id = store.catalog.resolve_asset(value[6:])
        return str(store.path_of(asset_id))
    return value


@router.get("/runs/{run}/events")
async def run_events(request: Request, run: str) -> StreamingResponse:
    """Server-Sent Events: the run's events so far, then each one as the engine emits it."""
    s = studio(request)
    run_id = await run_in_threadpool(lambda: s.store().catalog.resolve_run(run))
    past, queue = s.runs.listen(run_id)
    if queue is None:  # finished before this server started, or run by the CLI
        past = await run_in_threadpool(lambda: s.store().catalog.run_events(run_id))

    async def stream():
        try:
            yield "retry: 2000\n\n"
            for row in past:
                yield _sse(row)
            if queue is None:
                yield "event: end\ndata: {}\n\n"
                return
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if row is None:
                    yield "event: end\ndata: {}\n\n"
                    return
                yield _sse(row)
        finally:
            if queue is not None:
                s.runs.forget(run_id, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _sse(row: dict[str, Any]) -> str:
    return f"data: {json.dumps(row, default=str)}\n\n"


@router.get("/runs/{run}/variants/{step}")
def run_variants(request: Request, run: str, step: str) -> dict[str, Any]:
    return views.variants(studio(request).store(), run, step)


@router.get("/runs/{run}/export.zip")
def export_zip(request: Request, run: str) -> Response:
    """The run's deliverables with provenance embedded, and provenance.json, as one zip."""
    s = studio(request)
    run_id = s.store().catalog.resolve_run(run)
    with tempfile.TemporaryDirectory() as tmp:
        api.export_run(run_id, Path(tmp), home=s.home)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                zf.write(f, f"routeyard-{run_id}/{f.name}")
    return Response(
        buf.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="routeyard-{run_id}.zip"'},
    )


@router.get("/runs/{run}/steps/{node}")
def get_step(request: Request, run: str, node: str) -> dict[str, Any]:
    store = studio(request).store()
    step = views.find_step(store, run, node)
    return {
        "run": step.run_id,
        "node": step.node,
        "step": step.step,
        "op": step.op,
        "model": step.model,
        "provider": step.provider,
        "params": step.params,
        "inputs": step.inputs,
        "outputs": list(step.outputs),
        "status": step.status,
        "seed": step.seed,
        "prompt": step.prompt,
        "cost_usd": step.cost_usd,
        "seconds": step.seconds,
        "warnings": step.warnings,
    }


@router.get("/runs/{run}/steps/{node}/region.png")
def step_region(request: Request, run: str, node: str) -> Response:
    """The area an inpaint/remove step fills now, white on black (the mask editor's start)."""
    store = studio(request).store()
    step = views.find_step(store, run, node)
    if not step.inputs:
        raise NotFoundError(f"step '{node}' has no input image")
    image = store.catalog.get_asset(step.inputs[0])
    return Response(
        media.current_region(store, step.params, step.op, image), media_type="image/png"
    )


# ---------------------------------------------------------------------- assets
@router.get("/assets")
def list_assets(
    request: Request,
    run: str | None = None,
    step: str | None = None,
    stage: str | None = None,
    model: str | None = None,
    family: str | None = None,
    kind: str | None = None,
    gate: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 60,
) -> dict[str, Any]:
    filters = {
        "run": run,
        "step": step,
        "stage": stage,
        "model": model,
        "family": family,
        "kind": kind,
        "gate": gate,
        "q": q,
    }
    return views.gallery(
        studio(request).store(), filters, page=max(page, 1), per_page=min(max(per_page, 1), 200)
    )


def _asset(request: Request, ref: str):
    if not ASSET_REF.match(ref):
        raise NotFoundError(f"'{ref}' is not an asset id", hint="asset ids are hex digests")
    store = studio(request).store()
    return store, store.catalog.get_asset(store.catalog.resolve_asset(ref))


@router.get("/assets/{ref}")
def get_asset(request: Request, ref: str) -> dict[str, Any]:
    store, asset = _asset(request, ref)
    producer = store.catalog.producer_of(asset.id)
    return {
        "asset": asset.id,
        **asset.facts(),
        "meta": asset.meta,
        "run": producer.run_id if producer else None,
        "step": producer.node if producer else None,
        "annotations": store.catalog.annotations(asset.id),
    }


@router.get("/assets/{ref}/lineage")
def asset_lineage(request: Request, ref: str) -> dict[str, Any]:
    store, asset = _asset(request, ref)
    return views.lineage_graph(store, asset.id)


@router.get("/assets/{ref}/file")
def asset_file(request: Request, ref: str) -> FileResponse:
    store, asset = _asset(request, ref)
    return FileResponse(
        store.path_of(asset.id),
        media_type=asset.mime,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@router.get("/assets/{ref}/thumb")
def asset_thumb(request: Request, ref: str) -> Response:
    store, asset = _asset(request, ref)
    thumb = media.thumbnail(store, asset)
    if thumb is None:  # a JSON sidecar or other file: a labelled tile, not a broken image
        return Response(media.placeholder_svg(asset.mime), media_type="image/svg+xml")
    return FileResponse(
        store.path_of(thumb),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@router.get("/assets/{ref}/frames/{index}.jpg")
def asset_frame(request: Request, ref: str, index: int) -> Response:
    store, asset = _asset(request, ref)
    data = studio(request).frames.frame(store, asset, index)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@router.get("/assets/{ref}/checks/{gate}")
def asset_check(request: Request, ref: str, gate: str) -> dict[str, Any]:
    """A gate's result with its per-frame curve, measured once per asset and kept."""
    store, asset = _asset(request, ref)
    if gate not in (*media.VIEW_GATES, "first_frame"):
        raise RouteyardError(
            f"gate '{gate}' is not shown in the studio",
            hint=f"gates: {', '.join(media.VIEW_GATES)}",
        )
    if asset.kind != "video":
        raise MediaError(f"asset {asset.id[:12]} is a {asset.kind}; '{gate}' needs a video")
    return media.gate_result(store, asset, gate)


@router.get("/assets/{ref}/annotations")
def list_annotations(request: Request, ref: str, download: bool = False) -> Response:
    store, asset = _asset(request, ref)
    body = {"asset": asset.id, "annotations": store.catalog.annotations(asset.id)}
    headers = (
        {"Content-Disposition": f'attachment; filename="review-{asset.id[:12]}.json"'}
        if download
        else {}
    )
    return JSONResponse(body, headers=headers)


@router.post("/assets/{ref}/annotations", status_code=201)
def add_annotation(request: Request, ref: str, body: AnnotationIn) -> dict[str, Any]:
    store, asset = _asset(request, ref)
    if body.frame is not None and asset.frames is not None and body.frame >= asset.frames:
        raise MediaError(
            f"frame {body.frame} is past the video's {asset.frames} frames",
            hint=f"frames are 0..{asset.frames - 1}",
        )
    new_id = store.catalog.add_annotation(
        asset.id, frame=body.frame, label=body.label, note=body.note
    )
    return {"id": new_id, "asset": asset.id, **body.model_dump()}


@router.delete("/assets/{ref}/annotations/{annotation_id}")
def delete_annotation(request: Request, ref: str, annotation_id: int) -> dict[str, Any]:
    store, asset = _asset(request, ref)
    if not store.catalog.delete_annotation(asset.id, annotation_id):
        raise NotFoundError(f"asset {asset.id[:12]} has no annotation #{annotation_id}")
    return {"deleted": annotation_id}


@router.post("/masks", status_code=201)
async def upload_mask(
    request: Request, file: Annotated[UploadFile, File()], image: Annotated[str, Form()]
) -> dict[str, Any]:
    """A painted mask for ``image``: type- and size-checked, stored as a mask asset."""
    data = await file.read(media.MASK_MAX_BYTES + 1)

    def save() -> str:
        store, target = _asset(request, image)
        return media.save_mask(
            store,
            data,
            size=(target.width or 0, target.height or 0),
            source=file.filename or "mask",
        )

    asset_id = await run_in_threadpool(save)
    return {"asset": asset_id, "value": f"asset:{asset_id}"}


# ---------------------------------------------------------------- models, costs
@router.get("/models")
def models() -> list[dict[str, Any]]:
    return api.models()


@router.get("/models/stats")
def model_stats(request: Request) -> list[dict[str, Any]]:
    return api.model_stats(home=studio(request).home)


@router.get("/costs")
def costs(request: Request, run: str | None = None) -> dict[str, Any]:
    return api.costs(run, home=studio(request).home)
