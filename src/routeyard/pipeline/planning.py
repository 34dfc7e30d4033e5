"""Routes and dry-run plans for a brief or a pipeline file, before anything is spent.

A file is a pipeline (``steps:``, optional ``brief:``), a ``brief:`` alone,
or a bare brief. A pipeline's steps are routed as they stand (variants
expanded); a brief alone is routed through the default recipe's stages:
base (``generate``), refine (``edit``) and motion (``animate``, unless the
brief says ``motion: none``). A dry run prices every model whatever keys are
set, and says for each step what would run with the keys set now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routeyard import ops
from routeyard.brief import Brief
from routeyard.errors import PipelineError, RouteyardError
from routeyard.pipeline import spec as specs
from routeyard.pipeline.plan import build
from routeyard.routing.cooldown import Cooldowns
from routeyard.routing.decision import RouteDecision
from routeyard.routing.router import CatalogRouter, Learned

RECIPE = (("base", "generate"), ("refine", "edit"), ("motion", "animate"))
ROUTED_STAGES = ("base", "refine", "motion")


@dataclass(frozen=True)
class Stop:
    """One thing to route: a step of a pipeline, or a stage of the recipe."""

    name: str
    op: str
    model: str
    params: dict[str, Any]
    deps: tuple[str, ...] = ()


def load(path: str | Path) -> tuple[Brief | None, specs.PipelineSpec | None]:
    """A pipeline file, or a brief expanded through its recipe (``recipes``)."""
    from routeyard.pipeline import expansion, recipes

    p = Path(path)
    text = specs.read_file(p, "file")
    data, _ = specs.read_document(text, str(p))
    if not isinstance(data, dict):
        raise PipelineError(f"{p}:1: a brief is a mapping of fields (prompt, text, style, …)")
    if "steps" not in data:
        text = recipes.document_text(expansion.document_of(data, p))
    spec = specs.parse(text, source=str(p), base_dir=p.resolve().parent)
    return spec.brief, spec


def stops(brief: Brief | None, spec: specs.PipelineSpec | None) -> list[Stop]:
    if spec is None:
        motion = brief is None or brief.motion != "none"
        return [Stop(stage, op, "auto", {}) for stage, op in RECIPE if op != "animate" or motion]
    plan = build(spec)
    return [
        Stop(n.id, n.op, n.model, dict(n.params), tuple(n.deps))
        for n in plan.nodes.values()
        if (op := ops.get_op(n.op)) is not None and op.stage in ROUTED_STAGES
    ]


def stage_dict(stop: Stop, decision: RouteDecision | None, error: str | None) -> dict[str, Any]:
    op = ops.get_op(stop.op)
    base = {"step": stop.name, "op": stop.op, "stage": op.stage if op else None}
    if decision is None:
        return {
            **base,
            "chosen": None,
            "error": error,
            "candidates": [],
            "filtered": [],
            "fallbacks": [],
        }
    d = decision.to_dict()
    top = decision.candidates[0]
    chosen = {
        "model": decision.chosen.model,
        "family": top["family"],
        "provider": decision.chosen.provider,
        "score": top["score"],
        "reason": decision.reason,
        "est_cost_usd": decision.chosen.est_cost_usd,
        "est_seconds": decision.chosen.est_seconds,
    }
    return {
        **base,
        "stage": d.get("stage", base["stage"]),
        "chosen": chosen,
        "candidates": d["candidates"],
        "filtered": d["filtered"],
        "fallbacks": d["fallbacks"],
        "requirements": d.get("requirements"),
        "warnings": d.get("warnings") or [],
    }


STALE_DAYS = 90


def stale_prices(steps: list[dict[str, Any]], today: str | None = None) -> list[str]:
    """A line per chosen model whose price is older than ``STALE_DAYS``, or unknown."""
    import datetime as dt

    from routeyard.catalog import load as load_catalog

    catalog = load_catalog()
    now = dt.date.fromisoformat(today) if today else dt.date.today()
    out = []
    for e in steps:
        chosen = e.get("chosen") or {}
        model = catalog.get(chosen.get("model") or "")
        if model is None or not model.hosted:
            continue
        price = model.price_for(chosen.get("provider"))
        where = f"step {e['step']}: {model.id} on {chosen.get('provider')}"
        if not price.known:
            out.append(f"{where}: price unknown ({price.note or 'not confirmed'}); costs $0 here")
            continue
        try:
            age = (now - dt.date.fromisoformat(price.date[:10])).days
        except ValueError:
            out.append(f"{where}: the price has no date ({price.source})")
            continue
        if age > STALE_DAYS:
            out.append(
                f"{where}: the estimate uses a price from {price.date} ({age} days old, "
                f"{price.source}); run `routeyard models sync` or check the provider's page"
            )
    return out


def _routed(router: CatalogRouter, s: Stop, brief: Brief | None) -> dict[str, Any]:
    """The stage entry for one stop, or its error when nothing can run it."""
    try:
        return stage_dict(
            s, router.decide(op=ops.get_op(s.op), model=s.model, params=s.params, brief=brief), None
        )
    except RouteyardError as exc:
        return stage_dict(s, None, str(exc))


def route(
    path: str | Path,
    *,
    stage: str | None = None,
    dry_run: bool = False,
    providers: list[str] | None = None,
    env: dict[str, str] | None = None,
    learned: Learned | None = None,
    cooldowns: Cooldowns | None = None,
) -> list[dict[str, Any]]:
    """Every routed step (or recipe stage) of the file, explained, ranked with the
    same learned pass rates, cooldowns and keys the engine uses."""
    brief, spec = load(path)
    router = CatalogRouter(
        providers=None if dry_run else providers,
        dry_run=dry_run,
        env=env,
        learned=learned,
        cooldowns=cooldowns,
    )
    out = []
    for s in stops(brief, spec):
        if stage and ops.get_op(s.op).stage != stage:
            continue
        out.append(_routed(router, s, brief))
    return out


def dry_run(
    path: str | Path,
    *,
    providers: list[str] | None = None,
    env: dict[str, str] | None = None,
    learned: Learned | None = None,
    cooldowns: Cooldowns | None = None,
    today: str | None = None,
) -> dict[str, Any]:
    """The route of every step, the plan's estimated cost and time, and what would
    run now; a warning for each estimate resting on a price older than 90 days."""
    brief, spec = load(path)
    pricing = CatalogRouter(dry_run=True, env=env, learned=learned, cooldowns=cooldowns)
    now = CatalogRouter(providers=providers, env=env, learned=learned, cooldowns=cooldowns)
    steps, finish = [], {}
    for s in stops(brief, spec):
        entry = _routed(pricing, s, brief)
        current = _routed(now, s, brief)
        entry["with_current_keys"] = (
            {
                "model": current["chosen"]["model"],
                "provider": current["chosen"]["provider"],
                "est_cost_usd": current["chosen"]["est_cost_usd"],
            }
            if current["chosen"]
            else {"model": None, "error": current["error"]}
        )
        seconds = (entry["chosen"] or {}).get("est_seconds") or 0.0
        finish[s.name] = seconds + max((finish.get(d, 0.0) for d in s.deps), default=0.0)
        steps.append(entry)
    cost = sum((e["chosen"] or {}).get("est_cost_usd", 0.0) for e in steps)
    now_cost = sum(e["with_current_keys"].get("est_cost_usd") or 0.0 for e in steps)
    budget = brief.budget_usd if brief else None
    return {
        "file": str(path),
        "warnings": stale_prices(steps, today),
        "steps": steps,
        "est_cost_usd": round(cost, 4),
        # what the routes open with the keys set here would cost
        "est_cost_now_usd": round(now_cost, 4),
        "est_seconds": round(max(finish.values(), default=0.0), 1),
        "budget_usd": budget,
        "within_budget": None if budget is None else cost <= budget + 1e-9,
        "unroutable": [e["step"] for e in steps if e["chosen"] is None],
    }
