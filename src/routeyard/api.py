"""The Python API: the same operations as the CLI, as plain functions.

Each function opens the store (``home`` or ``ROUTEYARD_HOME``), does one
thing and returns plain data in the contract's JSON shapes, so scripts, the
CLI and the studio agree on what a run or a lineage looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from routeyard import config
from routeyard.errors import OVER_BUDGET, NotFoundError, PipelineError, RouteyardError
from routeyard.pipeline import spec as specs
from routeyard.pipeline.engine import Engine
from routeyard.pipeline.events import Subscriber
from routeyard.providers import Provider, hosted_providers, settings
from routeyard.providers.hosted import MAYBE_BILLED, NEVER_CREATED, UNDOWNLOADABLE
from routeyard.providers.limits import LimitsRegistry
from routeyard.routing import Router
from routeyard.routing.cooldown import Cooldowns
from routeyard.routing.learning import Learner
from routeyard.routing.router import CatalogRouter
from routeyard.store import RunRecord, Store, VerifyReport, provenance

# One per process, shared by every engine: a model that keeps failing is
# skipped by the next run too, not rediscovered by each.
_COOLDOWNS = Cooldowns()
# Likewise the providers' slots and request rates: they belong to the account,
# so every engine of the process draws from the same ones.
_LIMITS = LimitsRegistry()


def known_secrets() -> list[str]:
    """Credential values to mask everywhere (``config.known_secrets``), the
    providers' own key variables included whatever their length."""
    from routeyard.providers import adapters

    names = {n for p in adapters() for n in settings.credential_names(p)}
    return config.known_secrets(sorted(names))


def build_engine(
    store: Store,
    *,
    subscribers: list[Subscriber] | None = None,
    hosted: bool = True,
    providers: dict[str, Provider] | None = None,
    router: Router | None = None,
    cooldowns: Cooldowns | None = None,
    **options: Any,
) -> Engine:
    """The composition root: the engine with its providers, router, learner,
    cooldowns and secrets, built from this process's configuration."""
    adapters = {**(hosted_providers(_LIMITS) if hosted else {}), **(providers or {})}
    cooldowns = cooldowns or getattr(router, "cooldowns", None) or _COOLDOWNS
    if router is None:
        router = CatalogRouter(
            providers=["local", *adapters],
            env=settings.available_credentials(),
            cooldowns=cooldowns,
            learned=Learner.from_rows(store.catalog.learning_outcomes(gate_versions())),
        )
    return Engine(
        store,
        router=router,
        providers=adapters,
        cooldowns=cooldowns,
        subscribers=subscribers,
        secrets=known_secrets(),
        **options,
    )


def gate_versions() -> dict[str, str]:
    from routeyard.checks import versions

    return versions()


def load_pipeline(
    path: str | Path, overrides: dict[str, dict[str, Any]] | None = None
) -> specs.PipelineSpec:
    """A pipeline file, or a brief expanded through its recipe."""
    from routeyard.pipeline import expansion

    p = Path(path)
    text = expansion.pipeline_text(specs.read_file(p), str(p))
    return specs.parse(text, source=str(p), base_dir=p.resolve().parent, overrides=overrides)


