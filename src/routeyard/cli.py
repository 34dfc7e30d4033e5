"""The ``routeyard`` command line: a thin shell over ``routeyard.api``.

Errors the user can fix print as one line plus a hint and exit non-zero;
``--json`` prints the contract's JSON on stdout (progress, if any, goes to
stderr). Ctrl-C cancels a run cleanly and says how to resume.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer

from routeyard.errors import BudgetExceededError, CancelledByUser, RouteyardError

if TYPE_CHECKING:
    from rich.tree import Tree

    from routeyard.pipeline.events import Event


def _api() -> ModuleType:
    """``routeyard.api``, imported on first use: ``--help`` and ``--version`` must
    not pay for OpenCV, PyAV, SQLAlchemy and FastAPI."""
    from routeyard import api

    return api


app = typer.Typer(
    add_completion=False,
    # Plain help: Typer's Rich help formatting imports Markdown and Pygments
    # (~0.15 s) before a single line is shown.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Route a creative brief through generative models, with lineage and re-runs.",
)
store_app = typer.Typer(
    no_args_is_help=True, help="Inspect and check the store.", rich_markup_mode=None
)
app.add_typer(store_app, name="store")
providers_app = typer.Typer(
    help="Hosted providers: keys, endpoints, reachability.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(providers_app, name="providers")


class _Console:
    """A Rich console made on first use: Rich's import is paid only by output."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


out = _Console(stderr=False)
err = _Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Store folder (default: ROUTEYARD_HOME or ./.routeyard)."),
]


