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

from dataclasses import dataclass, field
from typing import Any

from routeyard import config
from routeyard.errors import ConfigError

_FIELDS = config.PROVIDER_SETTING_FIELDS


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
    request_timeout_s: float = 60.0  # one HTTP request's answer (a submit's, a poll's)
    prefer_wait_s: int = 0

    def credential(self, *names: str) -> str | None:
        for n in names:
            if self.credentials.get(n):
                return self.credentials[n]
        return None


config_path = config.providers_config_path
config_file = config.providers_config
config_file_readable_by_others = config.providers_config_readable_by_others


def credential_names(provider: str) -> list[str]:
    from routeyard import catalog

    info = catalog.load().providers.get(provider)
    if info is None:
        return []
    return [*info.env, *info.with_, *info.also]


def load(
    provider: str, default_base_url: str, defaults: dict[str, Any] | None = None
) -> ProviderSettings:
    """The provider's settings: environment first, then the config file, then
    ``defaults`` (the adapter's ``default_limits``, from its documented limits)."""
    section = config_file().get(provider, {})
    unknown = [k for k in section if k not in _FIELDS and k not in credential_names(provider)]
    if unknown:
        raise ConfigError(
            f"{config_path()}: section '{provider}' has unknown field '{unknown[0]}'",
            hint=f"fields: {', '.join(sorted(_FIELDS | set(credential_names(provider))))}",
        )
    creds, sources = {}, set()
    for name in credential_names(provider):
        if config.env(name):
            creds[name] = config.env(name)
            sources.add("environment")
        elif section.get(name):
            creds[name] = str(section[name])
            sources.add(f"config file {config_path()}")
    values = {**(defaults or {}), **{k: v for k, v in section.items() if k in _FIELDS}}
    env_url = config.env(f"ROUTEYARD_{provider.upper()}_BASE_URL")
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


def available_credentials() -> dict[str, str]:
    """Every credential the router may assume, by variable name: the config
    file's values, overridden by the environment's (the same order ``load`` uses)."""
    creds: dict[str, str] = {}
    for section in config_file().values():
        creds.update({k: str(v) for k, v in section.items() if v})
    creds.update({k: v for k, v in config.environ().items() if v})
    return creds
