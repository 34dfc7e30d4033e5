"""Where a hosted adapter finds its key, its base URL and its limits.

Credentials come from the provider's usual environment variables (the ones
its own SDK reads: ``FAL_KEY``, ``REPLICATE_API_TOKEN``…), else from a
config file kept outside the project folder, so a key is never committed
with a pipeline or copied into the store. The file is YAML, one section per
provider, keyed by the same variable names::

    # ~/.config/routeyard/providers.yaml  (or $ROUTEYARD_CONFIG)
    kling:
      KLING_ACCESS_KEY: ak-...
      KLING_SECRET_KEY: sk-...
      concurrency: 3
    fal:
      base_url: https://queue.fal.run
      timeout_s: 900

``ROUTEYARD_<PROVIDER>_BASE_URL`` points an adapter at another endpoint (a
proxy, a region, or the tests' fake servers); the environment wins over the
file for every field.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routeyard.errors import RouteyardError

# Defaults from each provider's documented limits (PROVIDERS.md); a team with a
# bigger plan raises them in the config file.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "fal": {"concurrency": 10, "requests_per_minute": 600},
    "replicate": {"concurrency": 10, "requests_per_minute": 600},  # create: 600/min
    "bfl": {"concurrency": 24, "requests_per_minute": 600},  # 24 in-flight tasks
    "google": {"concurrency": 5, "requests_per_minute": 60},
    "kling": {"concurrency": 5, "requests_per_minute": 120},
    "byteplus": {"concurrency": 10, "requests_per_minute": 300},
}
_FIELDS = {
    "base_url",
    "concurrency",
    "requests_per_minute",
    "timeout_s",
    "poll_initial_s",
    "poll_cap_s",
    "download_timeout_s",
    "prefer_wait_s",
}


class ConfigError(RouteyardError):
    pass


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    base_url: str
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    source: str = ""  # where the credentials came from, for `providers check`
    concurrency: int = 4
    requests_per_minute: float | None = None
    timeout_s: float | None = None  # None: from the model's typical latency
    poll_initial_s: float = 1.0
    poll_cap_s: float = 15.0
    download_timeout_s: float = 120.0
    prefer_wait_s: int = 0

    def credential(self, *names: str) -> str | None:
        for n in names:
            if self.credentials.get(n):
                return self.credentials[n]
        return None


def config_path() -> Path:
    explicit = os.environ.get("ROUTEYARD_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "routeyard" / "providers.yaml"


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML",
            hint="one section per provider, e.g. `fal: {FAL_KEY: …}`",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of provider sections")
    for name, section in data.items():
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: section '{name}' must be a mapping")
    return data


def config_file() -> dict[str, Any]:
    """The config file's sections, or {} when there is none."""
    path = config_path()
    try:
        st = path.stat()
    except OSError:
        return {}
    return _read(str(path), st.st_mtime)


def config_file_readable_by_others() -> bool:
    """A key file others can read is worth a warning in `providers check`."""
    try:
        return bool(config_path().stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


def credential_names(provider: str) -> list[str]:
    from routeyard import catalog

    info = catalog.load().providers.get(provider)
    if info is None:
        return []
    return [*info.env, *info.with_, *info.also]


def load(provider: str, default_base_url: str) -> ProviderSettings:
    """The provider's settings: environment first, then the config file, then defaults."""
    section = config_file().get(provider, {})
    unknown = [k for k in section if k not in _FIELDS and k not in credential_names(provider)]
    if unknown:
        raise ConfigError(
            f"{config_path()}: section '{provider}' has unknown field '{unknown[0]}'",
            hint=f"fields: {', '.join(sorted(_FIELDS | set(credential_names(provider))))}",
        )
    creds, sources = {}, set()
    for name in credential_names(provider):
        if os.environ.get(name):
            creds[name] = os.environ[name]
            sources.add("environment")
        elif section.get(name):
            creds[name] = str(section[name])
            sources.add(f"config file {config_path()}")
    values = {**_DEFAULTS.get(provider, {}), **{k: v for k, v in section.items() if k in _FIELDS}}
    env_url = os.environ.get(f"ROUTEYARD_{provider.upper()}_BASE_URL")
    base_url = (env_url or values.pop("base_url", None) or default_base_url).rstrip("/")
    values.pop("base_url", None)
    try:
        return ProviderSettings(
            name=provider,
            base_url=base_url,
            credentials=creds,
            source=" and ".join(sorted(sources)),
            **values,
        )
    except TypeError as exc:
        raise ConfigError(f"{config_path()}: section '{provider}': {exc}") from None


def file_secrets() -> list[str]:
    """Credential values held in the config file, so redaction masks them too."""
    try:
        sections = config_file()
    except ConfigError:
        return []
    out = []
    for provider, section in sections.items():
        names = set(credential_names(provider)) if isinstance(section, dict) else set()
        out += [str(v) for k, v in section.items() if k in names and v]
    return out
