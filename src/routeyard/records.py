"""Records the catalog hands out: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AssetRecord:
    id: str
    kind: str
    mime: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    fps: float | None = None
    duration: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    def facts(self) -> dict[str, Any]:
        keys = ("kind", "mime", "size_bytes", "width", "height", "frames", "fps", "duration")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class StepRecord:
    id: int
    run_id: str
    node: str
    step: str
    position: int
    op: str
    model: str | None
    model_version: str | None
    provider: str | None
    status: str
    cache_key: str | None
    cached_from: int | None
    seed: int | None
    params: dict[str, Any]
    inputs: list[str]
    prompt: str | None
    attempts: int
    cost_usd: float
    started_at: float | None
    finished_at: float | None
    seconds: float | None
    error: str | None
    warnings: list[str]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    id: str
    status: str
    pipeline_path: str | None
    base_dir: str
    pipeline_text: str
    overrides: dict[str, Any]
    parent_run_id: str | None
    rerun_from: str | None
    budget_usd: float | None
    cost_usd: float
    pid: int | None
    created_at: float
    finished_at: float | None
    error: str | None
    steps: tuple[StepRecord, ...] = ()


@dataclass(frozen=True)
class NewAsset:
    """An output about to be recorded: its digest is already in the blob tree."""

    id: str
    kind: str
    mime: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    fps: float | None = None
    duration: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssetQuery:
    """The gallery's filters; ``None`` means "any". ``ops`` and ``models`` are
    lists because a stage is several ops and a family several models."""

    run_id: str | None = None
    step: str | None = None
    ops: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    kind: str | None = None
    gate: str | None = None  # "pass" | "fail" | "none"
    text: str | None = None  # searched in prompts and parameters
    offset: int = 0
    limit: int = 60


@dataclass(frozen=True)
class AssetRow:
    """One gallery tile: the asset and the step that made it."""

    asset: AssetRecord
    step: StepRecord
    gates: dict[str, bool] = field(default_factory=dict)  # gate -> passed (latest)
