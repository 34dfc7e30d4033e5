"""Gate versions: a changed gate measures again, and the router learns only from
scores of the gate as it is now."""

from __future__ import annotations

from routeyard import api
from routeyard.checks import GATES, versions
from routeyard.store import Store

PIPELINE = """
brief: {prompt: "a still", tags: [versions]}
steps:
  base: {op: import, source: "sample:astronaut", gate: {check: technical}}
  scored: {op: check.technical, input: base}
"""


def test_bumping_a_gate_version_rescores_and_learning_uses_only_the_current_version(
    home, write, monkeypatch
):
    path = write(PIPELINE)
    first = api.run_pipeline(path)
    assert first["status"] == "done"
    again = api.run_pipeline(path)
    assert {s["name"]: s["status"] for s in again["steps"]} == {
        "base": "cached",
        "scored": "cached",
    }
    with Store.open(home) as store:
        rows = store.catalog.gate_outcomes(gate="technical")
    before = GATES["technical"].version
    bumped = str(int(before) + 1)
    assert {r["gate_version"] for r in rows} == {before}
    measured = len(rows)

    monkeypatch.setattr(type(GATES["technical"]), "version", bumped)
    rerun = api.run_pipeline(path)
    statuses = {s["name"]: s["status"] for s in rerun["steps"]}
    assert statuses == {"base": "cached", "scored": "executed"}  # the check step's key changed
    with Store.open(home) as store:
        rows = store.catalog.gate_outcomes(gate="technical")
        new = [r for r in rows if r["gate_version"] == bumped]
        assert len(rows) > measured and new  # measured again, not read from the old memo
        assert all(r["params_key"] for r in new)
        learned_now = store.catalog.learning_outcomes(versions())
        learned_all = store.catalog.learning_outcomes()
    assert versions()["technical"] == bumped
    assert len(learned_now) == sum(1 for r in rows if r["model"] and r["gate_version"] == bumped)
    assert len(learned_all) > len(learned_now)