class _ProgressDisplay:
    """Turns engine events into a progress bar on stderr (only on a terminal)."""

    FINAL: ClassVar[set[str]] = {"finished", "cached", "failed", "skipped", "cancelled"}

    def __init__(self, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.run_id: str | None = None
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task = None
        self.running: set[str] = set()

    def __call__(self, event: Event) -> None:
        self.run_id = event.run_id
        if not self.enabled:
            return
        if event.kind == "run_started":
            self.progress.start()
            self.task = self.progress.add_task("starting", total=event.data["nodes"])
        elif event.kind == "started":
            self.running.add(event.node)
        elif event.kind in self.FINAL:
            self.running.discard(event.node)
            self.progress.advance(self.task)
            if event.kind == "failed":
                self.progress.console.print(f"[red]✗ {event.node}[/]: {event.data.get('error')}")
        elif event.kind == "run_finished":
            self.progress.stop()
            return
        if self.task is not None:
            label = ", ".join(sorted(self.running)[:3]) or "waiting"
            self.progress.update(self.task, description=f"running {label}")

    def stop(self) -> None:
        if self.enabled:
            self.progress.stop()


def _show_version(value: bool) -> None:
    if value:
        from routeyard import __version__

        sys.stdout.write(f"routeyard {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Log everything to stderr (credentials masked).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Route a creative brief through generative models, with lineage and re-runs."""
    from routeyard import config, logs

    # With -v the log reaches the terminal: mask the providers' keys of any
    # length (that needs the catalog); without it only warnings do.
    logs.to_stderr(verbose, _api().known_secrets() if verbose else config.known_secrets())


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _print_run(run: dict[str, Any]) -> None:
    from rich.table import Table

    colour = {"done": "green", "failed": "red", "cancelled": "yellow"}.get(run["status"], "white")
    title = f"run {run['run']} — [{colour}]{run['status']}[/]"
    if run.get("parent_run"):
        title += f" (re-run of {run['parent_run']} from '{run['rerun_from']}')"
    table = Table(title=title, title_justify="left")
    for col in ("step", "op", "status", "model", "seconds", "outputs"):
        table.add_column(col)
    for s in run["steps"]:
        secs = "" if s["seconds"] is None else f"{s['seconds']:.2f}"
        status = s["status"] if not s.get("error") else f"{s['status']}: {s['error']}"
        table.add_row(
            s["name"],
            s["op"],
            status,
            s["model"] or "",
            secs,
            " ".join(a[:12] for a in s["outputs"]),
        )
    out.print(table)
    _print_delivery(run.get("delivery") or [])
    out.print(f"cost ${run['cost_usd']:.2f}")


def _print_delivery(items: list[dict[str, Any]]) -> None:
    """The delivery report: each deliverable, its facts, gates, route, cost and time."""
    from rich.text import Text

    if not items:
        return
    out.print("[bold]delivered[/] (failures and fallbacks first):")
    for d in items:
        size = f"{d['width']}x{d['height']}" if d["width"] else ""
        clip = f", {d['seconds']:.2f} s at {d['fps']:g} fps" if d["kind"] == "video" else ""
        where = d["file"] or d["asset"][:12]
        out.print(Text(f"  {where}: {d['kind']} {size}{clip}, ${d['cost_usd']:.2f}, "
                       f"{d['seconds_spent']:.1f} s of steps"), highlight=False)  # fmt: skip
        gates = ", ".join(
            f"{g['step']}/{g['gate']} {g['score']:.2f} {'pass' if g['passed'] else 'FAIL'}"
            for g in d["gates"]
        )
        if gates:
            out.print(Text(f"    gates: {gates}"), highlight=False)
        for r in d["routes"]:
            out.print(Text(f"    route: {r['step']} on {r['model']} ({r['provider']})"),
                      highlight=False)  # fmt: skip
        for note in d["fallbacks"]:
            out.print(Text(f"    fallback: {note}", style="yellow"), highlight=False)


def _run_with_progress(fn):
    import asyncio  # here, not at the top: `--help` stays fast

    display = _ProgressDisplay(enabled=err.is_terminal)
    try:
        return fn([display])
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM
        display.stop()
        rid = display.run_id or "?"
        raise CancelledByUser(
            f"cancelled: run {rid} stopped; finished steps are kept",
            hint="run the same command again to resume from the cache",
        ) from None
    finally:
        display.stop()


ResubmitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--resubmit",
        metavar="STEP",
        help="Send STEP's hosted request again although an earlier one may have been "
        "accepted (its answer was lost); check the provider's dashboard first.",
    ),
]


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Pipeline YAML file.")],
    resubmit: ResubmitOpt = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Run a pipeline; finished steps of earlier runs are reused from the cache."""
    result = _run_with_progress(
        lambda subs: _api().run_pipeline(file, home=home, subscribers=subs, resubmit=resubmit or ())
    )
    _emit_json(result) if as_json else _print_run(result)
    _exit_for(result)


def _exit_for(result: dict) -> None:
    """A failed run exits 1; one whose only failures are steps the budget
    refused exits 6 (``BudgetExceededError``), so a script can tell them apart."""
    if result["status"] == "done":
        return
    raise typer.Exit(BudgetExceededError.exit_code if result.get("over_budget") else 1)


@app.command()
def rerun(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, prefix, or 'last'.")],
    from_step: Annotated[
        str, typer.Option("--from", help="Step to re-execute (with its descendants).")
    ],
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="key=value for that step (repeatable).")
    ] = None,
    resubmit: ResubmitOpt = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Re-run from one step: it and its descendants execute, everything upstream is cached."""
    overrides = _api().parse_sets(sets or [])
    result = _run_with_progress(
        lambda subs: _api().rerun(
            run_ref, from_step, overrides, home=home, subscribers=subs, resubmit=resubmit or ()
        )
    )
    _emit_json(result) if as_json else _print_run(result)
    _exit_for(result)


