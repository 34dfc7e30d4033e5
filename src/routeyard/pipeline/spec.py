"""Parse and validate a pipeline file into a ``PipelineSpec``.

Every error names the file, the line and the step at fault and says what to
change: ``pipeline.yaml:14: step 'motion' reads from 'hero', which is not
defined``. Validation is complete before anything runs or is stored.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from routeyard import ops
from routeyard.brief import Brief
from routeyard.errors import PipelineError

RESERVED = ("op", "input", "model", "seed", "variants", "gate", "retries")
TOP_LEVEL = ("brief", "steps")


ON_FAIL = ("fail", "reroute", "keep_best", "repair: <op>")


class GateSpec(BaseModel):
    """``gate: {check, min, on_fail, max_attempts, params}`` on a step.

    ``on_fail`` is ``fail`` (the default), ``reroute`` (the next model in the
    route's chain), ``keep_best`` (of a fan-out's branches) or a repair:
    ``"repair: depth_cues"`` or ``{repair: depth_cues, <param>: …}``.
    """

    model_config = ConfigDict(extra="forbid")
    check: str
    min: float | None = Field(default=None, ge=0, le=1)
    on_fail: str | dict[str, Any] = "fail"
    max_attempts: int = Field(default=2, ge=1, le=10)  # repairs (or reroutes) at most
    params: dict[str, Any] = Field(default_factory=dict)  # the check's own parameters

    @property
    def action(self) -> str:
        if isinstance(self.on_fail, dict):
            return "repair"
        return "repair" if self.on_fail.startswith("repair") else self.on_fail

    @property
    def repair(self) -> tuple[str, dict[str, Any]] | None:
        if isinstance(self.on_fail, dict):
            rest = {k: v for k, v in self.on_fail.items() if k != "repair"}
            return str(self.on_fail.get("repair")), rest
        if self.on_fail.startswith("repair"):
            return self.on_fail.partition(":")[2].strip(), {}
        return None


@dataclass(frozen=True)
class StepSpec:
    name: str
    op: str
    inputs: tuple[str, ...]
    model: str = "auto"
    seed: int | str | None = None  # an int, "random", or None (drawn and recorded)
    variants: dict[str, list[Any]] = field(default_factory=dict)
    gate: GateSpec | None = None
    retries: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class PipelineSpec:
    source: str  # the file name used in messages
    base_dir: Path
    text: str
    brief: Brief | None
    steps: dict[str, StepSpec]

    def descendants(self, name: str) -> set[str]:
        """``name`` and every step that reads from it, directly or not."""
        readers: dict[str, set[str]] = {s: set() for s in self.steps}
        for step in self.steps.values():
            for src in step.inputs:
                readers[src].add(step.name)
        out, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in out:
                out.add(current)
                todo.extend(readers[current])
        return out

    def order(self) -> list[str]:
        """Step names in a topological order (file order among independent steps)."""
        return _topological(self)


def read_file(path: str | Path, what: str = "pipeline file") -> str:
    """A pipeline or brief file's text, or one clear line saying why not."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{p}: {what} not found", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{p}: cannot read the {what} ({exc})") from None


def read_document(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The one place a pipeline or brief document's YAML is parsed: its data,
    and its node tree (for line numbers in messages), or one clear error."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise PipelineError(
            f"{source}: {len(text) // 1024} KiB is too long for a pipeline",
            hint=f"pipelines are a few KiB; the limit is {MAX_DOCUMENT_CHARS // 1024} KiB",
        )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_DOCUMENT_NODES:
            raise PipelineError(
                f"{source}: its anchors and aliases expand to more than "
                f"{MAX_DOCUMENT_NODES:,} values",
                hint="a YAML alias bomb? pipelines are a few dozen steps",
            )
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise PipelineError(
            f"{where}: invalid YAML: {problem}", hint="check indentation and quoting"
        ) from None
    finally:
        loader.dispose()


# What a pipeline can be: a few KiB of YAML, a few dozen steps. Aliases are
# counted as what they expand to, so a billion-laughs document is refused
# before anything walks it.
MAX_DOCUMENT_CHARS = 1 << 20
MAX_DOCUMENT_NODES = 100_000


