"""The studio's pages: server-rendered from the same data the JSON API returns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from routeyard import api
from routeyard.errors import NotFoundError, PipelineError, RouteyardError
from routeyard.ops import Op
from routeyard.server import media, views
from routeyard.server.state import Studio

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["when"] = lambda ts: (
    dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""
)
templates.env.filters["usd"] = lambda v: f"${v:,.4f}" if v else "$0"
templates.env.filters["secs"] = lambda v: "" if v is None else f"{v:.1f} s"
templates.env.filters["short"] = lambda v: (v or "")[:12]


def _studio(request: Request) -> Studio:
    return request.app.state.studio


def render(request: Request, name: str, page: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"page": page, **context})


def error_page(request: Request, exc: RouteyardError, status: int) -> HTMLResponse:
    response = render(request, "error.html", "", error=exc.message, hint=exc.hint)
    response.status_code = status
    return response


@router.get("/", response_class=HTMLResponse)
def briefs(request: Request, path: str | None = None) -> HTMLResponse:
    s = _studio(request)
    files = s.pipeline_files()
    chosen = path or next(
        (f for f in files if f.endswith("offline.yaml")), files[0] if files else None
    )
    text = ""
    if chosen:
        try:
            text = s.read_pipeline(chosen)
        except PipelineError as exc:  # one bad file must not take the home page down
            if path:
                raise
            text = f"# {exc.message} ({exc.hint})\n"
    runs = api.list_runs(home=s.home, limit=30)
    for r in runs:
        r["live"] = s.runs.is_live(r["run"])
    return render(
        request,
        "briefs.html",
        "briefs",
        files=files,
        chosen=chosen,
        text=text,
        runs=runs,
        root=str(s.root),
    )


@router.get("/runs/{run}", response_class=HTMLResponse)
def run_page(request: Request, run: str) -> HTMLResponse:
    s = _studio(request)
    detail = views.run_detail(s.store(), run)
    detail["live"] = s.runs.is_live(detail["run"])
    return render(request, "run.html", "briefs", run=detail)


@router.get("/gallery", response_class=HTMLResponse)
def gallery(request: Request, page: int = 1) -> HTMLResponse:
    s = _studio(request)
    keys = ("run", "step", "stage", "model", "family", "kind", "gate", "q")
    filters = {k: request.query_params.get(k) or "" for k in keys}
    data = views.gallery(s.store(), filters, page=max(page, 1), per_page=60)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "gallery.html",
        "gallery",
        data=data,
        filters=filters,
        query=query,
        stages=views.STAGES,
        families=views.families(),
        models=[m["id"] for m in api.models()],
    )


@router.get("/assets/{ref}", response_class=HTMLResponse)
def asset_page(request: Request, ref: str) -> HTMLResponse:
    s = _studio(request)
    store = s.store()
    asset = store.catalog.get_asset(store.catalog.resolve_asset(ref))
    graph = views.lineage_graph(store, asset.id)
    return render(
        request,
        "asset.html",
        "gallery",
        asset=asset,
        graph=graph,
        annotations=store.catalog.annotations(asset.id),
        credentials=views.delivered_credentials(store, asset.id),
    )


@router.get("/runs/{run}/mask/{node}", response_class=HTMLResponse)
def mask_page(request: Request, run: str, node: str) -> HTMLResponse:
    s = _studio(request)
    store = s.store()
    step = views.find_step(store, run, node)
    if not Op.masked(step.op) or not step.inputs:
        raise NotFoundError(
            f"step '{node}' of run {step.run_id} is a {step.op}, not an inpaint or remove_object",
            hint="open the mask editor from such a step in the lineage graph",
        )
    image = store.catalog.get_asset(step.inputs[0])
    return render(request, "mask.html", "gallery", run_id=step.run_id, step=step, image=image)


@router.get("/runs/{run}/variants/{step}", response_class=HTMLResponse)
def variants_page(request: Request, run: str, step: str) -> HTMLResponse:
    data = views.variants(_studio(request).store(), run, step)
    return render(request, "variants.html", "briefs", data=data, gates=media.VIEW_GATES)


@router.get("/assets/{ref}/review", response_class=HTMLResponse)
def review_page(request: Request, ref: str) -> HTMLResponse:
    store = _studio(request).store()
    asset = store.catalog.get_asset(store.catalog.resolve_asset(ref))
    if asset.kind != "video":
        raise NotFoundError(f"asset {asset.id[:12]} is a {asset.kind}; frame review needs a video")
    return render(
        request,
        "review.html",
        "gallery",
        asset=asset,
        gates=media.VIEW_GATES,
        annotations=store.catalog.annotations(asset.id),
    )


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request) -> HTMLResponse:
    s = _studio(request)
    stats: dict[str, list[dict[str, Any]]] = {}
    for row in api.model_stats(home=s.home):
        stats.setdefault(row.get("model", ""), []).append(row)
    return render(request, "models.html", "models", models=api.models(), stats=stats)


@router.get("/costs", response_class=HTMLResponse)
def costs_page(request: Request, run: str | None = None) -> HTMLResponse:
    s = _studio(request)
    return render(
        request,
        "costs.html",
        "costs",
        costs=api.costs(run or None, home=s.home),
        runs=api.list_runs(home=s.home, limit=100),
        run=run or "",
    )