@app.command()
def show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, prefix, or 'last'.")
    ] = "last",
    list_all: Annotated[bool, typer.Option("--list", help="List recent runs instead.")] = False,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show a past run (default: the last one), or list runs."""
    from rich.table import Table

    if list_all:
        runs = _api().list_runs(home=home)
        if as_json:
            _emit_json(runs)
            return
        table = Table("run", "status", "cost", "pipeline", "re-run of")
        for r in runs:
            table.add_row(
                r["run"],
                r["status"],
                f"${r['cost_usd']:.2f}",
                r["pipeline"] or "",
                r["parent_run"] or "",
            )
        out.print(table)
        return
    result = _api().show_run(run_ref, home=home)
    _emit_json(result) if as_json else _print_run(result)


@app.command()
def lineage(
    asset: Annotated[str, typer.Argument(help="Asset id or unique prefix.")],
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Trace an asset back to its sources: op, model, provider, prompt, seed, params."""
    from rich.tree import Tree

    tree = _api().lineage(asset, home=home)
    if as_json:
        _emit_json(tree)
        return
    root = Tree(_lineage_label(tree))
    _grow(root, tree)
    out.print(root)


def _lineage_label(node: dict[str, Any]) -> str:
    if node["step"] is None:
        src = node.get("source") or "imported"
        return f"[bold]{node['asset'][:12]}[/] ← source {src}"
    bits = [
        f"[bold]{node['asset'][:12]}[/] ← {node['step']} ({node['op']}, {node['model']} @ {node['provider']})",
        f"seed {node['seed']}",
    ]
    if node.get("prompt"):
        bits.append(f"prompt {node['prompt']!r}")
    if node["params"]:
        bits.append("params " + json.dumps(node["params"], sort_keys=True))
    if node.get("seconds") is not None:
        bits.append(f"{node['seconds']:.2f}s ${node['cost_usd']:.2f}")
    return " · ".join(bits)


def _grow(branch: Tree, node: dict[str, Any]) -> None:
    for parent in node["parents"]:
        _grow(branch.add(_lineage_label(parent)), parent)


@app.command("export")
def export_cmd(
    run_ref: Annotated[str, typer.Argument(metavar="RUN")],
    dest: Annotated[Path, typer.Argument(metavar="DIR")],
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Write a run's deliverables with embedded provenance and a provenance.json sidecar."""
    sidecar = _api().export_run(run_ref, dest, home=home)
    if as_json:
        _emit_json({"dir": str(dest), "files": [d["file"] for d in sidecar["deliverables"]]})
        return
    for d in sidecar["deliverables"]:
        out.print(f"{dest / d['file']}  ← {d['asset'][:12]}")
    out.print(f"{dest / 'provenance.json'}")


credentials_app = typer.Typer(
    help="Content Credentials: the signer that signs exports.", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")


@credentials_app.command("init")
def credentials_init_cmd(
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="where to write (default ~/.config/routeyard/credentials)"),
    ] = None,
    alg: Annotated[str, typer.Option(help="es256 | es384 | ps256 | ed25519")] = "es256",
    force: Annotated[bool, typer.Option(help="replace an existing signer")] = False,
) -> None:
    """Create a local development CA and signer (untrusted outside this machine)."""
    issued = _api().credentials_init(folder, alg=alg, force=force)
    out.print(f"development CA  {issued.ca}")
    out.print(f"signer chain    {issued.signer_cert}")
    out.print(f"signer key      {issued.signer_key}  (mode 0600; never copied into the store)")
    out.print(
        f"{issued.alg}, valid until {issued.not_after:%Y-%m-%d}. Exports are now signed with it; "
        "the CA is labelled UNTRUSTED: `routeyard verify` on this machine trusts it, "
        "nobody else does. For delivery, use a certificate from a CA on the C2PA trust list "
        "(ROUTEYARD_C2PA_KEY, ROUTEYARD_C2PA_CERT)."
    )


