"""Run one op on a picture the test made, and hand back its outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from routeyard import api
from routeyard.pipeline.spec import parse
from routeyard.store import Store


@pytest.fixture
def run_step(home, tmp_path):
    """``run_step(image, "{op: x, input: a}") -> [output paths]``; the image is step ``a``.

    ``image`` may be an array (saved as in.png) or a ``sample:`` source; ``extra``
    adds steps between ``a`` and ``b``. The step must execute.
    """

    def _run(image, step: str, extra: str = "") -> list[Path]:
        if isinstance(image, str):
            source = image
        else:
            Image.fromarray(image).save(tmp_path / "in.png")
            source = "in.png"
        text = f"steps:\n  a: {{op: import, source: '{source}'}}\n{extra}  b: {step}\n"
        run = api.run_pipeline(parse(text, base_dir=tmp_path), home=home)
        b = next(s for s in run["steps"] if s["name"] == "b")
        assert b["status"] == "executed", b["error"]
        with Store.open(home) as store:
            return [store.path_of(a) for a in b["outputs"]]

    return _run


@pytest.fixture
def fail_step(home, tmp_path):
    """``fail_step(image, step) -> error text`` for a step that must fail."""

    def _run(image: np.ndarray, step: str) -> str:
        Image.fromarray(image).save(tmp_path / "in.png")
        text = f"steps:\n  a: {{op: import, source: in.png}}\n  b: {step}\n"
        run = api.run_pipeline(parse(text, base_dir=tmp_path), home=home)
        b = next(s for s in run["steps"] if s["name"] == "b")
        assert b["status"] == "failed"
        return b["error"]

    return _run


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))