class RunControl:
    """Cancels a run from another thread (the studio's Cancel button).

    The engine runs on its own event loop; cancelling its task there is the
    same clean stop as Ctrl-C: running steps record themselves as cancelled
    and finished ones stay cached. ``cancel()`` before the loop starts is
    remembered and applied the moment it does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self.cancelled = False

    def attach(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task) -> None:
        with self._lock:
            self._loop, self._task = loop, task
            if self.cancelled:
                loop.call_soon_threadsafe(task.cancel)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._loop is not None and self._task is not None:
                self._loop.call_soon_threadsafe(self._task.cancel)


def _drive(start: Callable[[], Awaitable[str]], control: RunControl | None) -> str:
    async def main() -> str:
        task = asyncio.current_task()
        assert task is not None
        if control is not None:
            control.attach(asyncio.get_running_loop(), task)
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (a service manager, `kill`) stops the run as Ctrl-C does:
            # running steps record themselves cancelled, the run is never left running.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await start()

    return asyncio.run(main())


def run_pipeline(
    pipeline: str | Path | specs.PipelineSpec,
    *,
    home: str | Path | None = None,
    subscribers: list[Subscriber] | None = None,
    engine_options: dict[str, Any] | None = None,
    control: RunControl | None = None,
    pipeline_path: str | None = None,
    guard: Callable[[specs.PipelineSpec], None] | None = None,
    resubmit: Iterable[str] = (),
) -> dict[str, Any]:
    """Run a pipeline file (or parsed spec); returns the run object.

    ``resubmit`` names steps whose earlier hosted request may have been
    accepted (its answer was lost): the operator has checked, send it again.
    A cancelled run raises ``asyncio.CancelledError`` after the store has
    recorded it as cancelled.
    """
    if not isinstance(pipeline, specs.PipelineSpec):
        _campaign_within_budget(Path(pipeline))
    spec = pipeline if isinstance(pipeline, specs.PipelineSpec) else load_pipeline(pipeline)
    path = pipeline_path or (
        None if isinstance(pipeline, specs.PipelineSpec) else str(Path(pipeline).resolve())
    )
    if guard is not None:
        guard(spec)
    with Store.open(home) as store:
        engine = build_engine(store, subscribers=subscribers, **(engine_options or {}))
        run_id = _drive(
            lambda: engine.run(spec, pipeline_path=path, resubmit=set(resubmit)), control
        )
        return run_object(store.catalog.get_run(run_id), store.catalog)


def _campaign_within_budget(path: Path) -> None:
    """A campaign whose estimate already exceeds its budget is refused before
    anything is spent (the per-step guard would stop it halfway, with half
    the deliverables made)."""
    from routeyard.pipeline import campaigns

    data, _ = specs.read_document(specs.read_file(path, "file"), str(path))
    if not campaigns.is_campaign(data):
        return
    plan = plan_dry_run(path)
    budget, now = plan["budget_usd"], plan["est_cost_now_usd"]
    if budget is not None and now > budget + 1e-9:
        paid = sum(1 for s in plan["steps"] if s["with_current_keys"].get("est_cost_usd"))
        raise PipelineError(
            f"{path}: the campaign's estimate ${now:.2f} ({paid} paid steps) exceeds its "
            f"budget ${budget:.2f}; nothing was run",
            hint="raise budget_usd, drop products, formats or variants, or set policy: economy",
        )


def rerun(
    run_ref: str,
    from_step: str,
    sets: dict[str, Any] | None = None,
    *,
    home: str | Path | None = None,
    subscribers: list[Subscriber] | None = None,
    engine_options: dict[str, Any] | None = None,
    control: RunControl | None = None,
    guard: Callable[[specs.PipelineSpec], None] | None = None,
    resubmit: Iterable[str] = (),
) -> dict[str, Any]:
    """Re-run a past run from ``from_step``: that step and its descendants execute,
    everything upstream is a cache hit. ``sets`` changes the step's parameters.
    ``guard`` sees the parsed pipeline before anything runs (the studio's path checks)."""
    with Store.open(home) as store:
        old = store.catalog.get_run(store.catalog.resolve_run(run_ref))
        step_name = from_step.split("[", 1)[0]
        overrides = {k: dict(v) for k, v in (old.overrides or {}).items()}
        if sets:
            overrides.setdefault(step_name, {}).update(sets)
        source = old.pipeline_path or f"run {old.id}"
        try:
            spec = specs.parse(
                old.pipeline_text,
                source=source,
                base_dir=Path(old.base_dir),
                overrides=overrides,
                check_files=guard is None,  # a guard confines (and checks) the files itself
            )
        except PipelineError as exc:
            if step_name not in _step_names(old.pipeline_text):
                raise PipelineError(
                    f"run {old.id} has no step '{step_name}'",
                    hint=f"steps: {', '.join(_step_names(old.pipeline_text))}",
                ) from None
            raise PipelineError(
                f"--set on step '{step_name}': {exc.message}", hint=exc.hint
            ) from None
        if guard is not None:
            guard(spec)
        engine = build_engine(store, subscribers=subscribers, **(engine_options or {}))
        run_id = _drive(
            lambda: engine.run(
                spec,
                overrides=overrides,
                parent_run_id=old.id,
                rerun_from=from_step,
                pipeline_path=old.pipeline_path,
                resubmit=set(resubmit),
            ),
            control,
        )
        return run_object(store.catalog.get_run(run_id), store.catalog)


def parse_sets(pairs: list[str], *, cwd: Path | None = None) -> dict[str, Any]:
    """``key=value`` pairs from the command line; values are YAML scalars.

    A value that names an existing file (``mask=masks/new.png``) is made
    absolute against the current folder, because the pipeline's own paths
    are relative to the pipeline file, not to where the operator stands.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise RouteyardError(f"--set '{pair}' is not key=value", hint="e.g. --set scale=4")
        key, raw = pair.split("=", 1)
        key = key.strip()
        if not key:
            raise RouteyardError(f"--set '{pair}' has no key", hint="e.g. --set scale=4")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        candidate = (cwd or Path.cwd()) / raw
        if isinstance(value, str) and raw and candidate.is_file():
            value = str(candidate.resolve())
        out[key] = value
    return out


def show_run(run_ref: str = "last", *, home: str | Path | None = None) -> dict[str, Any]:
    with Store.open(home) as store:
        return run_object(store.catalog.get_run(store.catalog.resolve_run(run_ref)), store.catalog)


def list_runs(*, home: str | Path | None = None, limit: int = 20) -> list[dict[str, Any]]:
    with Store.open(home) as store:
        return [
            {
                "run": r.id,
                "status": r.status,
                "created_at": r.created_at,
                "cost_usd": r.cost_usd,
                "pipeline": r.pipeline_path,
                "parent_run": r.parent_run_id,
                "rerun_from": r.rerun_from,
            }
            for r in store.catalog.list_runs(limit)
        ]


def lineage(asset_ref: str, *, home: str | Path | None = None) -> dict[str, Any]:
    with Store.open(home) as store:
        return provenance.lineage(
            store.catalog, store.catalog.resolve_asset(asset_ref), secrets=known_secrets()
        )


def export_run(run_ref: str, dest: str | Path, *, home: str | Path | None = None) -> dict[str, Any]:
    """Write a run's deliverables (the outputs of its final steps) and their provenance."""
    with Store.open(home) as store:
        run = store.catalog.get_run(store.catalog.resolve_run(run_ref))
        assets = deliverables(run)
        if not assets:
            raise NotFoundError(
                f"run {run.id} has no outputs to export",
                hint="check `routeyard show` for failed steps",
            )
        return provenance.export_assets(
            store.catalog,
            store.path_of,
            assets,
            Path(dest),
            extra={"run": run.id, "status": run.status, "pipeline": run.pipeline_path},
            secrets=known_secrets(),
        )


def credentials_init(folder: str | Path | None = None, *, alg: str = "es256", force: bool = False):
    """A development CA and signer (``routeyard credentials init``)."""
    from routeyard.credentials import authority

    return authority.init(
        Path(folder) if folder else config.credentials_dir(), alg=alg, force=force
    )


def verify_file(file: str | Path, *, home: str | Path | None = None) -> dict[str, Any]:
    """A file's credentials (``routeyard verify``), with its lineage from the store
    when the store holds the asset it names or its watermark points to."""
    from routeyard.credentials import verify

    path = Path(file)
    if not path.is_file():
        raise RouteyardError(f"{path}: file not found", hint="check the path")
    report = verify.inspect(path, trust=config.c2pa_trust_anchors()).to_dict()
    report["store"] = _stored_lineage(report.get("asset"), home)
    return report


def _stored_lineage(ref: str | None, home: str | Path | None) -> dict[str, Any] | None:
    from routeyard.credentials import manifest

    if not ref:
        return None
    root = config.store_home(home)
    if not (root / "catalog.sqlite").exists() and not config.database_url():
        return None  # no store here: verify reads files, it never creates a store
    with Store.open(home) as store:
        try:
            asset = store.catalog.resolve_asset(ref)
        except RouteyardError:
            return None
        tree = provenance.lineage(store.catalog, asset, secrets=known_secrets())
    steps = [n for n in manifest.ordered(tree) if not manifest.is_source(n)]
    return {
        "asset": asset,
        "steps": len(steps),
        "run": tree.get("run"),
        "home": str(root),
        "lineage": tree,
    }


def check(
    gate: str,
    files: list[str | Path],
    *,
    ref: str | Path | None = None,
    params: dict[str, Any] | None = None,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """Run one quality gate on a file (or a series); the contract's JSON shape.

    Bad input (unknown gate or parameter, unreadable media) raises a
    ``RouteyardError`` naming the file or parameter.
    """
    from pydantic import ValidationError

    from routeyard.checks import GATES
    from routeyard.errors import MediaError
    from routeyard.ops.base import OpInputError

    if gate not in GATES:
        raise RouteyardError(f"unknown gate '{gate}'", hint=f"gates: {', '.join(GATES)}")
    g = GATES[gate]
    try:
        validated = g.Params.model_validate(
            {k: v for k, v in (params or {}).items() if v is not None}
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise RouteyardError(
            f"check {gate}: parameter '{'.'.join(map(str, err['loc']))}': {err['msg']}",
            hint=f"'{gate}' takes: {', '.join(g.Params.model_fields)}",
        ) from None
    paths = [Path(f) for f in files]
    for p in [*paths, *([Path(ref)] if ref else [])]:
        if not p.is_file():
            raise RouteyardError(f"{p}: file not found", hint="check the path")
    try:
        result = g.evaluate(paths, validated, Path(ref) if ref else None)
    except OpInputError as exc:
        raise MediaError(str(exc)) from None
    out = result.to_dict()
    if plot is not None:
        png = result.plot_png()
        if png is not None:
            Path(plot).write_bytes(png)
            out["plot"] = str(plot)
    return out


def verify_store(*, home: str | Path | None = None) -> VerifyReport:
    with Store.open(home) as store:
        return store.verify()


def deliverables(run: RunRecord) -> list[str]:
    """Outputs of the run's final steps: those no other step reads, export steps excluded
    (their output is the sidecar; what they exported are their inputs)."""
    spec_steps = specs.step_tables(run.pipeline_text)
    read = {src for s in spec_steps.values() for src in _as_list(s.get("input"))}
    out: list[str] = []
    for step in run.steps:
        if step.status not in ("executed", "cached"):
            continue
        if step.op == "export":
            out.extend(a for a in step.inputs if a not in out)
        elif step.step not in read:
            out.extend(a for a in step.outputs if a not in out)
    return out


def delivery_report(
    run: RunRecord, catalog: Any, gates: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Per deliverable: its file (where exported), media facts, every gate on the
    way to it, the hosted routes it took (with fallbacks), its cost and time.
    Deliverables with a failed gate or a fallback come first."""
    producer: dict[str, Any] = {}
    for s in run.steps:  # the step that made an asset, not one that passed it on (select)
        for a in s.outputs:
            producer.setdefault(a, s)
    files: dict[str, str] = {}
    pairs: list[tuple[str, str | None]] = []
    for s in run.steps:
        if s.op == "export" and s.outputs and s.status in ("executed", "cached"):
            meta = catalog.get_asset(s.outputs[0]).meta or {}
            folder = Path(meta.get("dir") or "")
            for asset, name in (meta.get("files") or {}).items():
                files[asset] = str(folder / name)
            pairs += [(a, str(folder / n)) for a, n in meta.get("written") or []]
    exported = {a for a, _ in pairs}
    node_of = {s.id: s.node for s in run.steps}
    by_asset: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for step_id, rows in gates.items():
        for g in rows:
            by_asset.setdefault(g["asset"], []).append((step_id, g))
    pairs += [(a, files.get(a)) for a in deliverables(run) if a not in exported]
    report = []
    for asset_id, file in pairs:
        chain, todo, seen = [], [asset_id], set()
        while todo:
            step = producer.get(todo.pop())
            if step is None or step.id in seen:
                continue
            seen.add(step.id)
            chain.append(step)
            todo.extend(step.inputs)
        record = catalog.get_asset(asset_id)
        # every judgement of an asset on the way, by its own step's gate or by a
        # check step (a campaign's series_color judges the bases)
        steps_gates = [
            {"step": node_of[step_id], **{k: g[k] for k in ("gate", "score", "passed")}}
            for st in reversed(chain)
            for a in st.outputs
            for step_id, g in by_asset.get(a, [])
        ]
        notes = [w for st in chain for w in st.warnings if "fell back" in w or "another class" in w]
        routes = [
            {"step": st.node, "model": st.model, "provider": st.provider}
            for st in reversed(chain)
            if st.provider and st.provider != "local"
        ]
        report.append(
            {
                "asset": asset_id,
                "file": file,
                "kind": record.kind,
                "width": record.width,
                "height": record.height,
                "seconds": record.duration,
                "fps": record.fps,
                "gates": steps_gates,
                "routes": routes,
                "fallbacks": notes,
                "cost_usd": round(sum(st.cost_usd or 0.0 for st in chain), 4),
                "seconds_spent": round(sum(st.seconds or 0.0 for st in chain), 2),
            }
        )
    report.sort(key=lambda d: all(g["passed"] for g in d["gates"]) and not d["fallbacks"])
    return report


def run_object(run: RunRecord, catalog: Any = None) -> dict[str, Any]:
    """A run in the contract's JSON shape (plus a few fields scripts find useful)."""
    gates: dict[int, list[dict[str, Any]]] = {}
    if catalog is not None:
        for g in catalog.gate_outcomes(step_ids=[s.id for s in run.steps]):
            gates.setdefault(g["step_id"], []).append(
                {
                    "gate": g["gate"],
                    "asset": g["asset_id"],
                    "score": round(g["score"], 4),
                    "passed": g["passed"],
                    "threshold": g["threshold"],
                }
            )
    return {
        "run": run.id,
        "status": run.status,
        "delivery": delivery_report(run, catalog, gates) if catalog is not None else [],
        "over_budget": run.status == "failed" and (run.error or "").startswith(OVER_BUDGET),
        "steps": [
            {
                "name": s.node,
                "op": s.op,
                "status": s.status,
                "model": s.model,
                "provider": s.provider,
                "inputs": list(s.inputs),
                "outputs": list(s.outputs),
                "cost_usd": s.cost_usd,
                "seconds": s.seconds,
                "seed": s.seed,
                "error": s.error,
                "warnings": s.warnings,
                "gates": gates.get(s.id, []),
            }
            for s in run.steps
        ],
        "cost_usd": run.cost_usd,
        "parent_run": run.parent_run_id,
        "rerun_from": run.rerun_from,
        "error": run.error,
    }


def _step_names(text: str) -> list[str]:
    return list(specs.step_tables(text))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# ------------------------------------------------------------------ routing
def route(
    path: str | Path, *, stage: str | None = None, dry_run: bool = False
) -> list[dict[str, Any]]:
    """The route of every step (or recipe stage) of a brief or pipeline file, explained."""
    from routeyard.pipeline import planning

    return planning.route(
        path,
        stage=stage,
        dry_run=dry_run,
        providers=_adapters(),
        env=settings.available_credentials(),
        learned=learned_rates(),
        cooldowns=_COOLDOWNS,
    )


def plan_dry_run(path: str | Path) -> dict[str, Any]:
    """Every step's route, the plan's estimated cost and time; nothing is spent."""
    from routeyard.pipeline import planning

    return planning.dry_run(
        path,
        providers=_adapters(),
        env=settings.available_credentials(),
        learned=learned_rates(),
        cooldowns=_COOLDOWNS,
    )


def write_plan(brief_path: str | Path, dest: str | Path) -> dict[str, Any]:
    """A brief's recipe expansion written as an editable pipeline file; an
    existing file is never overwritten."""
    from routeyard.pipeline import expansion, recipes

    src, out = Path(brief_path), Path(dest)
    text = specs.read_file(src, "file")
    data, _ = specs.read_document(text, str(src))
    if isinstance(data, dict) and "steps" in data:
        raise PipelineError(f"{src}: already a pipeline (it has steps:)", hint="edit it directly")
    if out.exists():
        raise PipelineError(f"{out}: exists; not overwritten", hint="pick a new file name")
    document = expansion.document_of(data, src)
    assert document is not None
    specs.parse(recipes.document_text(document), source=str(out), base_dir=out.resolve().parent)
    out.write_text(recipes.document_text(document), encoding="utf-8")
    return {"file": str(out), "recipe": document["recipe"], "steps": len(document["steps"])}


def learned_rates(home: str | Path | None = None) -> Learner | None:
    """The router's learned pass rates from the store, as the engine reads them;
    None where no store exists yet (planning never creates one)."""
    if not (config.store_home(home) / "catalog.sqlite").exists() and not config.database_url():
        return None
    with Store.open(home) as store:
        return Learner.from_rows(store.catalog.learning_outcomes(gate_versions()))


def models() -> list[dict[str, Any]]:
    """The catalog, one summary row per model."""
    from routeyard import catalog, ops

    return [
        {
            "id": m.id,
            "family": m.family,
            "ops": list(m.ops),
            "price": _price_text(m.price),
            "price_date": m.price.date,
            "latency_s": m.latency_s,
            "providers": [h.provider for h in m.hosts if h.status == "active"],
            "status": m.lifecycle()[1] or "active",
            "audio": m.audio,
            "traits": {k: t.value for k, t in m.traits.items()},
        }
        for m in catalog.load().with_local(ops.all_ops()).models
    ]


def _price_text(p: Any) -> str:
    if p.unit == "free":
        return "free"
    if not p.known:
        return "unknown"
    if p.first_mp_usd is not None:
        return f"${p.first_mp_usd:g} first MP + ${p.usd:g}/MP"
    if p.per_resolution:
        low, high = min(p.per_resolution.values()), max(p.per_resolution.values())
        unit = "M tokens" if p.unit == "token" else p.unit
        return f"${low:g}–{high:g}/{unit}" if low != high else f"${low:g}/{unit}"
    return f"${p.usd:g}/{'M tokens' if p.unit == 'token' else p.unit}"


def price_ages(today: str | None = None) -> list[dict[str, Any]]:
    """Per provider: how old its prices are (the oldest and newest dated price of
    the models it hosts), when `models sync` last listed it, or when it was
    last checked by hand (providers without a listing API)."""
    import datetime as dt

    from routeyard import catalog

    cat = catalog.load()
    now = dt.date.fromisoformat(today) if today else dt.date.today()
    rows = []
    for name, info in sorted(cat.providers.items()):
        if name == "local":
            continue
        dates = sorted(
            p.date[:10]
            for m in cat.models
            if m.lifecycle()[0] != "retired"
            for h in m.hosts
            if h.provider == name and (p := m.price_for(name)).known and _iso_date(p.date)
        )
        if not dates:
            continue
        oldest = dt.date.fromisoformat(dates[0])
        rows.append(
            {
                "provider": name,
                "oldest": dates[0],
                "newest": dates[-1],
                "age_days": (now - oldest).days,
                "synced": cat.synced.get(name),
                "checked_by_hand": info.checked or None,
                "listing": info.listing or None,
            }
        )
    return rows


def _iso_date(text: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def status_changes() -> list[dict[str, Any]]:
    """Models whose status changed after the catalog's price table date: a
    shutdown that has passed since, or a host `models sync` found gone."""
    from routeyard import catalog

    cat = catalog.load()
    out = []
    for m in cat.models:
        status, words = m.lifecycle()
        if (status != "active" and m.shutdown > cat.price_table_date) or (
            m.status == "deprecated" and status == "retired"
        ):
            out.append({"model": m.id, "status": status, "detail": words})
        for h in m.hosts:
            if h.status == "unavailable":
                out.append(
                    {"model": m.id, "status": "unavailable", "detail": f"gone from {h.provider}"}
                )
    return out


def model(model_id: str) -> dict[str, Any]:
    """One catalog entry in full, with its trait sources spelled out."""
    from routeyard import catalog, ops

    cat = catalog.load().with_local(ops.all_ops())
    m = cat.get(model_id)
    if m is None:
        import difflib

        close = difflib.get_close_matches(model_id, [x.id for x in cat.models], n=1)
        raise NotFoundError(
            f"model '{model_id}' is not in the catalog",
            hint=f"did you mean '{close[0]}'?" if close else "see `routeyard models`",
        )
    data = m.model_dump(by_alias=True)
    data["status"], data["lifecycle"] = m.lifecycle()
    data["sources"] = {k: cat.sources[t.source].label for k, t in m.traits.items()}
    data["source_dates"] = {k: cat.source_date(t.source) for k, t in m.traits.items()}
    data["price"]["source_text"] = cat.sources[m.price.source].label
    data["credentials"] = {
        h.provider: list(cat.providers[h.provider].env) for h in m.hosts if h.provider != "local"
    }
    return data


def models_sync(*, write: bool = True) -> dict[str, Any]:
    """Refresh prices and availability from the providers' listing APIs into the
    user's catalog overlay; what changed, per provider."""
    from routeyard.providers import sync

    return sync.sync(hosted_providers(_LIMITS), write=write)


def model_stats(*, home: str | Path | None = None) -> list[dict[str, Any]]:
    """The router's learned pass rates per (model, stage, tag)."""
    from routeyard.routing.learning import Learner

    with Store.open(home) as store:
        return Learner.from_rows(store.catalog.learning_outcomes(gate_versions())).stats()


def record_outcome(
    model: str,
    stage: str,
    tags: list[str],
    score: float | None,
    passed: bool,
    *,
    gate: str | None = None,
    home: str | Path | None = None,
) -> None:
    """Tell the router how a model did (e.g. an operator's verdict outside a plan)."""
    with Store.open(home) as store:
        store.catalog.add_outcome(
            model=model, stage=stage, tags=list(tags), gate=gate, score=score, passed=bool(passed)
        )


# Ledger states whose cost is final: what the provider billed (or did not).
SETTLED = ("succeeded", "failed", "cancelled", UNDOWNLOADABLE)


def costs(run_ref: str | None = None, *, home: str | Path | None = None) -> dict[str, Any]:
    """What hosted jobs cost, in each provider's billing unit: one run, or every run."""
    with Store.open(home) as store:
        run_id = store.catalog.resolve_run(run_ref) if run_ref else None
        rows = store.catalog.jobs(run_id)
    jobs, by_provider, by_model = [], {}, {}
    total = estimated = maybe = 0.0
    for r in rows:
        if r["status"] in NEVER_CREATED:  # the provider refused the request: no job, no bill
            continue
        billing = (r["meta"] or {}).get("billing") or {}
        est = (billing.get("estimated") or {}).get("usd")
        actual = billing.get("actual") or {}
        cost = r["cost_usd"] if r["status"] in SETTLED else None
        unit = actual.get("unit") or (billing.get("estimated") or {}).get("unit")
        jobs.append(
            {
                "run": r["run_id"],
                "step": r["node"],
                "provider": r["provider"],
                "model": r["model"],
                "job_id": r["job_id"],
                "status": r["status"],
                "unit": unit,
                "quantity": actual.get("quantity"),
                "usd_per_unit": actual.get("usd_per_unit"),
                # further lines of the bill (FLUX.2's first megapixel, references)
                "lines": actual.get("lines") or [],
                "tier": actual.get("tier"),
                "price_known": actual.get("known", True),
                "estimated_usd": est,
                "cost_usd": cost,
                # Sent, answer lost: the provider may have made (and billed) the job.
                "may_be_billed": r["status"] in MAYBE_BILLED,
            }
        )
        estimated += est or 0.0
        if r["status"] in MAYBE_BILLED:
            maybe += est or 0.0
        if cost:
            total += cost
            by_provider[r["provider"]] = round(by_provider.get(r["provider"], 0.0) + cost, 6)
            by_model[r["model"]] = round(by_model.get(r["model"], 0.0) + cost, 6)
    return {
        "run": run_id,
        "total_usd": round(total, 6),
        "estimated_usd": round(estimated, 6),
        "may_be_billed_usd": round(maybe, 6),
        "jobs": jobs,
        "by_provider": by_provider,
        "by_model": by_model,
    }


def providers_check(timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """Which hosted providers have keys, and whether each answers a cheap
    authenticated call (nothing is submitted, nothing is spent)."""
    from routeyard.providers import hosted_providers
    from routeyard.providers.base import ProviderError
    from routeyard.providers.settings import config_file_readable_by_others
    from routeyard.secrets import redact

    adapters = hosted_providers(_LIMITS)

    async def one(name: str, adapter) -> dict[str, Any]:
        s = adapter.settings
        row: dict[str, Any] = {
            "provider": name,
            "configured": adapter.configured(),
            "source": s.source or None,
            "base_url": s.base_url,
            "reachable": None,
            "detail": "",
        }
        if not row["configured"]:
            from routeyard import catalog

            info = catalog.load().providers[name]
            row["detail"] = f"set {' or '.join(info.env)}" + (
                f" and {' and '.join(info.with_)}" if info.with_ else ""
            )
            return row
        try:
            row["detail"] = await asyncio.wait_for(adapter.check(), timeout_s)
            row["reachable"] = True
        except ProviderError as exc:
            row["reachable"], row["detail"] = False, f"{exc.kind}: {exc}"
        except TimeoutError:
            row["reachable"], row["detail"] = False, f"no answer in {timeout_s:g} s"
        finally:
            await adapter.aclose()
        return row

    async def everything() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(one(n, a) for n, a in adapters.items())))

    rows = redact(asyncio.run(everything()), known_secrets())
    if config_file_readable_by_others():
        for row in rows:
            if row["source"] and "config file" in row["source"]:
                row["detail"] += " (warning: the config file is readable by other users; chmod 600)"
    return rows


def _adapters() -> list[str]:
    """Providers this install has adapters for (hosted adapters arrive with their modules)."""
    from routeyard.providers import adapters

    return adapters()
