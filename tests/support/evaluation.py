"""The labelled routing set, scored: does each stage route to the expected family?

Used by the test suite (every case must hold) and ``benchmarks/bench_router.py``
(accuracy and decision latency). A case names the brief, the provider keys set
(default: all) and, per stage, the family expected (a list = any of them;
null = no model may be chosen).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routeyard import ops
from routeyard.brief import Brief
from routeyard.catalog import Catalog
from routeyard.catalog import load as load_catalog
from routeyard.errors import PipelineError
from routeyard.routing.router import CatalogRouter

STAGE_OPS = {"base": "generate", "refine": "edit", "motion": "animate"}


@dataclass(frozen=True)
class Result:
    case: str
    stage: str
    expected: list[str | None]
    got: str | None
    model: str | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.got in self.expected


def all_keys(catalog: Catalog) -> dict[str, str]:
    names = {v for p in catalog.providers.values() for v in (*p.env, *p.with_, *p.also)}
    return {name: "set" for name in names}


def evaluate(path: str | Path, catalog: Catalog | None = None) -> list[Result]:
    cases: list[dict[str, Any]] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return evaluate_cases(cases, catalog)


# What each label needs, in the families of the 2026 catalog with every key set:
# legible text → Flux or GPT Image; otherwise the painterly/photographic pair;
# heavy motion → Kling; gentle or unstated → Veo or Seedance (tests/data/routing_briefs.yaml).
_BASE = {1: ["flux", "gpt-image"], 0: ["nano-banana", "seedream"]}
_MOTION = {"heavy": ["kling"], "gentle": ["veo", "seedance"], "none": ["veo", "seedance"]}


def intent_cases(path: str | Path, half: str) -> list[dict[str, Any]]:
    """The labelled intent briefs of one half (``dev`` or ``held``) as routing cases."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))[half]
    return [
        {
            "name": c["p"],
            "brief": {"prompt": c["p"], **(c.get("b") or {})},
            "expect": {"base": _BASE[c["t"]], "motion": _MOTION[c["m"]]},
        }
        for c in raw
    ]


def evaluate_cases(cases: list[dict[str, Any]], catalog: Catalog | None = None) -> list[Result]:
    catalog = catalog or load_catalog()
    results = []
    for case in cases:
        keys = case.get("keys")
        env = all_keys(catalog) if keys is None else {k: "set" for k in keys}
        router = CatalogRouter(catalog, env=env)
        brief = Brief.model_validate(case["brief"])
        for stage, want in case["expect"].items():
            expected = want if isinstance(want, list) else [want]
            op = ops.get_op(STAGE_OPS[stage])
            try:
                d = router.decide(op=op, model="auto", params={}, brief=brief)
                top = d.candidates[0]
                results.append(
                    Result(case["name"], stage, expected, top["family"], top["model"], d.reason)
                )
            except PipelineError as exc:
                results.append(Result(case["name"], stage, expected, None, None, exc.message))
    return results
