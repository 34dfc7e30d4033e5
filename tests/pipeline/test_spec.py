"""Pipeline validation: every error names the file, line and step, with a hint."""

from __future__ import annotations

import pytest

from routeyard.errors import PipelineError
from routeyard.pipeline.spec import load_file, parse


def error_of(text: str, **kw) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        parse(text, source="p.yaml", **kw)
    return info.value


def test_unknown_input_names_file_line_and_step():
    err = error_of("steps:\n  hero: {op: test.work}\n  motion: {op: test.work, input: heroo}\n")
    assert err.message == "p.yaml:3: step 'motion' reads from 'heroo', which is not defined"
    assert err.hint == "did you mean 'hero'?"


def test_cycle_is_reported_with_its_path():
    err = error_of(
        "steps:\n  a: {op: test.work, input: c}\n  b: {op: test.work, input: a}\n"
        "  c: {op: test.work, input: b}\n"
    )
    assert "form a cycle" in err.message
    assert (
        "'a' → 'b' → 'c' → 'a'" in err.message
        or "'b' → 'c' → 'a' → 'b'" in err.message
        or "'c' → 'a' → 'b' → 'c'" in err.message
    )


def test_unknown_op_suggests_the_closest():
    err = error_of("steps:\n  a:\n    op: resise\n    width: 3\n")
    assert err.message == "p.yaml:3: step 'a': unknown op 'resise'"
    assert err.hint == "did you mean 'resize'?"


def test_wrong_parameter_type_points_at_the_parameter_line():
    err = error_of(
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n  b:\n    op: resize\n"
        "    input: a\n    width: wide\n"
    )
    assert err.message.startswith("p.yaml:6: step 'b': parameter 'width':")
    assert "'wide'" in err.message


def test_unknown_parameter_suggests_a_known_one():
    err = error_of(
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  b: {op: resize, input: a, widht: 3}\n"
    )
    assert "unknown parameter 'widht'" in err.message and err.hint == "did you mean 'width'?"


def test_bad_variant_value_is_caught_before_running():
    err = error_of(
        "steps:\n  a: {op: import, source: 'sample:coffee'}\n"
        "  b: {op: resize, input: a, variants: {width: [10, -4]}}\n"
    )
    assert "step 'b'" in err.message and "width" in err.message


def test_missing_file_is_resolved_against_the_pipeline_folder(tmp_path):
    err = error_of("steps:\n  a: {op: import, source: masks/none.png}\n", base_dir=tmp_path)
    assert err.message == (
        f"p.yaml:2: step 'a', parameter 'source': file {tmp_path / 'masks' / 'none.png'} not found"
    )


def test_invalid_yaml_reports_the_line():
    err = error_of("steps:\n  a: {op: import\n  b: x\n")
    assert err.message.startswith("p.yaml:3: invalid YAML")


def test_duplicate_step_names_are_refused():
    err = error_of("steps:\n  a: {op: test.work}\n  a: {op: test.work, value: 2}\n")
    assert err.message == "p.yaml:3: step 'a' is defined twice (first on line 2)"


def test_input_arity_and_reserved_keys():
    assert "takes exactly 1 input" in error_of("steps:\n  b: {op: resize, width: 3}\n").message
    assert "'seed' must be" in error_of("steps:\n  a: {op: test.work, seed: -1}\n").message
    err = error_of("steps:\n  a: {op: test.work, gate: {check: flickr, min: 0.5}}\n")
    assert "unknown gate 'flickr'" in err.message and "temporal" in err.hint
    err = error_of("steps:\n  a: {op: test.work, gate: {check: temporal, on_fail: retry}}\n")
    assert "on_fail 'retry' is not one of" in err.message
    err = error_of(
        "steps:\n  a: {op: test.work, gate: {check: temporal, on_fail: 'repair: fix'}}\n"
    )
    assert "repair op 'fix' is unknown" in err.message
    err = error_of(
        "steps:\n  a: {op: test.work, gate: {check: technical, params: {deliverr: hd}}}\n"
    )
    assert "gate params: deliverr" in err.message


def test_brief_typos_are_errors_with_a_suggestion():
    err = error_of("brief: {prompt: x, budget: 3}\nsteps:\n  a: {op: test.work}\n")
    assert err.message.startswith("p.yaml:1: brief field 'budget'")
    assert err.hint == "did you mean 'budget_usd'?"


def test_a_valid_file_parses_with_paths_relative_to_it(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.yaml").write_text(
        "brief:\n  prompt: hi\n  budget_usd: 2\nsteps:\n"
        "  base: {op: import, source: 'sample:astronaut'}\n"
        "  hero: {op: resize, input: base, width: 64, seed: 3, retries: 1}\n"
    )
    spec = load_file(tmp_path / "sub" / "p.yaml")
    assert spec.base_dir == (tmp_path / "sub").resolve()
    assert spec.brief.budget_usd == 2
    hero = spec.steps["hero"]
    assert (hero.inputs, hero.seed, hero.retries, hero.params, hero.line) == (
        ("base",),
        3,
        1,
        {"width": 64},
        6,
    )
    assert spec.order() == ["base", "hero"]
    assert spec.descendants("base") == {"base", "hero"}


def test_missing_pipeline_file():
    with pytest.raises(PipelineError, match="pipeline file not found"):
        load_file("/nonexistent/p.yaml")
