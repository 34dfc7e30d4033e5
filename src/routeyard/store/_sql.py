"""The catalog over SQLAlchemy Core: SQLite (WAL) embedded, PostgreSQL by URL.

All writes for one finished step (its assets, outputs, lineage edges, cache
entry and status) commit in a single transaction, so a crash leaves either
the whole result or none of it. SQLite runs in WAL mode with
``synchronous=NORMAL``: a committed step survives a killed process, and
readers (the CLI's ``show``, the studio) never block the engine.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from routeyard.errors import NotFoundError, StoreError
from routeyard.records import (
    AssetQuery,
    AssetRecord,
    AssetRow,
    NewAsset,
    RunRecord,
    StepRecord,
)
from routeyard.store import migrations
from routeyard.store import schema as t
from routeyard.store._base import Catalog

_STEP_FIELDS = {c.name for c in t.steps.columns} - {"id", "run_id", "node", "step", "position"}


def _read(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._tx():
            return method(self, *args, **kwargs)

    return wrapper


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


_FULL = ("disk is full", "disk i/o error", "no space left", "readonly database", "quota")


def _is_full(exc: Exception) -> bool:
    """A write refused by the disk (full, read-only, failing), not a bug."""
    return any(word in str(exc).lower() for word in _FULL)


class SqlCatalog(Catalog):
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(t.cache_entries)
        self._upsert_cache = insert.on_conflict_do_update(
            index_elements=["cache_key"],
            set_={"step_id": insert.excluded.step_id, "created_at": insert.excluded.created_at},
        )
        try:
            migrations.upgrade(self.engine)
            self._conn = self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"cannot open the catalog at {url} ({exc.orig})",
                hint="check that the store folder is writable (ROUTEYARD_HOME)",
            ) from exc

    # ------------------------------------------------------------------ helpers
    def _insert_ignore(self, table: sa.Table):
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    @contextlib.contextmanager
    def _tx(self):
        """A short transaction; nested use joins the outer one.

        Reads get one too: a long-lived connection that autobegins and never
        commits would pin an old WAL snapshot and miss other writers' work.
        """
        if self._conn.in_transaction():
            yield
            return
        try:
            with self._conn.begin():
                yield
        except sa.exc.OperationalError as exc:
            if _is_full(exc):
                raise StoreError(
                    f"the store's catalog cannot be written: {exc.orig}",
                    hint="free disk space where the store lives, then run again "
                    "(finished steps are kept)",
                ) from None
            raise

    # --------------------------------------------------------------------- runs
    def create_run(
        self,
        *,
        run_id,
        pipeline_path,
        base_dir,
        pipeline_text,
        overrides,
        parent_run_id,
        rerun_from,
        budget_usd,
        pid,
    ) -> None:
        with self._tx():
            self._conn.execute(
                sa.insert(t.runs).values(
                    id=run_id,
                    status="running",
                    pipeline_path=pipeline_path,
                    base_dir=base_dir,
                    pipeline_text=pipeline_text,
                    overrides=overrides,
                    parent_run_id=parent_run_id,
                    rerun_from=rerun_from,
                    budget_usd=budget_usd,
                    cost_usd=0.0,
                    pid=pid,
                    created_at=time.time(),
                )
            )

    def finish_run(self, run_id, *, status, cost_usd, error) -> None:
        with self._tx():
            self._conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(status=status, cost_usd=cost_usd, error=error, finished_at=time.time())
            )

    def mark_interrupted(self) -> list[str]:
        with self._tx():
            ids = list(
                self._conn.execute(
                    sa.select(t.runs.c.id).where(t.runs.c.status == "running")
                ).scalars()
            )
            if ids:
                self._conn.execute(
                    sa.update(t.runs)
                    .where(t.runs.c.id.in_(ids))
                    .values(status="interrupted", finished_at=time.time())
                )
                self._conn.execute(
                    sa.update(t.steps)
                    .where(t.steps.c.run_id.in_(ids), t.steps.c.status.in_(["running", "queued"]))
                    .values(status="interrupted", finished_at=time.time())
                )
        return ids

    @_read
    def get_run(self, run_id) -> RunRecord:
        row = self._conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFoundError(
                f"no run '{run_id}' in this store", hint="list runs with `routeyard show`"
            )
        step_rows = (
            self._conn.execute(
                sa.select(t.steps).where(t.steps.c.run_id == run_id).order_by(t.steps.c.position)
            )
            .mappings()
            .all()
        )
        outputs = self._outputs_for([r["id"] for r in step_rows])
        steps = tuple(self._step(r, outputs.get(r["id"], ())) for r in step_rows)
        return RunRecord(**{k: row[k] for k in row}, steps=steps)

    @_read
    def resolve_run(self, ref) -> str:
        if ref == "last":
            found = self._conn.execute(
                sa.select(t.runs.c.id).order_by(t.runs.c.created_at.desc()).limit(1)
            ).scalar()
            if found is None:
                raise NotFoundError(
                    "this store has no runs yet", hint="start one with `routeyard run FILE`"
                )
            return found
        matches = list(
            self._conn.execute(
                sa.select(t.runs.c.id)
                .where(t.runs.c.id.like(f"{_escape_like(ref)}%", escape="\\"))
                .limit(2)
            ).scalars()
        )
        if not matches:
            raise NotFoundError(
                f"no run '{ref}' in this store", hint="list runs with `routeyard show`"
            )
        if len(matches) > 1:
            raise NotFoundError(
                f"run prefix '{ref}' is ambiguous", hint="give more characters of the id"
            )
        return matches[0]

    @_read
    def list_runs(self, limit=50) -> list[RunRecord]:
        rows = (
            self._conn.execute(sa.select(t.runs).order_by(t.runs.c.created_at.desc()).limit(limit))
            .mappings()
            .all()
        )
        return [RunRecord(**{k: r[k] for k in r}) for r in rows]

    # -------------------------------------------------------------------- steps
    def start_step(self, run_id, node, step, position, **fields) -> int:
        _check_fields(fields)
        with self._tx():
            return self._insert_step(run_id, node, step, position, fields)

    def _insert_step(self, run_id, node, step, position, fields) -> int:
        row = {
            **_STEP_DEFAULTS,
            **fields,
            "run_id": run_id,
            "node": node,
            "step": step,
            "position": position,
        }
        result = self._conn.execute(_INSERT_STEP, row)
        return int(result.inserted_primary_key[0])

    def update_step(self, step_id, **fields) -> None:
        _check_fields(fields)
        with self._tx():
            self._update_step(step_id, fields)

    def _update_step(self, step_id, fields) -> None:
        # A statement per column set, built once: constructing SQLAlchemy
        # statements per call costs more than executing them.
        cols = tuple(sorted(fields))
        stmt = _UPDATE_STEP.get(cols)
        if stmt is None:
            stmt = _UPDATE_STEP[cols] = (
                sa.update(t.steps)
                .where(t.steps.c.id == sa.bindparam("_step_id"))
                .values({c: sa.bindparam(c) for c in cols})
            )
        self._conn.execute(stmt, {**fields, "_step_id": step_id})

    def complete_step(self, step_id, *, outputs, inputs, cache_key, **fields) -> None:
        _check_fields(fields)
        now = time.time()
        with self._tx():
            for asset in outputs:
                self._add_asset(asset, now)
            if outputs:
                self._conn.execute(
                    sa.insert(t.step_outputs),
                    [
                        {"step_id": step_id, "position": i, "asset_id": a.id}
                        for i, a in enumerate(outputs)
                    ],
                )
                edges = [
                    {
                        "asset_id": a.id,
                        "step_id": step_id,
                        "input_position": j,
                        "input_asset_id": src,
                    }
                    for a in outputs
                    for j, src in enumerate(inputs)
                ]
                if edges:
                    self._conn.execute(self._insert_ignore(t.lineage_edges), edges)
            if cache_key is not None:
                self._conn.execute(
                    self._upsert_cache,
                    {"cache_key": cache_key, "step_id": step_id, "created_at": now},
                )
            self._update_step(step_id, {**fields, "cache_key": cache_key, "inputs": list(inputs)})

    def record_cached(self, run_id, node, step, position, *, cached_from, outputs, **fields) -> int:
        _check_fields(fields)
        with self._tx():
            step_id = self._insert_step(
                run_id, node, step, position, {**fields, "cached_from": cached_from}
            )
            if outputs:
                self._conn.execute(
                    _INSERT_OUTPUT,
                    [
                        {"step_id": step_id, "position": i, "asset_id": a}
                        for i, a in enumerate(outputs)
                    ],
                )
        return step_id

    @_read
    def find_cached(self, cache_key) -> tuple[int, list[str]] | None:
        rows = self._conn.execute(_FIND_CACHED, {"cache_key": cache_key}).all()
        if not rows:
            return None
        return int(rows[0][0]), [aid for _, aid in rows if aid is not None]

    @_read
    def get_step(self, step_id) -> StepRecord:
        row = (
            self._conn.execute(sa.select(t.steps).where(t.steps.c.id == step_id)).mappings().first()
        )
        if row is None:
            raise NotFoundError(f"no step #{step_id} in this store")
        return self._step(row, self._outputs_for([step_id]).get(step_id, ()))

    @_read
    def producer_of(self, asset_id) -> StepRecord | None:
        step_id = self._conn.execute(
            sa.select(t.step_outputs.c.step_id)
            .join(t.steps, t.steps.c.id == t.step_outputs.c.step_id)
            .where(t.step_outputs.c.asset_id == asset_id, t.steps.c.cached_from.is_(None))
            .order_by(t.step_outputs.c.step_id)
            .limit(1)
        ).scalar()
        return None if step_id is None else self.get_step(int(step_id))

    @_read
    def _outputs_for(self, step_ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not step_ids:
            return {}
        out: dict[int, list[str]] = {}
        rows = self._conn.execute(
            sa.select(t.step_outputs.c.step_id, t.step_outputs.c.asset_id)
            .where(t.step_outputs.c.step_id.in_(step_ids))
            .order_by(t.step_outputs.c.step_id, t.step_outputs.c.position)
        )
        for sid, aid in rows:
            out.setdefault(sid, []).append(aid)
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    def _step(row, outputs) -> StepRecord:
        data = {k: row[k] for k in row}
        data["params"] = data["params"] or {}
        data["inputs"] = data["inputs"] or []
        data["warnings"] = data["warnings"] or []
        return StepRecord(**data, outputs=tuple(outputs))

    # ------------------------------------------------------------------- assets
    def add_asset(self, asset) -> None:
        with self._tx():
            self._add_asset(asset, time.time())

    def _add_asset(self, asset: NewAsset, now: float) -> None:
        self._conn.execute(
            self._insert_ignore(t.assets).values(
                id=asset.id,
                kind=asset.kind,
                mime=asset.mime,
                size_bytes=asset.size_bytes,
                width=asset.width,
                height=asset.height,
                frames=asset.frames,
                fps=asset.fps,
                duration=asset.duration,
                meta=asset.meta,
                created_at=now,
            )
        )

    @_read
    def get_asset(self, asset_id) -> AssetRecord:
        row = (
            self._conn.execute(sa.select(t.assets).where(t.assets.c.id == asset_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"no asset '{asset_id}' in this store")
        return AssetRecord(**{k: row[k] for k in row})

    @_read
    def resolve_asset(self, ref) -> str:
        matches = list(
            self._conn.execute(
                sa.select(t.assets.c.id)
                .where(t.assets.c.id.like(f"{_escape_like(ref)}%", escape="\\"))
                .limit(2)
            ).scalars()
        )
        if not matches:
            raise NotFoundError(
                f"no asset '{ref}' in this store",
                hint="asset ids are listed by `routeyard show RUN`",
            )
        if len(matches) > 1:
            raise NotFoundError(f"asset prefix '{ref}' is ambiguous", hint="give more characters")
        return matches[0]

    @_read
    def all_asset_ids(self) -> list[str]:
        return list(self._conn.execute(sa.select(t.assets.c.id).order_by(t.assets.c.id)).scalars())

    # ------------------------------------------------- routes, jobs, gates, events
    def record_route(self, step_id, decision) -> None:
        chosen = decision.get("chosen") or {}
        with self._tx():
            self._conn.execute(
                sa.insert(t.route_decisions).values(
                    step_id=step_id,
                    chosen_model=chosen.get("model"),
                    chosen_provider=chosen.get("provider"),
                    reason=chosen.get("reason"),
                    decision=decision,
                )
            )

    @_read
    def get_route(self, step_id) -> dict[str, Any] | None:
        return self._conn.execute(
            sa.select(t.route_decisions.c.decision).where(t.route_decisions.c.step_id == step_id)
        ).scalar()

    def record_job(
        self, *, step_id, cache_key, provider, model, job_id, status, cost_usd=None, meta=None
    ) -> None:
        now = time.time()
        with self._tx():
            self._conn.execute(
                sa.insert(t.provider_jobs).values(
                    step_id=step_id,
                    cache_key=cache_key,
                    provider=provider,
                    model=model,
                    job_id=job_id,
                    status=status,
                    cost_usd=cost_usd,
                    meta=meta or {},
                    created_at=now,
                    updated_at=now,
                )
            )

    def update_job(self, provider, job_id, /, **fields) -> None:
        with self._tx():
            self._conn.execute(
                sa.update(t.provider_jobs)
                .where(t.provider_jobs.c.provider == provider, t.provider_jobs.c.job_id == job_id)
                .values(updated_at=time.time(), **fields)
            )

    @_read
    def jobs_for_cache_key(self, cache_key) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            sa.select(t.provider_jobs)
            .where(t.provider_jobs.c.cache_key == cache_key)
            .order_by(t.provider_jobs.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    @_read
    def jobs(self, run_id=None) -> list[dict[str, Any]]:
        q = (
            sa.select(
                t.provider_jobs,
                t.steps.c.run_id,
                t.steps.c.node,
                t.steps.c.step,
            )
            .join(t.steps, t.steps.c.id == t.provider_jobs.c.step_id)
            .order_by(t.provider_jobs.c.id)
        )
        if run_id is not None:
            q = q.where(t.steps.c.run_id == run_id)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def record_gate(self, **fields) -> None:
        with self._tx():
            self._conn.execute(sa.insert(t.gate_outcomes).values(created_at=time.time(), **fields))

    @_read
    def gate_scores(self, asset_ids, gate) -> dict[str, float]:
        rows = self._conn.execute(
            sa.select(t.gate_outcomes.c.asset_id, t.gate_outcomes.c.score)
            .where(t.gate_outcomes.c.asset_id.in_(list(asset_ids)), t.gate_outcomes.c.gate == gate)
            .order_by(t.gate_outcomes.c.id)
        )
        return {aid: score for aid, score in rows}

    @_read
    def gate_outcomes(self, *, step_ids=None, asset_id=None, gate=None) -> list[dict[str, Any]]:
        g = t.gate_outcomes
        query = sa.select(g).order_by(g.c.id)
        if step_ids is not None:
            query = query.where(g.c.step_id.in_(list(step_ids)))
        if asset_id is not None:
            query = query.where(g.c.asset_id == asset_id)
        if gate is not None:
            query = query.where(g.c.gate == gate)
        return [dict(r) for r in self._conn.execute(query).mappings()]

    def add_outcome(self, **fields) -> None:
        with self._tx():
            self._conn.execute(
                sa.insert(t.outcomes).values(
                    created_at=fields.pop("created_at", time.time()), **fields
                )
            )

    @_read
    def learning_outcomes(self, versions=None) -> list[dict[str, Any]]:
        cols = ("model", "stage", "tags", "passed", "created_at")
        rows = []
        for table in (t.gate_outcomes, t.outcomes):
            query = sa.select(*(table.c[c] for c in cols)).where(table.c.model.is_not(None))
            if table is t.gate_outcomes and versions is not None:
                current = [
                    sa.and_(table.c.gate == g, table.c.gate_version == v)
                    for g, v in versions.items()
                ]
                query = query.where(sa.or_(*current) if current else sa.false())
            rows += [dict(r) for r in self._conn.execute(query).mappings()]
        return sorted(rows, key=lambda r: r["created_at"])

    def add_events(self, rows) -> None:
        if not rows:
            return
        with self._tx():
            self._conn.execute(sa.insert(t.events), list(rows))

    @_read
    def run_events(self, run_id) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            sa.select(t.events).where(t.events.c.run_id == run_id).order_by(t.events.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------- studio
    @_read
    def find_assets(self, query: AssetQuery) -> tuple[list[AssetRow], int]:
        s, o, a, g = t.steps, t.step_outputs, t.assets, t.gate_outcomes
        where = [s.c.status.in_(("executed", "cached"))]
        if query.run_id:
            where.append(s.c.run_id == query.run_id)
        if query.step:
            where.append(s.c.step == query.step)
        if query.ops is not None:
            where.append(s.c.op.in_(query.ops))
        if query.models is not None:
            where.append(s.c.model.in_(query.models))
        if query.kind:
            where.append(a.c.kind == query.kind)
        if query.text:
            like = f"%{_escape_like(query.text)}%"
            where.append(
                sa.or_(
                    s.c.prompt.like(like, escape="\\"),
                    sa.cast(s.c.params, sa.Text).like(like, escape="\\"),
                )
            )
        if query.gate in ("pass", "fail"):
            where.append(
                sa.exists().where(g.c.asset_id == a.c.id, g.c.passed.is_(query.gate == "pass"))
            )
        elif query.gate == "none":
            where.append(~sa.exists().where(g.c.asset_id == a.c.id))
        joined = a.join(o, o.c.asset_id == a.c.id).join(s, s.c.id == o.c.step_id)
        total = self._conn.execute(
            sa.select(sa.func.count(sa.distinct(a.c.id))).select_from(joined).where(*where)
        ).scalar_one()
        first = sa.func.min(s.c.id).label("step_id")
        page = self._conn.execute(
            sa.select(a.c.id, first)
            .select_from(joined)
            .where(*where)
            .group_by(a.c.id, a.c.created_at)
            .order_by(a.c.created_at.desc(), a.c.id)
            .offset(max(0, query.offset))
            .limit(max(1, min(query.limit, 500)))
        ).all()
        if not page:
            return [], int(total)
        ids = [r[0] for r in page]
        assets = {
            r["id"]: AssetRecord(**r)
            for r in self._conn.execute(sa.select(a).where(a.c.id.in_(ids))).mappings()
        }
        step_ids = [int(r[1]) for r in page]
        outputs = self._outputs_for(step_ids)
        steps = {
            r["id"]: self._step(r, outputs.get(r["id"], ()))
            for r in self._conn.execute(sa.select(s).where(s.c.id.in_(step_ids))).mappings()
        }
        gates: dict[str, dict[str, bool]] = {}
        for aid, gate, passed in self._conn.execute(
            sa.select(g.c.asset_id, g.c.gate, g.c.passed)
            .where(g.c.asset_id.in_(ids))
            .order_by(g.c.id)
        ):
            gates.setdefault(aid, {})[gate] = bool(passed)
        rows = [AssetRow(assets[aid], steps[sid], gates.get(aid, {})) for aid, sid in page]
        return rows, int(total)

    @_read
    def derived(self, source_id, kind) -> str | None:
        return self._conn.execute(
            sa.select(t.derived.c.asset_id).where(
                t.derived.c.source_id == source_id, t.derived.c.kind == kind
            )
        ).scalar()

    def set_derived(self, source_id, kind, asset) -> None:
        now = time.time()
        with self._tx():
            self._add_asset(asset, now)
            self._conn.execute(
                self._insert_ignore(t.derived).values(
                    source_id=source_id, kind=kind, asset_id=asset.id, created_at=now
                )
            )

    def add_annotation(self, asset_id, *, frame, label, note) -> int:
        with self._tx():
            result = self._conn.execute(
                sa.insert(t.annotations).values(
                    asset_id=asset_id, frame=frame, label=label, note=note, created_at=time.time()
                )
            )
            return int(result.inserted_primary_key[0])

    @_read
    def annotations(self, asset_id) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            sa.select(t.annotations)
            .where(t.annotations.c.asset_id == asset_id)
            .order_by(t.annotations.c.frame, t.annotations.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    def delete_annotation(self, asset_id, annotation_id) -> bool:
        with self._tx():
            result = self._conn.execute(
                sa.delete(t.annotations).where(
                    t.annotations.c.id == annotation_id, t.annotations.c.asset_id == asset_id
                )
            )
            return result.rowcount > 0

    def close(self) -> None:
        self._conn.close()
        self.engine.dispose()


_INSERT_STEP = sa.insert(t.steps)
_INSERT_OUTPUT = sa.insert(t.step_outputs)
_UPDATE_STEP: dict[tuple[str, ...], sa.Update] = {}
_STEP_DEFAULTS = {"params": {}, "inputs": [], "warnings": [], "attempts": 0, "cost_usd": 0.0}
# One query for a cache lookup: the entry and its outputs in order (a step
# with no outputs still returns its id through the outer join).
_FIND_CACHED = (
    sa.select(t.cache_entries.c.step_id, t.step_outputs.c.asset_id)
    .select_from(
        t.cache_entries.outerjoin(
            t.step_outputs, t.step_outputs.c.step_id == t.cache_entries.c.step_id
        )
    )
    .where(t.cache_entries.c.cache_key == sa.bindparam("cache_key"))
    .order_by(t.step_outputs.c.position)
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - _STEP_FIELDS
    if unknown:
        raise TypeError(f"unknown step fields: {sorted(unknown)}")
