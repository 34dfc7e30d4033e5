from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tests.fakes.ops  # noqa: E402,F401  (registers test ops)


@pytest.fixture(autouse=True)
def _no_user_overlay(tmp_path_factory, monkeypatch):
    """No test reads the machine's own catalog overlay (~/.config/routeyard);
    a test that wants one sets ROUTEYARD_CATALOG_OVERLAY itself."""
    none = tmp_path_factory.getbasetemp() / "no-overlay.yaml"
    monkeypatch.setenv("ROUTEYARD_CATALOG_OVERLAY", str(none))


@pytest.fixture(scope="session", autouse=True)
def test_signer(tmp_path_factory):
    """One development CA and signer (`credentials init`) signs every export
    of the session, module-scoped fixtures and subprocesses included; never
    the machine's own ~/.config/routeyard/credentials. A test that wants no
    signer points ROUTEYARD_CREDENTIALS_DIR at an empty folder."""
    from routeyard.credentials import authority

    folder = tmp_path_factory.getbasetemp() / "c2pa-signer"
    authority.init(folder)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("ROUTEYARD_C2PA_KEY", "ROUTEYARD_C2PA_CERT", "ROUTEYARD_C2PA_TRUST"):
            mp.delenv(name, raising=False)
        mp.setenv("ROUTEYARD_CREDENTIALS_DIR", str(folder))
        yield folder


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh store folder, also exported as ROUTEYARD_HOME."""
    h = tmp_path / "store"
    monkeypatch.setenv("ROUTEYARD_HOME", str(h))
    return h


@pytest.fixture
def exec_log(tmp_path, monkeypatch) -> Path:
    """A file that test ops append each real execution to."""
    log = tmp_path / "executions.log"
    monkeypatch.setenv("ROUTEYARD_TEST_LOG", str(log))
    return log


def executed(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.fixture
def write(tmp_path):
    """Write a pipeline (or any text file) under tmp_path and return its path."""

    def _write(text: str, name: str = "pipeline.yaml") -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    return _write


def subprocess_env(home: Path, log: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["ROUTEYARD_HOME"] = str(home)
    env["ROUTEYARD_PLUGINS"] = "tests.fakes.ops"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if log is not None:
        env["ROUTEYARD_TEST_LOG"] = str(log)
    return env
