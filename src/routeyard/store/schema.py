"""The catalog's tables, in SQLAlchemy Core so the same schema runs on SQLite
(embedded default) and PostgreSQL (shared team library).

Only portable types are used: strings, integers, floats, text and JSON.
Timestamps are Unix seconds as floats so ordering and arithmetic behave the
same on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

ID = sa.String(64)

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False),
)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", ID, primary_key=True),  # SHA-256 of the bytes
    sa.Column("kind", sa.String(16), nullable=False),  # image | video | mask | json | binary
    sa.Column("mime", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("frames", sa.Integer),
    sa.Column("fps", sa.Float),
    sa.Column("duration", sa.Float),
    sa.Column("meta", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # running|done|failed|cancelled|interrupted
    sa.Column("pipeline_path", sa.Text),
    sa.Column("base_dir", sa.Text, nullable=False),
    sa.Column("pipeline_text", sa.Text, nullable=False),
    sa.Column("overrides", sa.JSON, nullable=False, default=dict),
    sa.Column("parent_run_id", sa.String(32), sa.ForeignKey("runs.id")),
    sa.Column("rerun_from", sa.String(200)),
    sa.Column("budget_usd", sa.Float),
    sa.Column("cost_usd", sa.Float, nullable=False, default=0.0),
    sa.Column("pid", sa.Integer),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
)

steps = sa.Table(
    "steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("node", sa.String(200), nullable=False),  # "motion[1]"
    sa.Column("step", sa.String(200), nullable=False),  # "motion"
    sa.Column("position", sa.Integer, nullable=False),  # topological order in the run
    sa.Column("op", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200)),
    sa.Column("model_version", sa.String(64)),
    sa.Column("provider", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cache_key", sa.String(64), index=True),
    sa.Column("cached_from", sa.Integer),  # steps.id that computed the outputs
    sa.Column("seed", sa.BigInteger),
    sa.Column("params", sa.JSON, nullable=False, default=dict),
    sa.Column("inputs", sa.JSON, nullable=False, default=list),  # input asset ids, in order
    sa.Column("prompt", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("cost_usd", sa.Float, nullable=False, default=0.0),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("seconds", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("warnings", sa.JSON, nullable=False, default=list),
    sa.UniqueConstraint("run_id", "node", name="uq_steps_run_node"),
)

step_outputs = sa.Table(
    "step_outputs",
    metadata,
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id"), nullable=False, index=True),
)

# asset <- step <- input assets: one row per (output, input) pair.
lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), primary_key=True),
    sa.Column("input_position", sa.Integer, primary_key=True),
    sa.Column("input_asset_id", ID, sa.ForeignKey("assets.id"), nullable=False),
)

cache_entries = sa.Table(
    "cache_entries",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

provider_jobs = sa.Table(
    "provider_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), index=True),
    sa.Column("cache_key", sa.String(64), index=True),  # lets a resumed run find the job
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200)),
    sa.Column("job_id", sa.String(200), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("cost_usd", sa.Float),
    sa.Column("meta", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("provider", "job_id", name="uq_provider_jobs_job"),
)

route_decisions = sa.Table(
    "route_decisions",
    metadata,
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), primary_key=True),
    sa.Column("chosen_model", sa.String(200)),
    sa.Column("chosen_provider", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("decision", sa.JSON, nullable=False),
)

gate_outcomes = sa.Table(
    "gate_outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("step_id", sa.Integer, sa.ForeignKey("steps.id"), index=True),
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id"), nullable=False, index=True),
    sa.Column("gate", sa.String(64), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("threshold", sa.Float),
    sa.Column("model", sa.String(200)),
    sa.Column("stage", sa.String(32)),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", sa.Float, nullable=False),
    # Migration 4: which version of the gate measured it, the memo key of its
    # parameters, its message and whether it failed whatever the threshold.
    sa.Column("gate_version", sa.String(32)),
    sa.Column("params_key", sa.String(64), index=True),
    sa.Column("message", sa.Text),
    sa.Column("hard_fail", sa.Boolean),
    # Migration 5: what the plots show (``per_frame`` curve, ``per_region`` grid),
    # so the studio draws from the run's own record instead of measuring again.
    sa.Column("evidence", sa.JSON),
)

# Outcomes reported outside a plan's gates (``record_outcome``), for the router.
outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(200), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("gate", sa.String(64)),
    sa.Column("score", sa.Float),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("node", sa.String(200)),
    sa.Column("data", sa.JSON, nullable=False, default=dict),
)

# Files made from an asset for viewing (a thumbnail, a video's poster, a
# gate's result as JSON): the derived file is itself a content-addressed asset,
# so it is verified, exported and garbage-collected like any other.
derived = sa.Table(
    "derived",
    metadata,
    sa.Column("source_id", ID, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),  # "thumb:256", "check:temporal:1"
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# A reviewer's flags on an asset (a frame where the physics broke), kept with
# the asset and exported with its provenance.
annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id"), nullable=False, index=True),
    sa.Column("frame", sa.Integer),  # None: the whole asset
    sa.Column("label", sa.String(64), nullable=False),  # "physics", "flicker", "face", "ok", …
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)
