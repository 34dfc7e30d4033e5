"""Partial re-run: `rerun RUN --from STEP` executes that step and only its descendants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from routeyard import api
from routeyard.errors import PipelineError
from routeyard.store import Store
from tests.conftest import executed

DIAMOND = """
steps:
  src:   {op: test.work, value: 0}
  left:  {op: test.work, input: src, value: 1}
  right: {op: test.work, input: src, value: 2}
  fixed: {op: test.work, input: left, value: 3, mask: masks/m.png}
  join:  {op: test.work, input: [fixed, right], value: 4}
  side:  {op: test.work, input: right, value: 5}
"""


@pytest.fixture
def diamond(write, tmp_path):
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "masks" / "m.png")
    return write(DIAMOND)


def statuses(run):
    return {s["name"]: s["status"] for s in run["steps"]}


def test_rerun_from_a_middle_step_executes_only_its_descendants(home, exec_log, diamond):
    first = api.run_pipeline(diamond, home=home)
    assert len(executed(exec_log)) == 6
    again = api.rerun(first["run"], "left", home=home)
    assert statuses(again) == {
        "src": "cached",
        "left": "executed",
        "right": "cached",
        "fixed": "executed",
        "join": "executed",
        "side": "cached",
    }
    assert executed(exec_log)[6:] == ["left", "fixed", "join"]
    assert again["parent_run"] == first["run"] and again["rerun_from"] == "left"


def test_rerun_with_set_changes_the_step_and_flows_downstream(home, exec_log, diamond):
    first = api.run_pipeline(diamond, home=home)
    again = api.rerun(first["run"], "fixed", {"value": 33}, home=home)
    assert [n for n, s in statuses(again).items() if s == "executed"] == ["fixed", "join"]
    outs = {s["name"]: s["outputs"][0] for s in again["steps"]}
    with Store.open(home) as store:
        join = json.loads(store.blobs.read(outs["join"]))
    assert join["parents"] == [33, 2]


def test_rerun_with_a_new_mask_file(home, exec_log, diamond, tmp_path, monkeypatch):
    first = api.run_pipeline(diamond, home=home)
    new_mask = tmp_path / "elsewhere" / "new.png"
    new_mask.parent.mkdir()
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(new_mask)
    monkeypatch.chdir(tmp_path / "elsewhere")
    sets = api.parse_sets(["mask=new.png"])  # relative to where the operator stands
    assert sets == {"mask": str(new_mask.resolve())}
    again = api.rerun(first["run"], "fixed", sets, home=home)
    assert [n for n, s in statuses(again).items() if s == "executed"] == ["fixed", "join"]
    with Store.open(home) as store:
        rec = store.catalog.get_run(again["run"])
        fixed = next(s for s in rec.steps if s.node == "fixed")
        mask_id = fixed.inputs[-1]  # the mask is a lineage parent of the fixed image
        assert store.blobs.read(mask_id) == new_mask.read_bytes()


def test_rerun_of_a_rerun_keeps_earlier_overrides(home, exec_log, diamond):
    first = api.run_pipeline(diamond, home=home)
    second = api.rerun(first["run"], "side", {"value": 50}, home=home)
    third = api.rerun(second["run"], "left", home=home)
    assert statuses(third)["side"] == "cached"  # still value 50: no new execution
    assert executed(exec_log).count("side") == 2


def test_rerun_from_one_variant_branch(home, exec_log, write):
    path = write("""
steps:
  v: {op: test.work, variants: {value: [1, 2, 3]}}
  w: {op: test.work, input: v}
""")
    first = api.run_pipeline(path, home=home)
    again = api.rerun(first["run"], "v[1]", home=home)
    assert [n for n, s in statuses(again).items() if s == "executed"] == ["v[1]", "w[1]"]


def test_rerun_with_unknown_step_or_bad_value_is_a_clear_error(home, diamond):
    first = api.run_pipeline(diamond, home=home)
    with pytest.raises(PipelineError, match="no step 'nope'"):
        api.rerun(first["run"], "nope", home=home)
    with pytest.raises(PipelineError, match="parameter 'value'"):
        api.rerun(first["run"], "left", {"value": [1, 2]}, home=home)
    with Store.open(home) as store:
        assert len(store.catalog.list_runs()) == 1  # a refused re-run leaves no trace
