"""Configuration read from the environment, in one place.

This is the only module that reads ``os.environ`` or the providers config
file; everything else is handed what it needs (the router its credentials,
redaction its secret values), which keeps the cores pure and testable.

``ROUTEYARD_HOME`` picks the store folder (default ``./.routeyard``);
``ROUTEYARD_PLUGINS`` names extra modules (comma-separated) that register ops
or providers, so a team can add an op without packaging it;
``ROUTEYARD_CONFIG`` the providers config file (default
``~/.config/routeyard/providers.yaml``); ``ROUTEYARD_CATALOG`` a model
catalog to use instead of the packaged one; ``ROUTEYARD_CATALOG_OVERLAY`` the
user's catalog overlay (default ``~/.config/routeyard/catalog.yaml``), which
``routeyard models sync`` writes and a team edits to add its own models.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routeyard.errors import ConfigError

DEFAULT_HOME = ".routeyard"
# Local ops are CPU-bound: more workers than cores only adds contention.
DEFAULT_LOCAL_CONCURRENCY = max(1, os.cpu_count() or 1)
DEFAULT_HOSTED_CONCURRENCY = 4
# Pillow refuses images above this many pixels: a decompression bomb guard.
MAX_IMAGE_PIXELS = 120_000_000


def env(name: str) -> str | None:
    """One environment variable, or None when unset or empty."""
    return os.environ.get(name) or None


def environ() -> Mapping[str, str]:
    """The whole environment, read-only (credential lookup and redaction)."""
    return os.environ


def store_home(explicit: str | Path | None = None) -> Path:
    """The store folder: an explicit path, else ``ROUTEYARD_HOME``, else ``./.routeyard``."""
    if explicit is not None:
        return Path(explicit)
    return Path(env("ROUTEYARD_HOME") or DEFAULT_HOME)


def catalog_path() -> Path | None:
    """A model catalog to use instead of the packaged one (``ROUTEYARD_CATALOG``)."""
    value = env("ROUTEYARD_CATALOG")
    return Path(value) if value else None


def catalog_overlay_path() -> Path:
    """The user's catalog overlay: ``ROUTEYARD_CATALOG_OVERLAY``, else beside the
    providers config (``~/.config/routeyard/catalog.yaml``)."""
    explicit = env("ROUTEYARD_CATALOG_OVERLAY")
    if explicit:
        return Path(explicit)
    base = env("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "routeyard" / "catalog.yaml"


def cache_dir() -> Path:
    """Where derived, re-computable data lives (``XDG_CACHE_HOME``, else ``~/.cache``)."""
    base = env("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "routeyard"


def plugin_modules() -> list[str]:
    raw = env("ROUTEYARD_PLUGINS") or ""
    return [m.strip() for m in raw.split(",") if m.strip()]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for transient provider errors."""

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 30.0


@dataclass(frozen=True)
class Limits:
    """Concurrency per provider, optionally per ``provider/model``.

    The most specific key wins: ``{"fal": 8, "fal/kling-2.1": 2}`` lets eight
    fal jobs run at once, of which at most two on Kling.
    """

    per_key: dict[str, int] = field(default_factory=dict)

    def for_provider(self, provider: str) -> int:
        if provider in self.per_key:
            return self.per_key[provider]
        return DEFAULT_LOCAL_CONCURRENCY if provider == "local" else DEFAULT_HOSTED_CONCURRENCY

    def for_model(self, provider: str, model: str) -> int | None:
        return self.per_key.get(f"{provider}/{model}")


def database_url() -> str | None:
    """A catalog database other than the store's SQLite file (``ROUTEYARD_DATABASE_URL``)."""
    return env("ROUTEYARD_DATABASE_URL")


def studio_token() -> str | None:
    """The token a non-loopback studio requires (``ROUTEYARD_TOKEN``)."""
    return env("ROUTEYARD_TOKEN")