def _expanded_size(root: yaml.Node) -> int:
    """How many values the node tree stands for with every alias expanded
    (shared subtrees are sized once, so this is linear in the document)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # being sized: a recursive alias counts once, not for ever
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: deep documents do not hit the recursion limit
        node, children_done = stack.pop()
        if id(node) in sizes or (not children_done and id(node) in open_):
            continue
        if not children_done:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in _children(node))
        sizes[id(node)] = min(total, MAX_DOCUMENT_NODES + 1)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_file(
    path: str | Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    check_files: bool = True,
) -> PipelineSpec:
    p = Path(path)
    return parse(
        read_file(p),
        source=str(p),
        base_dir=p.resolve().parent,
        overrides=overrides,
        check_files=check_files,
    )


def parse(
    text: str,
    *,
    source: str = "<pipeline>",
    base_dir: Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    check_files: bool = True,
) -> PipelineSpec:
    """Parse YAML text into a validated spec. ``overrides`` maps step → {key: value}.

    ``check_files=False`` leaves whether named files exist to the caller: the
    studio first confines them (``PathGuard``), so its answers never tell a
    caller which files exist outside its folders."""
    base = (base_dir or Path.cwd()).resolve()
    data, node = read_document(text, source)
    if not isinstance(data, dict) or node is None:
        raise PipelineError(
            f"{source}:1: a pipeline is a mapping with 'steps:' (and optional 'brief:')"
        )
    lines = _LineMap(node, source)
    for key in data:
        if key not in TOP_LEVEL:
            raise PipelineError(
                f"{lines.at((key,))}: unknown top-level key '{key}'",
                hint="use 'brief:' and 'steps:'",
            )
    brief = _parse_brief(data.get("brief"), lines)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        raise PipelineError(
            f"{lines.at(('steps',))}: 'steps:' must be a non-empty mapping of step name → step"
        )
    for name, changes in (overrides or {}).items():
        if name not in raw_steps:
            raise PipelineError(f"{source}: cannot override step '{name}': it is not defined")
        raw_steps[name] = {**raw_steps[name], **changes}
    steps = {
        str(name): _parse_step(str(name), raw, lines, base, check_files)
        for name, raw in raw_steps.items()
    }
    spec = PipelineSpec(source=source, base_dir=base, text=text, brief=brief, steps=steps)
    _check_inputs(spec, lines)
    _topological(spec, lines)
    return spec


def step_tables(text: str) -> dict[str, dict]:
    """The raw step mappings of a pipeline text already parsed once (for edits)."""
    data, _ = read_document(text, "<pipeline>")
    steps = (data or {}).get("steps") if isinstance(data, dict) else None
    return {k: v for k, v in (steps or {}).items() if isinstance(v, dict)}


class _LineMap:
    """Line numbers for YAML paths such as ('steps', 'hero', 'scale')."""

    def __init__(self, root: yaml.Node, source: str) -> None:
        self.source = source
        self.lines: dict[tuple, int] = {}
        self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen and path == ("steps",):
                    raise PipelineError(
                        f"{self.source}:{line}: step '{key}' is defined twice "
                        f"(first on line {seen[key]})",
                        hint="give each step a unique name",
                    )
                seen[key] = line
                self._walk(value_node, (*path, key))
                self.lines[(*path, key)] = line
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i))

    def at(self, path: tuple) -> str:
        while path and path not in self.lines:
            path = path[:-1]
        return f"{self.source}:{self.lines.get(path, 1)}"


def _parse_brief(raw: Any, lines: _LineMap) -> Brief | None:
    if raw is None:
        return None
    try:
        return Brief.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(p) for p in err["loc"])
        field_name = ".".join(loc) or "brief"
        hint = None
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc[-1], list(Brief.model_fields), n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"known fields: {', '.join(Brief.model_fields)}"
            )
        raise PipelineError(
            f"{lines.at(('brief', *loc))}: brief field '{field_name}': {err['msg']}", hint=hint
        ) from None


def _parse_step(
    name: str, raw: Any, lines: _LineMap, base_dir: Path, check_files: bool = True
) -> StepSpec:
    where = lines.at(("steps", name))
    if not isinstance(raw, dict):
        raise PipelineError(f"{where}: step '{name}' must be a mapping with at least 'op:'")
    if "[" in name or "]" in name:
        raise PipelineError(
            f"{where}: step name '{name}' may not contain brackets",
            hint="brackets mark variant branches",
        )
    op = _step_op(name, raw, lines)
    inputs = _step_inputs(name, raw, lines)
    model, seed, retries, variants = _step_fields(name, raw, lines)
    gate = _parse_gate(name, raw["gate"], lines) if raw.get("gate") is not None else None
    if gate is not None and check_files:
        _check_gate_files(name, gate, lines, base_dir)
    params = {k: v for k, v in raw.items() if k not in RESERVED}
    _check_arity(name, op, len(inputs), where)
    _check_params(name, op, params, variants, lines, base_dir if check_files else None)
    return StepSpec(
        name=name,
        op=op.name,
        inputs=tuple(inputs),
        model=model,
        seed=seed,
        variants=variants,
        gate=gate,
        retries=retries,
        params=params,
        line=lines.lines.get(("steps", name), 0),
    )


def _step_op(name: str, raw: dict, lines: _LineMap) -> ops.Op:
    op_name = raw.get("op")
    if not isinstance(op_name, str):
        raise PipelineError(
            f"{lines.at(('steps', name))}: step '{name}' has no 'op:'",
            hint=f"known ops: {', '.join(ops.known_ops())}",
        )
    op = ops.get_op(op_name)
    if op is None:
        close = ops.suggest(op_name)
        hint = f"did you mean '{close}'?" if close else f"known ops: {', '.join(ops.known_ops())}"
        raise PipelineError(
            f"{lines.at(('steps', name, 'op'))}: step '{name}': unknown op '{op_name}'", hint=hint
        )
    return op


def _step_inputs(name: str, raw: dict, lines: _LineMap) -> list[str]:
    inputs = raw.get("input", [])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise PipelineError(
            f"{lines.at(('steps', name, 'input'))}: step '{name}': "
            "'input' must be a step name or a list of them"
        )
    return inputs


def _step_fields(name: str, raw: dict, lines: _LineMap) -> tuple[str, Any, Any, dict]:
    """``model``, ``seed``, ``retries`` and ``variants``, each checked."""

    def bad(key: str, what: str, hint: str | None = None) -> PipelineError:
        return PipelineError(f"{lines.at(('steps', name, key))}: step '{name}': {what}", hint=hint)

    model = raw.get("model", "auto")
    if not isinstance(model, str):
        raise bad("model", "'model' must be 'auto' or a model id")
    seed = raw.get("seed")
    natural = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    if seed is not None and not natural and seed != "random":
        raise bad("seed", "'seed' must be a non-negative integer or 'random'")
    retries = raw.get("retries")
    if retries is not None and not (isinstance(retries, int) and 0 <= retries <= 20):
        raise bad("retries", "'retries' must be an integer 0..20")
    variants = raw.get("variants") or {}
    if not isinstance(variants, dict) or not all(
        isinstance(v, list) and v for v in variants.values()
    ):
        raise bad(
            "variants",
            "'variants' maps a parameter to a non-empty list of values",
            hint="e.g. variants: {camera: [dolly-in, orbit]}",
        )
    for key in variants:
        if key in RESERVED:
            raise PipelineError(
                f"{lines.at(('steps', name, 'variants', key))}: step '{name}': "
                f"cannot vary reserved key '{key}'"
            )
    return model, seed, retries, variants


def _parse_gate(name: str, raw: Any, lines: _LineMap) -> GateSpec:
    where = lines.at(("steps", name, "gate"))
    try:
        gate = GateSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PipelineError(
            f"{where}: step '{name}', gate: {'.'.join(map(str, err['loc']))}: {err['msg']}"
        ) from None
    check = ops.get_op(f"check.{gate.check}")
    if check is None:
        known = [o[6:] for o in ops.known_ops() if o.startswith("check.")]
        raise PipelineError(
            f"{where}: step '{name}': unknown gate '{gate.check}'",
            hint=f"gates: {', '.join(known)}",
        )
    if gate.action not in ("fail", "reroute", "keep_best", "repair"):
        raise PipelineError(
            f"{where}: step '{name}': gate on_fail '{gate.on_fail}' is not one of "
            f"{', '.join(ON_FAIL)}"
        )
    if gate.repair is not None and ops.get_op(gate.repair[0]) is None:
        raise PipelineError(
            f"{where}: step '{name}': gate repair op '{gate.repair[0]}' is unknown",
            hint="e.g. on_fail: 'repair: depth_cues' or {repair: stabilize_background}",
        )
    try:
        check.Params.model_validate(gate.params)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PipelineError(
            f"{where}: step '{name}', gate params: {'.'.join(map(str, err['loc']))}: {err['msg']}"
        ) from None
    return gate


def _check_arity(name: str, op: ops.Op, n: int, where: str) -> None:
    if n >= op.min_inputs and (op.max_inputs is None or n <= op.max_inputs):
        return
    if op.min_inputs == op.max_inputs:
        want = f"exactly {op.min_inputs}"
    elif op.max_inputs is None:
        want = f"at least {op.min_inputs}"
    else:
        want = f"{op.min_inputs} to {op.max_inputs}"
    raise PipelineError(
        f"{where}: step '{name}': op '{op.name}' takes {want} input(s), got {n}",
        hint="set 'input:' to the step(s) it reads from" if n < op.min_inputs else None,
    )


def _check_params(
    name: str, op: ops.Op, params: dict, variants: dict, lines: _LineMap, base_dir: Path | None
) -> None:
    """Every combination of the variants validates, and every file it names
    exists (under ``base_dir``; None: not checked here)."""
    combos = [
        dict(zip(variants, vals, strict=True)) for vals in itertools.product(*variants.values())
    ] or [{}]
    for combo in combos:
        try:
            validated = op.Params.model_validate({**params, **combo})
        except ValidationError as exc:
            raise _param_error(name, op, exc.errors()[0], combo, lines) from None
        if base_dir is None:
            continue
        for pname, path in op.file_paths(validated, base_dir).items():
            if not path.is_file():
                raise PipelineError(
                    f"{lines.at(('steps', name, pname))}: step '{name}', parameter '{pname}': "
                    f"file {path} not found",
                    hint="paths are relative to the pipeline file's folder",
                )


def _check_gate_files(name: str, gate: GateSpec, lines: _LineMap, base_dir: Path) -> None:
    """A gate's reference and its repair's files exist before anything runs
    (a missing face reference would otherwise fail the run halfway)."""
    named = {}
    if gate.params.get("ref") is not None:
        named["gate params.ref"] = str(gate.params["ref"])
    if gate.repair is not None:
        op = ops.get_op(gate.repair[0])
        for pname in op.file_params:
            if gate.repair[1].get(pname) is not None:
                named[f"gate repair parameter '{pname}'"] = str(gate.repair[1][pname])
    for what, value in named.items():
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise PipelineError(
                f"{lines.at(('steps', name, 'gate'))}: step '{name}', {what}: file {path} not found",
                hint="paths are relative to the pipeline file's folder",
            )


def _param_error(name: str, op: ops.Op, err: dict, combo: dict, lines: _LineMap) -> PipelineError:
    pname = str(err["loc"][0]) if err["loc"] else "(parameters)"
    path = ("steps", name, "variants", pname) if pname in combo else ("steps", name, pname)
    hint = None
    if err["type"] == "extra_forbidden":
        fields = list(op.Params.model_fields)
        close = difflib.get_close_matches(pname, fields, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"'{op.name}' takes: {', '.join(fields) or 'no parameters'}"
        )
        msg = f"unknown parameter '{pname}'"
    else:
        got = err.get("input")
        msg = f"parameter '{pname}': {err['msg']}" + (
            f" (got {got!r})" if not isinstance(got, dict) else ""
        )
    return PipelineError(f"{lines.at(path)}: step '{name}': {msg}", hint=hint)


def _check_inputs(spec: PipelineSpec, lines: _LineMap) -> None:
    for step in spec.steps.values():
        for src in step.inputs:
            if src not in spec.steps:
                close = difflib.get_close_matches(src, list(spec.steps), n=1)
                raise PipelineError(
                    f"{lines.at(('steps', step.name, 'input'))}: step '{step.name}' reads from '{src}', which is not defined",
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else f"defined steps: {', '.join(spec.steps)}",
                )
            if src == step.name:
                raise PipelineError(
                    f"{lines.at(('steps', step.name, 'input'))}: step '{step.name}' reads from itself"
                )


def _topological(spec: PipelineSpec, lines: _LineMap | None = None) -> list[str]:
    """Kahn's algorithm (iterative: chains of thousands of steps are fine)."""
    indegree = {name: len(set(step.inputs)) for name, step in spec.steps.items()}
    readers: dict[str, list[str]] = {name: [] for name in spec.steps}
    for step in spec.steps.values():
        for src in dict.fromkeys(step.inputs):
            readers[src].append(step.name)
    ready = [name for name, d in indegree.items() if d == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0) if len(ready) < 64 else ready.pop()
        order.append(name)
        for reader in readers[name]:
            indegree[reader] -= 1
            if indegree[reader] == 0:
                ready.append(reader)
    if len(order) == len(spec.steps):
        return order
    # Walk back along inputs from a leftover step until a step repeats: that is a cycle.
    left = {n for n, d in indegree.items() if d > 0}
    path: list[str] = []
    current = next(n for n in spec.steps if n in left)
    while current not in path:
        path.append(current)
        current = next(src for src in spec.steps[current].inputs if src in left)
    cycle = [*path[path.index(current) :], current][::-1]
    where = lines.at(("steps", cycle[0])) if lines else spec.source
    raise PipelineError(
        f"{where}: steps {' → '.join(repr(c) for c in cycle)} form a cycle",
        hint="a step cannot depend on its own output",
    )
