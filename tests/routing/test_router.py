"""The router: catalog facts, brief analysis, filters with reasons, scoring, reasons, cooldowns."""

from __future__ import annotations

import pytest

from routeyard import catalog as cat
from routeyard import ops
from routeyard.brief import Brief
from routeyard.errors import PipelineError, RouteyardError
from routeyard.routing.cooldown import Cooldowns
from routeyard.routing.learning import Learner
from routeyard.routing.requirements import analyse
from routeyard.routing.router import CatalogRouter
from tests.support.evaluation import all_keys, evaluate

CATALOG = cat.load().with_local(ops.all_ops())
KEYS = all_keys(CATALOG)


def decide(op: str, brief: Brief, model: str = "auto", **kw):
    router = CatalogRouter(env=kw.pop("env", KEYS), **kw)
    return router.decide(op=ops.get_op(op), model=model, params={}, brief=brief)


def test_labelled_briefs_route_to_the_expected_family():
    results = evaluate("tests/data/routing_briefs.yaml")
    assert len({r.case for r in results}) >= 40
    wrong = [
        f"{r.case} / {r.stage}: {r.got} ({r.model}), expected {r.expected}"
        for r in results
        if not r.ok
    ]
    assert not wrong, "\n".join(wrong)


def test_catalog_knows_the_seed_families_and_every_number_has_a_source():
    families = set(CATALOG.families())
    assert {"flux", "nano-banana", "seedream", "kling", "veo", "seedance", "local"} <= families
    for m in CATALOG.models:
        assert m.price.date and m.price.source in CATALOG.sources
        for name, trait in m.traits.items():
            assert 0 <= trait.value <= 1 and trait.source in CATALOG.sources, (m.id, name)
        if m.hosted:
            assert all(h.endpoints for h in m.hosts) and m.licence
    assert CATALOG.get("local/animate").price.unit == "free"


def test_a_broken_catalog_is_one_clear_error(tmp_path):
    bad = (cat._DATA.read_text()).replace("source: fal-pricing}", "source: nowhere}", 1)
    with pytest.raises(RouteyardError, match="unknown source 'nowhere'"):
        cat.parse(bad, "models.yaml")


def test_explicit_fields_win_over_prompt_cues_and_say_so():
    req = analyse(Brief(prompt="a car chase at night", motion="gentle"), "animate", "motion")
    assert req.weights["motion_smoothness"] > req.weights["motion_physics"]
    assert any("car chase" in n and "ignored" in n for n in req.notes)
    inferred = analyse(Brief(prompt="a car chase at night"), "animate", "motion")
    assert (
        inferred.weights["motion_physics"] == 3.0
        and "car chase" in inferred.evidence["motion_physics"]
    )


def test_the_reason_names_the_need_and_the_margin():
    d = decide("generate", Brief(prompt="A billboard", text="SUMMER DROP"))
    assert d.chosen.model.startswith(("flux", "gpt-image"))  # 2026 text evidence
    assert "legible text 'SUMMER DROP'" in d.reason and "typography 0." in d.reason
    assert "next best" in d.reason


def test_every_filtered_model_has_a_reason_and_filters_only_remove():
    brief = Brief(
        prompt="a lake", motion="gentle", deliver={"video": {"seconds": 12}}, budget_usd=1.0
    )
    d = decide("animate", brief)
    reasons = {f["model"]: f["reason"] for f in d.filtered}
    assert all(reasons.values())
    assert "longer than it renders" in reasons["veo-3.1"]
    # 12 s of 720p is 259,200 tokens: $2.59 at Seedance 2.0's $10 per million
    assert "over the $1.00 budget" in reasons["seedance-2"]
    ranked = {c["model"] for c in d.candidates}
    assert not ranked & set(reasons)  # a filtered model is never ranked
    assert ranked | set(reasons) >= {m.id for m in CATALOG.serving("animate")}


def test_no_credentials_filters_hosted_models_except_in_a_dry_run():
    brief = Brief(prompt="A poster", text="HELLO")
    with pytest.raises(PipelineError, match="no model can run 'generate'"):
        decide("generate", brief, env={})
    chosen = decide("generate", brief, env={}, dry_run=True).chosen.model
    assert chosen.startswith(("flux", "gpt-image"))
    d = decide("animate", Brief(motion="cinematic"), env={})
    assert d.chosen.model == "local/animate"
    assert any("no credentials (set" in f["reason"] for f in d.filtered)


def test_a_local_fix_routes_to_an_edit_op_never_to_a_regeneration():
    # A generation model better than every other on every trait, that cannot edit a region:
    # it wins the generate step, and is never a candidate for a fix of part of an image.
    base = CATALOG.get("flux-pro-1.1")
    star = base.model_copy(
        update={
            "id": "star-gen",
            "ops": ("generate",),
            "traits": {t: cat.Trait(value=0.99, source="rules") for t in cat.TRAITS},
            "hosts": (cat.Host(provider="fal", endpoints={"generate": "fal-ai/star"}),),
        }
    )
    catalog = CATALOG.model_copy(update={"models": (*CATALOG.models, star)})
    brief = Brief(prompt="a billboard with text", text="SALE")
    assert decide("generate", brief, catalog=catalog).chosen.model == "star-gen"
    for op in ("inpaint", "remove_object"):
        d = decide(op, brief, catalog=catalog)
        assert d.candidates and "star-gen" not in {c["model"] for c in d.candidates}
        for c in d.candidates:
            model = catalog.get(c["model"]) or cat.local_model(ops.get_op(op))
            assert op in model.ops


def test_a_named_model_is_used_or_refused_with_a_suggestion():
    d = decide("generate", Brief(prompt="x"), model="seedream-4")
    assert [c.model for c in d.chain] == ["seedream-4"]
    with pytest.raises(PipelineError, match="did you mean 'seedream-4'"):
        decide("generate", Brief(prompt="x"), model="seedream4")


def test_a_cooling_model_is_skipped_until_its_time_is_up():
    now = [0.0]
    cool = Cooldowns(failures=2, window_s=60, cooldown_s=100, clock=lambda: now[0])
    brief = Brief(prompt="a car chase")
    first = decide("animate", brief, cooldowns=cool).chosen.model
    cool.failed(first)
    assert decide("animate", brief, cooldowns=cool).chosen.model == first  # one failure: still in
    cool.failed(first)
    d = decide("animate", brief, cooldowns=cool)
    assert d.chosen.model != first
    assert any(f["model"] == first and "cooling down" in f["reason"] for f in d.filtered)
    now[0] = 101
    assert decide("animate", brief, cooldowns=cool).chosen.model == first


def test_policies_trade_quality_for_cost():
    brief = dict(prompt="a lake at dawn", motion="gentle")
    quality = decide("animate", Brief(**brief, policy="quality")).candidates[0]
    economy = decide("animate", Brief(**brief, policy="economy")).candidates[0]
    assert economy["est_cost_usd"] < quality["est_cost_usd"]
    assert economy["quality"] <= quality["quality"]


def test_learned_pass_rates_move_the_ranking():
    brief = Brief(prompt="a car chase", tags=["automotive"])
    top = decide("animate", brief).chosen.model
    learner = Learner(CATALOG, clock=lambda: 1e9)
    for _ in range(30):
        learner.record(top, "motion", ["automotive"], passed=False, at=1e9)
    d = decide("animate", brief, learned=learner)
    assert d.chosen.model != top
    demoted = next(c for c in d.candidates if c["model"] == top)
    assert demoted["learned"] < -0.2
