"""Fixtures: the fake providers on 127.0.0.1, keys and base URLs pointing at them,
and a providers config with fast polling so a test's jobs take a second."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.fakes.bfl import FakeBfl
from tests.fakes.byteplus import FakeBytePlus
from tests.fakes.fal import FakeFal
from tests.fakes.google import FakeGoogle
from tests.fakes.kling import FakeKling
from tests.fakes.replicate import FakeReplicate

FAKES = {
    "fal": FakeFal,
    "replicate": FakeReplicate,
    "bfl": FakeBfl,
    "google": FakeGoogle,
    "kling": FakeKling,
    "byteplus": FakeBytePlus,
}
# Distinctive values, so a test can grep the store and the output for them.
KEYS = {
    "fal": {"FAL_KEY": "fal-SECRET-7f3a9c1e5b"},
    "replicate": {"REPLICATE_API_TOKEN": "r8_SECRET_4d2b8e6f1a"},
    "bfl": {"BFL_API_KEY": "bfl-SECRET-9a8b7c6d5e"},
    "google": {"GEMINI_API_KEY": "AIza-SECRET-3c5e7a9b1d"},
    "kling": {
        "KLING_ACCESS_KEY": "ak-SECRET-2e4f6a8c0b",
        "KLING_SECRET_KEY": "sk-SECRET-1b3d5f7a9c-0123456789abcdef",
    },
    "byteplus": {"ARK_API_KEY": "ark-SECRET-8c6a4e2f0d"},
}
ALL_KEY_VARS = [
    "FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "REPLICATE_API_TOKEN", "BFL_API_KEY",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY", "ARK_API_KEY",
]  # fmt: skip
FAST = {"poll_initial_s": 0.05, "poll_cap_s": 0.2, "timeout_s": 30, "download_timeout_s": 10}


def make_fake(name: str, **kw):
    keys = list(KEYS[name].values())
    if name == "kling":
        return FAKES[name](access=keys[0], secret=keys[1], **kw)
    return FAKES[name](keys[0], **kw)


def write_config(path: Path, **overrides) -> Path:
    config = {name: {**FAST, **overrides} for name in FAKES}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def provider_env(tmp_path, monkeypatch):
    """No keys from the machine leak in; fast polling for every provider."""
    for var in ALL_KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    for name in FAKES:
        monkeypatch.delenv(f"ROUTEYARD_{name.upper()}_BASE_URL", raising=False)
    cfg = write_config(tmp_path / "providers.yaml")
    monkeypatch.setenv("ROUTEYARD_CONFIG", str(cfg))
    return cfg


@pytest.fixture
def fakes(provider_env, monkeypatch):
    """``fakes("kling", "bfl")`` starts those fakes and points their adapters at them."""
    started = []

    def start(*names: str, **kw):
        out = []
        for name in names:
            fake = make_fake(name, **kw).start()
            started.append(fake)
            for var, value in KEYS[name].items():
                monkeypatch.setenv(var, value)
            monkeypatch.setenv(f"ROUTEYARD_{name.upper()}_BASE_URL", fake.url)
            out.append(fake)
        return out[0] if len(out) == 1 else out

    yield start
    for fake in started:
        fake.stop()


def env_with(fakes_started, base_env=None) -> dict[str, str]:
    env = dict(base_env or os.environ)
    for fake in fakes_started:
        env.update(KEYS[fake.name])
        env[f"ROUTEYARD_{fake.name.upper()}_BASE_URL"] = fake.url
    return env


@pytest.fixture(autouse=True)
def _fresh_cooldowns():
    """Cooldowns are process-wide by design (the API keeps one); each test starts with none."""
    from routeyard.api import _COOLDOWNS

    _COOLDOWNS.clear()
    yield
    _COOLDOWNS.clear()
