"""Fixtures: the fake providers on 127.0.0.1, keys and base URLs pointing at them,
and a providers config with fast polling so a test's jobs take a second."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from routeyard.canonical import sha256_hex
from routeyard.providers import hosted_providers
from routeyard.providers.settings import credential_names
from tests.fakes import fake_classes

# Discovered, not listed: a provider is its adapter module, its fake module
# and its catalog entry (``test_every_hosted_adapter_has_a_fake`` holds them together).
FAKES = fake_classes()


def _key(var: str) -> str:
    """A distinctive, live-looking value per variable, so a test can grep the
    store and the output for it."""
    return f"{var.split('_')[0].lower()}-SECRET-{sha256_hex(var.encode())[:24]}"


def _required(provider: str) -> list[str]:
    """The credentials a provider needs: its first key and those that go with it."""
    from routeyard import catalog

    info = catalog.load().providers[provider]
    return [info.env[0], *info.with_] if info.env else []


KEYS = {name: {var: _key(var) for var in _required(name)} for name in FAKES}
ALL_KEY_VARS = sorted({v for name in [*FAKES, *hosted_providers()] for v in credential_names(name)})
FAST = {"poll_initial_s": 0.05, "poll_cap_s": 0.2, "timeout_s": 30, "download_timeout_s": 10}


def make_fake(name: str, **kw):
    """The fake, expecting the keys (in the catalog's order) the adapter will send."""
    return FAKES[name](*KEYS[name].values(), **kw)


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
