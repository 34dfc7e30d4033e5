"""What each studio page shows, assembled from the store as plain data.

The JSON API returns these dicts as they are and the templates render the
same dicts, so a script and the page never disagree about a run.
"""

from __future__ import annotations

import re
from typing import Any

from routeyard import api, ops
from routeyard.catalog import load as load_catalog
from routeyard.errors import NotFoundError
from routeyard.ops import Op
from routeyard.records import AssetQuery
from routeyard.store import StepRecord, Store, provenance

BRANCH = re.compile(r"^(?P<step>.+)\[(?P<i>\d+)\]$")
STAGES = ("base", "refine", "motion", "check", "deliver")


def ops_of_stage(stage: str) -> tuple[str, ...]:
    return tuple(n for n in ops.known_ops() if getattr(ops.get_op(n), "stage", None) == stage)


def models_of_family(family: str) -> tuple[str, ...]:
    return tuple(m.id for m in load_catalog().models if m.family == family)


def families() -> list[str]:
    return sorted({m.family for m in load_catalog().models})


def gallery(store: Store, filters: dict[str, Any], *, page: int, per_page: int) -> dict[str, Any]:
    query = AssetQuery(
        run_id=store.catalog.resolve_run(filters["run"]) if filters.get("run") else None,
        step=filters.get("step") or None,
        ops=ops_of_stage(filters["stage"]) if filters.get("stage") else None,
        models=(filters["model"],)
        if filters.get("model")
        else (models_of_family(filters["family"]) if filters.get("family") else None),
        kind=filters.get("kind") or None,
        gate=filters.get("gate") or None,
        text=filters.get("q") or None,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    rows, total = store.catalog.find_assets(query)
    items = [
        {
            "asset": r.asset.id,
            "kind": r.asset.kind,
            "mime": r.asset.mime,
            "width": r.asset.width,
            "height": r.asset.height,
            "duration": r.asset.duration,
            "run": r.step.run_id,
            "step": r.step.node,
            "op": r.step.op,
            "model": r.step.model,
            "provider": r.step.provider,
            "prompt": r.step.prompt,
            "gates": r.gates,
        }
        for r in rows
    ]
    pages = max(1, -(-total // per_page))
    return {"items": items, "total": total, "page": page, "pages": pages, "per_page": per_page}


def run_detail(store: Store, run_ref: str) -> dict[str, Any]:
    run = store.catalog.get_run(store.catalog.resolve_run(run_ref))
    obj = api.run_object(run, store.catalog)
    obj["pipeline_text"] = run.pipeline_text
    obj["variant_steps"] = sorted(
        {m["step"] for s in obj["steps"] if (m := BRANCH.match(s["name"]))}
    )
    obj["deliverables"] = api.deliverables(run)
    return obj


def find_step(store: Store, run_ref: str, node: str) -> StepRecord:
    """A step of a run by its node name (``clean``, ``motion[1]``)."""
    record = store.catalog.get_run(store.catalog.resolve_run(run_ref))
    for step in record.steps:
        if step.node == node:
            return step
    raise NotFoundError(
        f"run {record.id} has no step '{node}'",
        hint="steps: " + ", ".join(s.node for s in record.steps),
    )


def lineage_graph(store: Store, asset_id: str) -> dict[str, Any]:
    """The lineage tree as a graph: one node per asset, columns by distance from the
    sources, so the page draws the chain left (sources) to right (this asset)."""
    tree = provenance.lineage(store.catalog, asset_id, secrets=api.known_secrets())
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str]] = []

    def walk(node: dict[str, Any]) -> int:
        if node["asset"] in nodes:
            return nodes[node["asset"]]["column"]
        column = 1 + max((walk(p) for p in node["parents"]), default=-1)
        for p in node["parents"]:
            edges.append((p["asset"], node["asset"]))
        flat = {k: v for k, v in node.items() if k != "parents"}
        flat["column"] = column
        flat["parents"] = [p["asset"] for p in node["parents"]]
        flat["gates"] = [
            {k: g[k] for k in ("gate", "score", "passed", "threshold")}
            for g in store.catalog.gate_outcomes(asset_id=node["asset"])
        ]
        flat["editable_mask"] = Op.masked(node["op"])
        nodes[node["asset"]] = flat
        return column

    walk(tree)
    rows: dict[int, int] = {}
    for node in sorted(nodes.values(), key=lambda n: (n["column"], n.get("step") or "")):
        node["row"] = rows.get(node["column"], 0)
        rows[node["column"]] = node["row"] + 1
    return {
        "asset": asset_id,
        "nodes": list(nodes.values()),
        "edges": [{"from": a, "to": b} for a, b in dict.fromkeys(edges)],
        "columns": 1 + max(n["column"] for n in nodes.values()),
        "rows": max(rows.values()),
    }


def variants(store: Store, run_ref: str, step: str) -> dict[str, Any]:
    """The branches of a fan-out step, what differs between them, and which one a
    ``select`` step downstream kept."""
    run = store.catalog.get_run(store.catalog.resolve_run(run_ref))
    branches = [s for s in run.steps if (m := BRANCH.match(s.node)) and m["step"] == step]
    if not branches:
        raise NotFoundError(
            f"run {run.id} has no variants of step '{step}'",
            hint="variant steps: " + ", ".join(run_detail(store, run.id)["variant_steps"])
            or "none",
        )
    branches.sort(key=lambda s: int(BRANCH.match(s.node)["i"]))
    outputs = {a for s in branches for a in s.outputs}
    chooser = next((s for s in run.steps if s.op == "select" and outputs & set(s.inputs)), None)
    chosen = set(chooser.outputs) if chooser and chooser.status in ("executed", "cached") else set()
    shared = {
        k: v for k, v in branches[0].params.items() if all(b.params.get(k) == v for b in branches)
    }
    items = []
    for b in branches:
        asset = b.outputs[0] if b.outputs else None
        items.append(
            {
                "node": b.node,
                "index": int(BRANCH.match(b.node)["i"]),
                "status": b.status,
                "asset": asset,
                "differs": {k: v for k, v in b.params.items() if k not in shared},
                "model": b.model,
                "selected": asset in chosen,
                "choice": chooser.inputs.index(asset)
                if chooser and asset in chooser.inputs
                else None,
            }
        )
    return {
        "run": run.id,
        "step": step,
        "chooser": chooser.node if chooser else None,
        "chosen_by": (chooser.params.get("by") if chooser else None),
        "variants": items,
    }


def delivered_credentials(store, asset_id: str, *, runs: int = 50) -> list[dict[str, Any]]:
    """What `routeyard verify` says of each file this asset was exported as
    (the recent runs' export steps), so the asset page shows the same."""
    from pathlib import Path

    from routeyard import config
    from routeyard.credentials import verify

    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    trust = config.c2pa_trust_anchors()
    for listed in store.catalog.list_runs(limit=runs):
        for step in store.catalog.get_run(listed.id).steps:
            if step.op != "export" or not step.outputs or step.status not in ("executed", "cached"):
                continue
            meta = store.catalog.get_asset(step.outputs[0]).meta or {}
            for asset, name in meta.get("written") or []:
                path = Path(meta.get("dir") or "") / name
                if asset != asset_id or str(path) in seen or not path.is_file():
                    continue
                seen.add(str(path))
                # the watermark of a video takes seconds to read: pictures only here
                still = path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
                out.append(verify.inspect(path, trust=trust, watermark=still).to_dict())
    return out
