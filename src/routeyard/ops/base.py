"""The one op interface: typed parameters in, assets out.

An op is a class registered by name. It declares its stage, a version (bump
it when the algorithm's output changes, so cached results are not reused),
a pydantic ``Params`` model, how many inputs it takes, which parameters are
files (hashed into the cache key and recorded as lineage parents), and
whether it aggregates a fan-out (``select``, ``export``) instead of being
mapped over each branch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from routeyard.errors import OpInputError
from routeyard.records import AssetRecord

if TYPE_CHECKING:  # the contract only: ops never import the store's implementation
    from routeyard.store import Catalog

__all__ = ["InputAsset", "Op", "OpContext", "OpInputError", "OpParams", "Output", "register"]


class OpParams(BaseModel):
    """Base for op parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class InputAsset:
    id: str
    path: Path
    record: AssetRecord


@dataclass(frozen=True)
class Output:
    """One result of an op: new bytes, a file to move into the store, or an existing asset."""

    data: bytes | None = None
    path: Path | None = None
    existing: str | None = None
    mime_hint: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class OpContext:
    """What an op may use while it runs: no store internals, only this."""

    run_id: str
    node: str
    step: str
    seed: int
    base_dir: Path
    files: dict[str, InputAsset]
    work_dir: Path
    report_progress: Callable[[float], None]
    asset_path: Callable[[str], Path]
    # Read-only use, and only from ops with ``threaded = False``: the catalog
    # connection belongs to the engine's thread.
    catalog: Catalog
    warnings: list[str] = field(default_factory=list)
    # Credential values to mask in anything the op writes outside the store.
    secrets: tuple[str, ...] = ()
    # Results of ``check.*`` ops, recorded by the engine against the checked assets.
    gate_results: list[dict[str, Any]] = field(default_factory=list)

    def scratch(self, name: str) -> Path:
        """A path for a file the op writes and returns as ``Output(path=...)``.

        Large results (videos) are streamed to disk rather than held in memory;
        the folder is the run's and is removed when the run ends.
        """
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir / name

    def warn(self, message: str) -> None:
        """Record a warning on the step (e.g. a parameter the model ignores)."""
        self.warnings.append(message)


class Op(ABC):
    name: ClassVar[str]
    stage: ClassVar[str]
    version: ClassVar[str] = "1"
    Params: ClassVar[type[OpParams]] = OpParams
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    aggregates: ClassVar[bool] = False
    file_params: ClassVar[tuple[str, ...]] = ()
    # Ops that read the catalog (lineage, scores) run on the engine's thread;
    # CPU-heavy ops run in a worker thread so waiting steps keep moving.
    threaded: ClassVar[bool] = True
    # An op with effects outside the store (files in a folder) re-checks them
    # before a cache hit is trusted.
    has_side_effects: ClassVar[bool] = False
    # False for ops only hosted models perform (text-to-image, instruction
    # edits): they have no ``local/<op>`` entry in the model catalog.
    runs_locally: ClassVar[bool] = True
    # The kind of asset the op makes ("image", "video"); a provider that
    # returns another kind has failed, whatever its status said.
    produces: ClassVar[str | None] = None
    # The op changes only a region of its image (a ``mask`` file, a box or a
    # polygon): hosted adapters send that region as a mask, the studio offers
    # its mask editor.
    edits_region: ClassVar[bool] = False

    @classmethod
    def masked(cls, name: str) -> bool:
        """Whether the op called ``name`` edits a masked region."""
        from routeyard.ops import get_op

        op = get_op(name)
        return op is not None and op.edits_region

    def file_paths(self, params: OpParams, base_dir: Path) -> dict[str, Path]:
        """The files this step reads, resolved against the pipeline's folder."""
        out: dict[str, Path] = {}
        for name in self.file_params:
            value = getattr(params, name, None)
            if value is not None:
                out[name] = _resolve(base_dir, str(value))
        return out

    def write_paths(self, params: OpParams, base_dir: Path) -> dict[str, Path]:
        """The folders or files this step writes outside the store (an export's folder),
        so a server can refuse a pipeline that would write where it must not."""
        return {}

    def still_valid(self, params: OpParams, outputs: list[str], ctx: OpContext) -> bool:
        """For side-effecting ops: are a cached result's effects still in place?"""
        return True

    @abstractmethod
    def run(self, ctx: OpContext, inputs: list[InputAsset], params: OpParams) -> list[Output]: ...


def _resolve(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base_dir / p)


# Every op by name. Filled by ``register`` as op modules are imported; read
# through ``routeyard.ops.get_op``, which first imports the built-in op modules
# and the plugins.
REGISTRY: dict[str, Op] = {}


def register(op_cls: type[Op]) -> type[Op]:
    """Class decorator: make an op available to pipelines under ``op_cls.name``."""
    REGISTRY[op_cls.name] = op_cls()
    return op_cls