@app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Read a file's Content Credentials, XMP marking and watermark, and its lineage
    in the store. Exit 0: signed and valid; 1: the credentials do not validate
    (the file was changed after signing); 3: no signed credentials."""
    report = _api().verify_file(file, home=home)
    if as_json:
        _emit_json(report)
    else:
        _print_verify(report)
    code = {"trusted": 0, "valid": 0, "invalid": 1}.get(report["state"], 3)
    if code:
        raise typer.Exit(code)


def _print_verify(r: dict[str, Any]) -> None:
    states = {
        "trusted": "[green]valid, signer trusted[/green]",
        "valid": "[green]valid[/green] (signature and hash binding check out; the signer is on no trust list you configured)",
        "invalid": "[red]INVALID[/red]: the file changed after it was signed, or the manifest is damaged",
        "unsigned": "[yellow]no signed Content Credentials[/yellow]",
    }
    out.print(f"{r['file']}  ({r['format']})")
    out.print(f"  C2PA       {states[r['state']]}")
    for problem in r["problems"]:
        out.print(f"             {problem}")
    m = r.get("c2pa") or {}
    if m.get("signer"):
        s = m["signer"]
        dev = (
            "  [yellow](routeyard development CA: untrusted elsewhere)[/yellow]"
            if s.get("development")
            else ""
        )
        out.print(f"  signer     {s.get('common_name')} / {s.get('issuer')} ({s.get('alg')}){dev}")
        if s.get("time"):
            out.print(f"  signed at  {s['time']}")
    for a in m.get("actions") or []:
        dst = f"  [{a['digital_source_type']}]" if a.get("digital_source_type") else ""
        out.print(f"  action     {a['action']}: {a.get('description') or ''}{dst}")
    for i in m.get("ingredients") or []:
        out.print(f"  ingredient {i['title']} ({i['relationship']}, {i.get('format')})")
    x = r.get("xmp") or {}
    if x:
        dst = x.get("Iptc4xmpExt:DigitalSourceType", "").rsplit("/", 1)[-1] or "—"
        out.print(
            f"  XMP        DigitalSourceType {dst}; AI system {x.get('Iptc4xmpExt:AISystemUsed') or '—'}; {x.get('routeyard:PromptDisclosure') or ''}"
        )
    else:
        out.print("  XMP        none")
    w = r.get("watermark")
    mark = f"id {w['id']} (z {w['z']}, scale {w['scale']})" if w else "none found"
    out.print(f"  watermark  {mark}")
    if r.get("store"):
        st = r["store"]
        out.print(
            f"  store      asset {st['asset'][:12]}: {st['steps']} steps, run {st.get('run') or '—'} ({st['home']})"
        )
    elif r.get("asset"):
        out.print(f"  store      asset {r['asset'][:12]} is not in this store")


@app.command("check")
def check_cmd(
    gate: Annotated[
        str,
        typer.Argument(
            metavar="GATE",
            # Gates are discovered: the list lives in routeyard.checks, and a wrong
            # name answers with it (`routeyard check ? x`), so help never goes stale.
            help="The gate to run (a wrong name lists every gate).",
        ),
    ],
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help="The image or clip (a series: several images)."),
    ],
    ref: Annotated[
        Path | None, typer.Option("--ref", help="Reference file (a face, a series' anchor).")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Text that must be legible (typography).")
    ] = None,
    deliver: Annotated[
        str | None,
        typer.Option("--deliver", help="Deliverable for technical: hd, fhd, 4k, print-a4, WxH."),
    ] = None,
    minimum: Annotated[
        float | None, typer.Option("--min", help="Pass threshold (default: the gate's).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the gate's PNG plot here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a file with one quality gate; exit 1 when it fails."""
    from rich.text import Text

    params = {"text": text, "deliver": deliver, "min": minimum}
    result = _api().check(gate, list(files), ref=ref, params=params, plot=plot)
    if as_json:
        _emit_json(result)
    else:
        colour = {"pass": "green", "fail": "red"}.get(result["status"], "yellow")
        score = "n/a" if result["score"] is None else f"{result['score']:.3f}"
        out.print(
            Text(f"{gate}: {score} ", style="bold")
            + Text(result["status"], style=colour)
            + Text(f" (min {result['threshold']}) — {result['message']}")
        )
        if result.get("plot"):
            out.print(f"plot: {result['plot']}")
    if result["status"] == "fail":
        raise typer.Exit(1)


