"""Schema migrations: a small ordered list of Python steps, applied on open.

Why not Alembic: the catalog is embedded in every user's project folder and
must upgrade itself the moment routeyard opens it, without a separate CLI,
an ``alembic.ini`` or a migrations directory on disk. An ordered list of
functions over SQLAlchemy Core DDL gives the same guarantees that matter
here (ordered, recorded in ``schema_version``, each applied in its own
transaction, portable to PostgreSQL) in a few lines. A store written by a
newer routeyard is refused rather than guessed at.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from routeyard.errors import StoreError
from routeyard.store import schema

Migration = tuple[int, str, Callable[[sa.Connection], None]]


def _v1_initial(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn)


def _v2_outcomes(conn: sa.Connection) -> None:
    schema.outcomes.create(conn, checkfirst=True)


def _v3_studio(conn: sa.Connection) -> None:
    schema.derived.create(conn, checkfirst=True)
    schema.annotations.create(conn, checkfirst=True)


def _v4_gate_versions(conn: sa.Connection) -> None:
    # A fresh store made these columns in migration 1 (it creates the current
    # tables); an older one gains them here, with NULL versions: stale scores.
    have = {c["name"] for c in sa.inspect(conn).get_columns("gate_outcomes")}
    columns = {
        "gate_version": "VARCHAR(32)",
        "params_key": "VARCHAR(64)",
        "message": "TEXT",
        "hard_fail": "BOOLEAN",
    }
    for name, kind in columns.items():
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE gate_outcomes ADD COLUMN {name} {kind}"))


def _v5_gate_evidence(conn: sa.Connection) -> None:
    have = {c["name"] for c in sa.inspect(conn).get_columns("gate_outcomes")}
    if "evidence" not in have:
        conn.execute(sa.text("ALTER TABLE gate_outcomes ADD COLUMN evidence JSON"))


MIGRATIONS: list[Migration] = [
    (
        1,
        "initial catalog: assets, runs, steps, lineage, cache, jobs, routes, gates, events",
        _v1_initial,
    ),
    (2, "outcomes reported to the router outside plans", _v2_outcomes),
    (3, "studio: derived files (thumbnails, check results) and review annotations", _v3_studio),
    (
        4,
        "gate outcomes carry the gate's version, parameter key, message and hard fail",
        _v4_gate_versions,
    ),
    (
        5,
        "gate outcomes keep their plotted evidence (per-frame curve, per-region grid)",
        _v5_gate_evidence,
    ),
]

LATEST = MIGRATIONS[-1][0]


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(value or 0)


def upgrade(engine: sa.Engine) -> int:
    """Bring the catalog to the latest version; returns the version reached."""
    with engine.begin() as conn:
        version = current_version(conn)
    if version > LATEST:
        raise StoreError(
            f"the store's catalog is schema version {version}, newer than this routeyard "
            f"understands ({LATEST})",
            hint="upgrade routeyard",
        )
    for number, name, apply in MIGRATIONS:
        if number <= version:
            continue
        with engine.begin() as conn:
            apply(conn)
            conn.execute(
                sa.insert(schema.schema_version).values(
                    version=number, name=name, applied_at=time.time()
                )
            )
        version = number
    return version
