"""The user's catalog overlay: what ``models sync`` learned, and a team's own models.

The packaged ``models.yaml`` is never written at run time. A sync writes
what the providers' listing APIs say (prices, new endpoints, endpoints that
vanished) to an overlay file, and a team adds its own entries there (a
private fal endpoint, a fine-tune on Replicate). ``merge`` lays it over the
packaged data before validation, so an overlay mistake is reported like a
catalog mistake, naming the entry.

Shape::

    synced: {fal: "2026-12-02"}        # when each provider was last listed
    sources: {fal-sync: {text: …, date: …}}
    models: [ {id: …, …} ]             # whole entries: new, or replacing one
    updates:                            # per model id, fields to replace
      flux-2-max:
        hosts: {fal: {price: {…}, status: unavailable, misses: 2}}
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from routeyard.config import catalog_overlay_path
from routeyard.errors import ConfigError

HEADER = (
    "# routeyard catalog overlay: written by `routeyard models sync`, yours to edit.\n"
    "# It is laid over the packaged catalog; the package itself is never changed.\n"
)


def overlay_path() -> Path | None:
    return catalog_overlay_path()


def read_overlay(path: Path) -> dict[str, Any]:
    """The overlay's data, or one clear error naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the catalog overlay ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: the catalog overlay is not valid YAML",
            hint="fix it, or delete it and run `routeyard models sync` again",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the catalog overlay must be a mapping")
    unknown = set(data) - {"synced", "sources", "providers", "models", "updates"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown overlay section(s) {sorted(unknown)}",
            hint="sections: synced, sources, providers, models, updates",
        )
    return data


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``base`` (the packaged YAML's data) with ``overlay`` laid over it."""
    out = copy.deepcopy(base)
    out["sources"] = {**(out.get("sources") or {}), **(overlay.get("sources") or {})}
    out["providers"] = {**(out.get("providers") or {}), **(overlay.get("providers") or {})}
    models = {m["id"]: m for m in out.get("models") or []}
    for entry in overlay.get("models") or []:
        if isinstance(entry, dict) and entry.get("id"):
            models[entry["id"]] = copy.deepcopy(entry)
    for model_id, changes in (overlay.get("updates") or {}).items():
        target = models.get(model_id)
        if target is None or not isinstance(changes, dict):
            continue  # a model the package dropped: the overlay outlived it
        for key, value in changes.items():
            if key == "hosts" and isinstance(value, dict):
                target["hosts"] = _hosts(target.get("hosts") or [], value)
            else:
                target[key] = copy.deepcopy(value)
    out["models"] = list(models.values())
    out["synced"] = overlay.get("synced") or {}
    return out


def _hosts(hosts: list[dict[str, Any]], changes: dict[str, Any]) -> list[dict[str, Any]]:
    by_provider = {h["provider"]: dict(h) for h in hosts}
    for provider, change in changes.items():
        host = by_provider.setdefault(provider, {"provider": provider, "endpoints": {}})
        for key, value in (change or {}).items():
            if key == "endpoints":
                host["endpoints"] = {**host.get("endpoints", {}), **value}
            else:
                host[key] = copy.deepcopy(value)
    return list(by_provider.values())


def write_overlay(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a crash leaves the old overlay, never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