models_app = typer.Typer(
    help="The model catalog and what the router learned.", rich_markup_mode=None
)
app.add_typer(models_app, name="models")


@app.command("route")
def route_cmd(
    file: Annotated[Path, typer.Argument(help="Brief or pipeline YAML file.")],
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only this stage: base, refine or motion.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show runners-up, filtered models and weights.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Route as if every provider key were set.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Choose the model for every stage of a brief, with the reason; exit 1 if one has none."""
    if stage is not None and stage not in ("base", "refine", "motion"):
        raise RouteyardError(f"--stage '{stage}' is not a stage", hint="use base, refine or motion")
    stages = _api().route(file, stage=stage, dry_run=dry_run)
    if as_json:
        _emit_json(stages)
    else:
        for s in stages:
            _print_route(s, explain)
    if any(s["chosen"] is None for s in stages):
        raise typer.Exit(1)


def _print_route(s: dict[str, Any], explain: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    head = f"[bold]{s['step']}[/] ({s['op']}, {s['stage']})"
    if s["chosen"] is None:
        out.print(f"{head}: [red]no route[/] — {s['error']}")
        return
    c = s["chosen"]
    top_price = (s["candidates"] or [{}])[0].get("price", "")
    cost = "price unknown" if top_price.startswith("unknown") else f"${c['est_cost_usd']:.2f}"
    out.print(
        f"{head} → [green]{c['model']}[/] on {c['provider']} — {cost}, ~{c['est_seconds']:g} s"
    )
    out.print(Text(f"  {c['reason']}"), highlight=False)
    if s["fallbacks"]:
        out.print(f"  fallbacks: {' → '.join(s['fallbacks'])}")
    for warning in s.get("warnings") or []:
        out.print(Text(f"  warning: {warning}", style="yellow"), highlight=False)
    if not explain:
        return
    req = s.get("requirements") or {}
    weights = ", ".join(f"{k} {v:g}" for k, v in req.get("weights", {}).items())
    out.print(f"  weights: {weights}; policy {req.get('policy')}")
    for note in req.get("notes", []):
        out.print(Text(f"  note: {note}"), highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for col in ("rank", "model", "score", "quality", "policy", "learned", "est $", "top traits"):
        table.add_column(col)
    for i, cand in enumerate(s["candidates"][:8], 1):
        top = sorted(cand["traits"].items(), key=lambda kv: -kv[1])[:3]
        est = cand["est_cost_usd"]
        table.add_row(
            str(i), cand["model"], f"{cand['score']:.3f}", f"{cand['quality']:.3f}",
            f"{cand['policy']:+.3f}", f"{cand['learned']:+.3f}",
            "?" if est is None else f"{est:.2f}",
            ", ".join(f"{k} {v:.2f}" for k, v in top),
        )  # fmt: skip
    out.print(table)
    for cand in s["candidates"][:2]:  # where the leaders' numbers come from
        out.print(f"  [bold]{cand['model']}[/] traits (value, source, date):")
        for trait, p in (cand.get("evidence") or {}).items():
            value = "unrated (0.5)" if p.get("value") is None else f"{p['value']:.2f}"
            where = p["source"] + (f" {p['date']}" if p.get("date") else "")
            out.print(Text(f"    {trait} {value} — {where}"), highlight=False)
            for e in p.get("evidence") or []:
                out.print(Text(f"      · {e['claim']} [{e['source']} {e['date'] or 'undated'}]",
                               style="dim"), highlight=False)  # fmt: skip
        out.print(Text(f"    price: {cand.get('price', '')}", style="dim"), highlight=False)
    for f in s["filtered"]:
        if f["reason"].startswith("does not serve"):
            continue
        out.print(Text(f"  filtered {f['model']}: {f['reason']}", style="dim"), highlight=False)


@app.command("plan")
def plan_cmd(
    file: Annotated[Path, typer.Argument(help="Brief or pipeline YAML file.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Route and price every step; spend nothing.")
    ] = False,
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write a brief's expanded steps as a pipeline file."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show every step's route, the estimated cost and time (needs --dry-run);
    --write FILE saves a brief's expansion as an editable pipeline."""
    from rich.table import Table
    from rich.text import Text

    if write is not None:
        written = _api().write_plan(file, write)
        out.print(f"wrote {written['steps']} steps ({written['recipe']} recipe) to {write}")
        if not dry_run:
            return
    if not dry_run:
        raise RouteyardError(
            "plan only runs as a dry run", hint="add --dry-run (or use `routeyard run`)"
        )
    plan = _api().plan_dry_run(file)
    if as_json:
        _emit_json(plan)
        return
    table = Table(title=f"plan {file} — dry run", title_justify="left")
    for col in ("step", "op", "model", "provider", "est $", "est s", "with your keys now"):
        table.add_column(col)
    for s in plan["steps"]:
        c = s["chosen"] or {}
        now = s.get("with_current_keys") or {}
        table.add_row(
            s["step"], s["op"], c.get("model", "—"), c.get("provider", ""),
            f"{c.get('est_cost_usd', 0):.2f}", f"{c.get('est_seconds', 0):g}",
            now.get("model") or "none (below)",
        )  # fmt: skip
    out.print(table)
    for s in plan["steps"]:
        if s["chosen"] is None:
            out.print(Text(f"{s['step']}: no route — {s['error']}"), highlight=False)
        elif not (s.get("with_current_keys") or {}).get("model"):
            why = s["with_current_keys"].get("error", "")
            out.print(Text(f"{s['step']} with your keys now: {why}"), highlight=False)
    budget = "" if plan["budget_usd"] is None else f" of a ${plan['budget_usd']:.2f} budget"
    out.print(f"estimated ${plan['est_cost_usd']:.2f}{budget}, ~{plan['est_seconds']:g} s")


@models_app.callback(invoke_without_command=True)
def models_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the catalog (subcommands: show ID, stats)."""
    from rich.table import Table

    if ctx.invoked_subcommand:
        return
    rows = _api().models()
    if as_json:
        _emit_json(rows)
        return
    table = Table()
    for col in ("id", "family", "ops", "price", "priced", "status", "providers"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"], r["family"], ", ".join(r["ops"]), r["price"], r["price_date"] or "",
            r["status"], ", ".join(r["providers"]),
        )  # fmt: skip
    out.print(table)
    out.print("price table age per provider:")
    for a in _api().price_ages():
        since = (
            f"synced {a['synced']}" if a["synced"]
            else f"checked by hand {a['checked_by_hand']}" if a["checked_by_hand"]
            else "never synced (`routeyard models sync`)"
        )  # fmt: skip
        stale = " [yellow](over 90 days)[/]" if a["age_days"] > 90 else ""
        out.print(f"  {a['provider']}: prices dated {a['oldest']} … {a['newest']}, oldest "
                  f"{a['age_days']} days{stale}; {since}")  # fmt: skip


@models_app.command("show")
def models_show(
    model_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False
) -> None:
    """One model: traits with their sources, limits, price, hosts and their keys."""
    from rich.text import Text

    m = _api().model(model_id)
    if as_json:
        _emit_json(m)
        return
    out.print(
        f"[bold]{m['id']}[/] — {m['name']} ({m['family']}, version {m['version']}, {m['licence']})"
    )
    out.print(f"ops: {', '.join(m['ops'])}; typical latency {m['latency_s']:g} s")
    p = m["price"]
    out.print(f"price: ${p['usd']:g} per {p['unit']} (table of {p['date']}; {p['source_text']})")
    for name, t in m["traits"].items():
        out.print(Text(f"  {name:22s} {t['value']:.2f}  [{t['source']}]"), highlight=False)
    for h in m["hosts"]:
        keys = " or ".join(m["credentials"].get(h["provider"], [])) or "none"
        eps = ", ".join(f"{op}: {ep}" for op, ep in h["endpoints"].items())
        out.print(Text(f"  host {h['provider']} ({eps}) — key: {keys}"), highlight=False)


@models_app.command("sync")
def models_sync(
    as_json: JsonOpt = False,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report only; write nothing."),
) -> None:
    """Refresh prices and availability from the providers' listing APIs.

    Writes the user's catalog overlay (ROUTEYARD_CATALOG_OVERLAY, default
    ~/.config/routeyard/catalog.yaml), never the package."""
    from routeyard import api

    report = api.models_sync(write=not dry_run)
    if as_json:
        _emit_json(report)
        return
    for p in report["providers"]:
        head = f"{p['provider']} ({p['listing']})"
        if p["error"]:
            typer.echo(f"{head}: listing failed: {p['error']} (nothing marked missing)")
            continue
        typer.echo(f"{head}: {len(p['prices'])} price(s) moved, {len(p['vanished'])} missing, "
                   f"{len(p['new'])} new endpoint(s)")  # fmt: skip
        for key, label in (("prices", "price"), ("vanished", "missing"), ("back", "back"),
                           ("odd", "note")):  # fmt: skip
            for line in p[key]:
                typer.echo(f"  {label}: {line}")
        for line in p["new"][:20]:
            typer.echo(f"  new: {line}")
        if len(p["new"]) > 20:
            typer.echo(f"  … and {len(p['new']) - 20} more new (see --json)")
    for m in report["manual"]:
        typer.echo(f"{m['provider']}: {m['note']}")
    typer.echo(("would write " if dry_run else "wrote ") + report["overlay"])


@models_app.command("stats")
def models_stats(as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """What the router learned: gate pass rates per model, stage and brief tag."""
    from rich.table import Table

    rows = _api().model_stats(home=home)
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        out.print("no outcomes recorded yet: gates record them as plans run")
        return
    table = Table()
    for col in (
        "model",
        "stage",
        "tag",
        "outcomes",
        "passed",
        "prior",
        "posterior",
        "90% interval",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["model"], r["stage"], r["tag"], str(r["outcomes"]), str(r["passed"]),
            f"{r['prior_mean']:.2f}", f"{r['posterior_mean']:.2f}",
            f"{r['ci90'][0]:.2f}–{r['ci90'][1]:.2f}",
        )  # fmt: skip
    out.print(table)


@store_app.command("verify")
def store_verify(as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """Re-hash every blob; report corrupt, missing and orphaned blobs."""
    report = _api().verify_store(home=home)
    if as_json:
        _emit_json(
            {
                "checked": report.checked,
                "ok": report.ok,
                "corrupt": report.corrupt,
                "missing": report.missing,
                "orphans": report.orphans,
            }
        )
    else:
        out.print(
            f"checked {report.checked} assets: {len(report.corrupt)} corrupt, "
            f"{len(report.missing)} missing, {len(report.orphans)} orphan blobs"
        )
        for d in report.corrupt:
            out.print(f"[red]corrupt[/] {d}")
        for d in report.missing:
            out.print(f"[red]missing[/] {d}")
    if not report.ok:
        raise typer.Exit(1)


_UNIT = {"video_second": "s", "megapixel": "MP", "image": "img"}


@app.command("costs")
def costs_cmd(
    run_ref: Annotated[
        str | None, typer.Argument(help="a run id (or prefix); all runs when left out")
    ] = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """What hosted jobs cost, in each provider's billing unit, estimated and actual."""
    from rich.table import Table

    report = _api().costs(run_ref, home=home)
    if as_json:
        _emit_json(report)
        return
    if not report["jobs"]:
        out.print("no hosted jobs recorded" + (f" in run {report['run']}" if report["run"] else ""))
        return
    table = Table(title=f"costs — run {report['run']}" if report["run"] else "costs — all runs")
    cols = ["step", "provider", "model", "job", "status", "billed", "estimated", "cost"]
    for col in cols if report["run"] else ["run", *cols]:
        table.add_column(col)
    for j in report["jobs"]:
        billed = (
            f"{j['quantity']:g} {_UNIT.get(j['unit'], j['unit'])} × ${j['usd_per_unit']:g}"
            if j["quantity"] is not None
            else (j["unit"] or "")
        )
        est = "" if j["estimated_usd"] is None else f"${j['estimated_usd']:.4f}"
        cost = "" if j["cost_usd"] is None else f"${j['cost_usd']:.4f}"
        if j.get("may_be_billed"):
            cost = "may be billed"
        row = [
            j["step"],
            j["provider"],
            j["model"],
            j["job_id"][:16],
            j["status"],
            billed,
            est,
            cost,
        ]
        table.add_row(*(row if report["run"] else [j["run"][:8], *row]))
    out.print(table)
    by = ", ".join(f"{p} ${v:.4f}" for p, v in report["by_provider"].items())
    out.print(
        f"total ${report['total_usd']:.4f} (estimated ${report['estimated_usd']:.4f})"
        + (f" — {by}" if by else "")
    )
    if report.get("may_be_billed_usd"):
        out.print(
            f"possibly billed: ${report['may_be_billed_usd']:.4f} for requests whose answer was "
            "lost; check the provider's dashboard (then `routeyard run … --resubmit STEP`)"
        )


