"""The hosted campaign example (3 products × 2 formats) against the fal fake:
one run, one budget, exactly one submission per hosted step, and a summary
that lists every deliverable with its gates, cost and route (issue 18)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routeyard import api
from routeyard.errors import PipelineError
from routeyard.media import probe_file
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "campaigns" / "summer-drop.yaml"
PRODUCTS, FORMATS = ("mug", "tote", "cap"), {"9x16": (720, 1280), "1x1": (720, 720)}


@pytest.fixture
def campaign(tmp_path) -> Path:
    """The example as it stands, but 2 s at 12 fps: the same plan and jobs in a
    fraction of the encoding (benchmarks/bench_brief.py runs it whole)."""
    path = Path(shutil.copy(EXAMPLE, tmp_path / "summer-drop.yaml"))
    text = path.read_text()
    assert "video: {seconds: 5, fps: 24}" in text
    path.write_text(text.replace("video: {seconds: 5, fps: 24}", "video: {seconds: 2, fps: 12}"))
    return path


def test_the_campaign_expands_to_one_plan_with_a_look_and_a_series_gate(campaign):
    by = api.load_pipeline(campaign).steps
    names = list(by)
    for product in PRODUCTS:
        assert f"{product}.base" in names
        assert {f"{product}.motion-{f}" for f in FORMATS} <= set(names)
    # each later base is graded to the first one's look; the series is judged as one
    assert by["tote.look"].op == "color_match" and by["tote.look"].inputs == ("mug.fit", "tote.fit")
    assert by["tote.cues"].inputs == ("tote.look",)
    assert by["series"].op == "check.series_color"
    assert by["series"].inputs == ("mug.fit", "tote.look", "cap.look")
    # each brief's own prompt travels with its steps
    assert by["cap.base"].params["prompt"].startswith("A cap on a sunlit marble table")
    out = by["out"]
    assert out.params["names"].count("mug-9x16") == 2 and len(out.inputs) == 12


def test_the_hosted_campaign_runs_once_per_step_and_reports_every_deliverable(
    fakes, home, campaign
):
    fal = fakes("fal")
    run = api.run_pipeline(campaign)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    steps = {s["name"]: s for s in run["steps"]}
    hosted = [s for s in run["steps"] if s["provider"] == "fal"]
    # one job per hosted step: 3 bases, and 3 camera styles per format per product
    assert len(hosted) == 3 + 3 * 2 * 3
    assert fal.total_submissions == len(hosted)
    assert all(s["status"] == "executed" for s in hosted)
    assert {steps[f"{p}.base"]["op"] for p in PRODUCTS} == {"generate"}
    # the deliverables: exact sizes, 2 s at 12 fps, readable names, one folder
    out = campaign.parent / "out-summer"
    want = {f"{p}-{f}.{x}" for p in PRODUCTS for f in FORMATS for x in ("png", "mp4")}
    assert {p.name for p in out.iterdir()} == want | {"provenance.json"}
    for p in PRODUCTS:
        for f, (w, h) in FORMATS.items():
            video = probe_file(out / f"{p}-{f}.mp4")
            assert (video.width, video.height, video.frames) == (w, h, 24)
            assert (probe_file(out / f"{p}-{f}.png").width, video.fps) == (w, pytest.approx(12))
    # the summary: every deliverable with its route, gates and cost; costs add up
    delivery = {Path(d["file"]).name: d for d in run["delivery"] if d["file"]}
    assert set(delivery) == want
    mp4 = delivery["tote-9x16.mp4"]
    routes = {r["step"].split("[")[0]: r for r in mp4["routes"]}
    assert set(routes) == {"mug.base", "tote.base", "tote.motion-9x16"}  # the look is mug's
    assert {r["provider"] for r in routes.values()} == {"fal"}
    assert any(g["gate"] == "temporal" for g in mp4["gates"])
    assert mp4["cost_usd"] > 0
    assert sum(s["cost_usd"] for s in run["steps"]) == pytest.approx(run["cost_usd"])
    # the series is judged as one: graded to the first base's look, it passes,
    # where the bases as the model made them (each its own cast) do not
    series = steps["series"]["gates"]
    assert len(series) == 3 and all(g["gate"] == "series_color" and g["passed"] for g in series)
    assert any(g["step"] == "series" and g["passed"] for g in mp4["gates"])
    from routeyard.checks import GATES
    from routeyard.store import Store

    with Store.open(home) as store:
        raw = [store.path_of(steps[f"{p}.fit"]["outputs"][0]) for p in PRODUCTS]
        graded = [
            store.path_of(steps[n]["outputs"][0]) for n in ("mug.fit", "tote.look", "cap.look")
        ]
        gate = GATES["series_color"]
        assert not gate.evaluate(raw, gate.Params()).passed
        assert gate.evaluate(graded, gate.Params()).passed


def test_a_campaign_over_its_budget_is_refused_before_anything_runs(fakes, home, campaign):
    fal = fakes("fal")
    campaign.write_text(campaign.read_text().replace("budget_usd: 20", "budget_usd: 0.5"))
    with pytest.raises(PipelineError, match=r"estimate \$.* exceeds its budget \$0.50"):
        api.run_pipeline(campaign)
    assert fal.total_submissions == 0 and api.list_runs(home=home) == []
