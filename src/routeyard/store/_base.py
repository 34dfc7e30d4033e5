"""The catalog contract: what the engine, CLI and studio may ask of the store.

One implementation today (``_sql.SqlCatalog``, SQLAlchemy Core: SQLite by
default, PostgreSQL by URL). Callers depend on this interface only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from routeyard.records import (
    AssetQuery,
    AssetRecord,
    AssetRow,
    NewAsset,
    RunRecord,
    StepRecord,
)


class Catalog(ABC):
    # runs
    @abstractmethod
    def create_run(
        self,
        *,
        run_id: str,
        pipeline_path: str | None,
        base_dir: str,
        pipeline_text: str,
        overrides: dict[str, Any],
        parent_run_id: str | None,
        rerun_from: str | None,
        budget_usd: float | None,
        pid: int,
    ) -> None: ...

    @abstractmethod
    def finish_run(
        self, run_id: str, *, status: str, cost_usd: float, error: str | None
    ) -> None: ...

    @abstractmethod
    def mark_interrupted(self) -> list[str]:
        """Runs left 'running' by a process that died: mark them (and their steps) interrupted."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord: ...

    @abstractmethod
    def resolve_run(self, ref: str) -> str:
        """A full run id from an id, a unique prefix, or 'last'."""

    @abstractmethod
    def list_runs(self, limit: int = 50) -> list[RunRecord]: ...

    # steps
    @abstractmethod
    def start_step(
        self, run_id: str, node: str, step: str, position: int, **fields: Any
    ) -> int: ...

    @abstractmethod
    def update_step(self, step_id: int, **fields: Any) -> None: ...

    @abstractmethod
    def complete_step(
        self,
        step_id: int,
        *,
        outputs: Sequence[NewAsset],
        inputs: Sequence[str],
        cache_key: str | None,
        **fields: Any,
    ) -> None:
        """Record outputs, lineage edges and the cache entry in one transaction."""

    @abstractmethod
    def record_cached(
        self,
        run_id: str,
        node: str,
        step: str,
        position: int,
        *,
        cached_from: int,
        outputs: Sequence[str],
        **fields: Any,
    ) -> int: ...

    @abstractmethod
    def find_cached(self, cache_key: str) -> tuple[int, list[str]] | None: ...

    @abstractmethod
    def get_step(self, step_id: int) -> StepRecord: ...

    @abstractmethod
    def producer_of(self, asset_id: str) -> StepRecord | None:
        """The step that first computed this asset (None for assets with no producer)."""

    # assets
    @abstractmethod
    def add_asset(self, asset: NewAsset) -> None: ...

    @abstractmethod
    def get_asset(self, asset_id: str) -> AssetRecord: ...

    @abstractmethod
    def resolve_asset(self, ref: str) -> str: ...

    @abstractmethod
    def all_asset_ids(self) -> list[str]: ...

    # routes, jobs, gates, events
    @abstractmethod
    def record_route(self, step_id: int, decision: dict[str, Any]) -> None: ...

    @abstractmethod
    def get_route(self, step_id: int) -> dict[str, Any] | None: ...

    @abstractmethod
    def record_job(
        self,
        *,
        step_id: int | None,
        cache_key: str | None,
        provider: str,
        model: str | None,
        job_id: str,
        status: str,
        cost_usd: float | None = None,
        meta: dict | None = None,
    ) -> None: ...

    @abstractmethod
    def update_job(self, provider: str, job_id: str, /, **fields: Any) -> None:
        """Change a job's row; ``job_id=`` among ``fields`` renames it (a pending
        submission learning the id the provider gave its job)."""

    @abstractmethod
    def jobs_for_cache_key(self, cache_key: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def jobs(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Provider jobs with their run and step, oldest first (the cost ledger)."""

    @abstractmethod
    def record_gate(self, **fields: Any) -> None: ...

    @abstractmethod
    def gate_scores(self, asset_ids: Sequence[str], gate: str) -> dict[str, float]: ...

    @abstractmethod
    def gate_outcomes(
        self,
        *,
        step_ids: Sequence[int] | None = None,
        asset_id: str | None = None,
        gate: str | None = None,
    ) -> list[dict[str, Any]]:
        """Recorded gate results, oldest first, filtered by step rows, asset and gate."""

    @abstractmethod
    def add_outcome(self, **fields: Any) -> None:
        """An outcome reported outside a plan (model, stage, tags, gate, score, passed)."""

    @abstractmethod
    def learning_outcomes(self, versions: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every outcome the router learns from, gate results and reported ones, oldest first:
        ``model``, ``stage``, ``tags``, ``passed``, ``created_at``. With ``versions``
        (gate → current version), gate results of any other version are left out."""

    @abstractmethod
    def add_events(self, rows: Sequence[dict[str, Any]]) -> None: ...

    @abstractmethod
    def run_events(self, run_id: str) -> list[dict[str, Any]]: ...

    # studio
    @abstractmethod
    def find_assets(self, query: AssetQuery) -> tuple[list[AssetRow], int]:
        """A page of step outputs matching ``query``, newest first, and the total count."""

    @abstractmethod
    def derived(self, source_id: str, kind: str) -> str | None:
        """The asset made from ``source_id`` for ``kind`` (a thumbnail…), if made before."""

    @abstractmethod
    def set_derived(self, source_id: str, kind: str, asset: NewAsset) -> None:
        """Record ``asset`` (already in the blob tree) as ``source_id``'s ``kind``."""

    @abstractmethod
    def add_annotation(self, asset_id: str, *, frame: int | None, label: str, note: str) -> int: ...

    @abstractmethod
    def annotations(self, asset_id: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def delete_annotation(self, asset_id: str, annotation_id: int) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...
