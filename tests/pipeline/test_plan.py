"""Plan expansion: variants fan out, readers of a fan-out are mapped or aggregate."""

from __future__ import annotations

import pytest

from routeyard.errors import PipelineError
from routeyard.pipeline.plan import build
from routeyard.pipeline.spec import parse


def plan_of(text):
    return build(parse(text))


def test_variants_make_one_branch_per_combination():
    plan = plan_of("steps:\n  a: {op: test.work, variants: {value: [1, 2], seconds: [0, 0.1]}}\n")
    assert list(plan.nodes) == ["a[0]", "a[1]", "a[2]", "a[3]"]
    assert [n.params for n in plan.nodes.values()] == [
        {"value": 1, "seconds": 0},
        {"value": 1, "seconds": 0.1},
        {"value": 2, "seconds": 0},
        {"value": 2, "seconds": 0.1},
    ]


def test_a_reader_of_a_fan_out_is_mapped_and_select_aggregates():
    plan = plan_of(
        "steps:\n  base: {op: test.work}\n"
        "  v: {op: test.work, input: base, variants: {value: [1, 2, 3]}}\n"
        "  w: {op: test.work, input: [v, base]}\n"
        "  pick: {op: select, input: w}\n"
    )
    assert [plan.nodes[f"w[{i}]"].deps for i in range(3)] == [
        ("v[0]", "base"),
        ("v[1]", "base"),
        ("v[2]", "base"),
    ]
    assert plan.nodes["pick"].deps == ("w[0]", "w[1]", "w[2]")
    assert plan.descendants({"v[1]"}) == {"v[1]", "w[1]", "pick"}
    assert plan.resolve("w") == {"w[0]", "w[1]", "w[2]"}


def test_reading_two_fan_outs_without_select_is_refused():
    with pytest.raises(PipelineError, match="reads from two fan-outs"):
        plan_of(
            "steps:\n  a: {op: test.work, variants: {value: [1, 2]}}\n"
            "  b: {op: test.work, variants: {value: [3, 4]}}\n"
            "  c: {op: test.work, input: [a, b]}\n"
        )


def test_a_thousand_step_chain_plans_without_recursion_limits():
    steps = "\n".join(
        f"  s{i}: {{op: test.noop{', input: s' + str(i - 1) if i else ''}}}" for i in range(1500)
    )
    plan = plan_of(f"steps:\n{steps}\n")
    assert len(plan.nodes) == 1500 and list(plan.nodes)[-1] == "s1499"