def providers_config_path() -> Path:
    explicit = env("ROUTEYARD_CONFIG")
    if explicit:
        return Path(explicit)
    base = env("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "routeyard" / "providers.yaml"


@functools.lru_cache(maxsize=8)
def _read_providers_config(path: str, mtime: float) -> dict[str, Any]:
    import yaml

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


def providers_config() -> dict[str, Any]:
    """The providers config file's sections, or {} when there is none (re-read when it changes)."""
    path = providers_config_path()
    try:
        st = path.stat()
    except OSError:
        return {}
    return _read_providers_config(str(path), st.st_mtime)


# The non-credential fields of a provider's section in the config file.
PROVIDER_SETTING_FIELDS = frozenset(
    {
        "base_url",
        "concurrency",
        "requests_per_minute",
        "timeout_s",
        "request_timeout_s",
        "poll_initial_s",
        "poll_cap_s",
        "download_timeout_s",
        "prefer_wait_s",
    }
)


def known_secrets(names: Iterable[str] = ()) -> list[str]:
    """Credential values to mask everywhere: credential-looking environment
    variables, the variables ``names`` (the providers' key variables, whatever
    their length), and every value of the providers config file that is not a
    plain setting (its keys)."""
    from routeyard.secrets import secret_values

    try:
        sections = providers_config()
    except ConfigError:
        sections = {}
    held = [
        str(v)
        for section in sections.values()
        for k, v in section.items()
        if k not in PROVIDER_SETTING_FIELDS and v is not None
    ]
    return secret_values(environ(), held, names)


def providers_config_readable_by_others() -> bool:
    """A key file others can read is worth a warning in `providers check`."""
    try:
        return bool(providers_config_path().stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


# ------------------------------------------------------- Content Credentials
@dataclass(frozen=True)
class C2paSigner:
    """The key and certificate chain that sign Content Credentials, and where
    they came from. The key stays in memory: it is never logged, stored or
    written anywhere (``repr`` leaves it out)."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    alg: str | None
    tsa_url: str | None
    source: str


def credentials_dir() -> Path:
    """Where `routeyard credentials init` keeps its development CA and signer
    (``ROUTEYARD_CREDENTIALS_DIR``, else ``~/.config/routeyard/credentials``)."""
    explicit = env("ROUTEYARD_CREDENTIALS_DIR")
    if explicit:
        return Path(explicit)
    base = env("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "routeyard" / "credentials"


def _pem(value: str, what: str) -> bytes:
    """A PEM given inline or as a path to a file."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{what}: cannot read {path} ({exc.strerror or exc})",
            hint="give a PEM file's path, or the PEM itself",
        ) from None


def c2pa_signer() -> C2paSigner | None:
    """The signer, from the first place that names one: ``ROUTEYARD_C2PA_KEY``
    and ``ROUTEYARD_C2PA_CERT`` (paths or PEM; ``ROUTEYARD_C2PA_ALG``,
    ``ROUTEYARD_C2PA_TSA_URL`` optional), the ``c2pa:`` section of the config
    file (``key``, ``cert``, ``alg``, ``tsa_url``), or the development signer
    `routeyard credentials init` made. None when there is none."""
    key, cert = env("ROUTEYARD_C2PA_KEY"), env("ROUTEYARD_C2PA_CERT")
    if key or cert:
        if not (key and cert):
            missing = "ROUTEYARD_C2PA_CERT" if key else "ROUTEYARD_C2PA_KEY"
            raise ConfigError(
                f"{missing} is not set (a signer needs both a key and its certificate chain)",
                hint="set both, or neither to export without signed credentials",
            )
        return C2paSigner(
            cert_pem=_pem(cert, "ROUTEYARD_C2PA_CERT"),
            key_pem=_pem(key, "ROUTEYARD_C2PA_KEY"),
            alg=env("ROUTEYARD_C2PA_ALG"),
            tsa_url=env("ROUTEYARD_C2PA_TSA_URL"),
            source="ROUTEYARD_C2PA_KEY / ROUTEYARD_C2PA_CERT",
        )
    section = providers_config().get("c2pa") or {}
    if section.get("key") or section.get("cert"):
        where = f"{providers_config_path()}: section 'c2pa'"
        if not (section.get("key") and section.get("cert")):
            raise ConfigError(f"{where}: needs both 'key' and 'cert'")
        return C2paSigner(
            cert_pem=_pem(str(section["cert"]), f"{where}, 'cert'"),
            key_pem=_pem(str(section["key"]), f"{where}, 'key'"),
            alg=section.get("alg"),
            tsa_url=section.get("tsa_url") or env("ROUTEYARD_C2PA_TSA_URL"),
            source=where,
        )
    folder = credentials_dir()
    if (folder / "signer.key").is_file() and (folder / "signer.pem").is_file():
        return C2paSigner(
            cert_pem=(folder / "signer.pem").read_bytes(),
            key_pem=(folder / "signer.key").read_bytes(),
            alg=None,
            tsa_url=env("ROUTEYARD_C2PA_TSA_URL"),
            source=f"{folder} (routeyard credentials init: development only, untrusted)",
        )
    return None


def c2pa_trust_anchors() -> bytes | None:
    """Root certificates `routeyard verify` trusts besides none: the PEM
    bundle ``ROUTEYARD_C2PA_TRUST`` (path or PEM) or the config file's
    ``c2pa: {trust: …}``, plus the development CA of `credentials init` when
    there is one (reported as such, never as a public trust list)."""
    parts: list[bytes] = []
    value = env("ROUTEYARD_C2PA_TRUST") or (providers_config().get("c2pa") or {}).get("trust")
    if value:
        parts.append(_pem(str(value), "ROUTEYARD_C2PA_TRUST"))
    dev = credentials_dir() / "ca.pem"
    if dev.is_file():
        parts.append(dev.read_bytes())
    return b"\n".join(parts) if parts else None