@providers_app.command("check")
def providers_check_cmd(as_json: JsonOpt = False) -> None:
    """Which providers have keys and answer a cheap authenticated call (spends nothing)."""
    from rich.table import Table
    from rich.text import Text

    rows = _api().providers_check()
    if as_json:
        _emit_json(rows)
    else:
        table = Table()
        for col in ("provider", "configured", "reachable", "base URL", "detail"):
            table.add_column(col)
        for r in rows:
            reach = {True: "[green]yes[/]", False: "[red]no[/]", None: "–"}[r["reachable"]]
            table.add_row(
                r["provider"],
                f"yes ({r['source']})" if r["configured"] else "no",
                reach,
                r["base_url"],
                Text(r["detail"]),
            )
        out.print(table)
        changes = _api().status_changes()
        if changes:
            out.print("models whose status changed since the catalog's date:")
            for c in changes:
                out.print(Text(f"  {c['model']}: {c['detail']}"), highlight=False)
    if any(r["configured"] and r["reachable"] is False for r in rows):
        raise typer.Exit(1)


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback needs ROUTEYARD_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    root: Annotated[
        Path | None,
        typer.Option(
            help="Folder whose pipeline files the studio lists and may read (default: here)."
        ),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """The web studio and HTTP API: runs, gallery, lineage, masks, variants, review."""
    from routeyard.server import serve
    from routeyard.server.app import check_port

    check_port(host, port)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    err.print(f"routeyard studio on {url} (API docs {url}docs) — Ctrl-C stops", highlight=False)
    serve(host=host, port=port, home=home, root=root)


def main(argv: list[str] | None = None) -> None:
    """Entry point. Typer reports usage errors and exit codes itself (standalone
    mode); routeyard's own errors are printed here as one line plus a hint."""
    from rich.text import Text

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="routeyard", standalone_mode=True)
    except RouteyardError as exc:
        # The message is plain text: "[x0, y0, x1, y1]" must not be read as Rich markup.
        err.print(Text("error: ", style="red") + Text(exc.message), highlight=False, soft_wrap=True)
        if exc.hint:
            err.print(Text(f"hint: {exc.hint}"), highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
