"""`route --explain`, `plan --dry-run` and `models` from the command line, with no keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from routeyard import api
from routeyard.catalog import load
from tests.conftest import subprocess_env

EXAMPLES = sorted(Path("examples").glob("*.yaml")) + sorted(Path("examples/briefs").glob("*.yaml"))


def cli(*args, home, env_extra=None):
    env = subprocess_env(home)
    for var in {v for p in load().providers.values() for v in (*p.env, *p.with_, *p.also)}:
        env.pop(var, None)  # no credentials at all
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "routeyard.cli", *args], env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_route_explain_and_plan_dry_run_work_on_every_example_without_keys(tmp_path, example):
    routed = cli("route", str(example), "--explain", "--dry-run", "--json", home=tmp_path)
    assert routed.returncode == 0, routed.stderr
    stages = json.loads(routed.stdout)
    assert stages
    for s in stages:
        assert {"stage", "chosen", "candidates", "filtered", "fallbacks"} <= set(s)
        assert {"model", "family", "provider", "score", "reason"} <= set(s["chosen"])
        assert s["chosen"]["reason"] and all(f["reason"] for f in s["filtered"])
    plan = cli("plan", str(example), "--dry-run", "--json", home=tmp_path)
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["unroutable"] == [] and data["est_seconds"] > 0
    text = cli("route", str(example), "--explain", "--dry-run", home=tmp_path)
    assert text.returncode == 0 and "→" in text.stdout


def test_the_campaign_is_priced_and_says_what_would_run_with_no_keys(tmp_path):
    data = api.plan_dry_run("examples/briefs/campaign.yaml")
    steps = {s["step"]: s for s in data["steps"]}
    assert steps["base"]["chosen"]["family"] in ("flux", "gpt-image")  # legible text
    assert steps["motion[0]"]["chosen"]["family"] in ("veo", "seedance")  # gentle
    expected = sum(s["chosen"]["est_cost_usd"] for s in data["steps"])
    assert data["est_cost_usd"] == pytest.approx(expected) and data["within_budget"]
    # critical path: generate → edit → the slower motion branch
    chain = [steps[n]["chosen"]["est_seconds"] for n in ("base", "warm", "motion[0]")]
    assert data["est_seconds"] == pytest.approx(sum(chain))
    if not any(os.environ.get(v) for v in ("BFL_API_KEY", "FAL_KEY", "REPLICATE_API_TOKEN")):
        assert steps["base"]["with_current_keys"]["model"] is None
        # no hosted animator usable here: the local one runs (with a warning)
        assert steps["motion[0]"]["with_current_keys"]["model"] == "local/animate"


def test_route_without_dry_run_fails_clearly_when_a_stage_has_no_model(tmp_path):
    done = cli("route", "examples/briefs/summer-drop.yaml", home=tmp_path)
    assert done.returncode == 1
    assert "base (generate, base): no route" in " ".join(done.stdout.split())
    assert "motion" in done.stdout and "local/animate" in done.stdout


def test_models_list_show_and_bad_id(tmp_path):
    listed = json.loads(cli("models", "--json", home=tmp_path).stdout)
    assert {"flux-pro-1.1", "nano-banana", "veo-3", "local/animate"} <= {m["id"] for m in listed}
    shown = json.loads(cli("models", "show", "kling-2.1-pro", "--json", home=tmp_path).stdout)
    assert shown["family"] == "kling" and shown["credentials"]["kling"] == ["KLING_ACCESS_KEY"]
    assert "motion_physics" in shown["sources"]
    bad = cli("models", "show", "kling-2.1-por", home=tmp_path)
    assert bad.returncode != 0 and "did you mean 'kling-2.1-pro'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_recorded_outcomes_show_in_model_stats(tmp_path):
    for ok in (True, False, False):
        api.record_outcome(
            "veo-3", "motion", ["motion:gentle"], 0.8 if ok else 0.3, ok, home=tmp_path
        )
    rows = {(r["model"], r["tag"]): r for r in api.model_stats(home=tmp_path)}
    row = rows[("veo-3", "motion:gentle")]
    assert row["outcomes"] == 3 and row["passed"] == 1
    assert row["posterior_mean"] < row["prior_mean"]
    shown = cli("models", "stats", home=tmp_path)
    assert shown.returncode == 0 and "veo-3" in shown.stdout
