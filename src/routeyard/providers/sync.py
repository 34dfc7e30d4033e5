"""``routeyard models sync``: the catalog refreshed from the providers' listings.

Each provider with a listing API is asked about every endpoint the catalog
names for it. What it says goes to the user's overlay, never into the
package: prices that moved (where the catalog's price is as simple as the
listing's: one rate per unit), endpoints it no longer lists (``unavailable``
after two consecutive misses, never deleted, so old runs' lineage still
resolves), endpoints it lists that the catalog does not know (reported, not
routed: a new model needs traits and a price someone has read). A listing
that fails counts as no miss.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from routeyard import catalog as catalogs
from routeyard.catalog import overlay as overlays
from routeyard.providers import listing

MISSES_TO_UNAVAILABLE = 2
SOURCE = "models-sync"


def _hosts(cat: catalogs.Catalog, provider: str) -> list[tuple[catalogs.Model, catalogs.Host]]:
    return [(m, h) for m in cat.models for h in m.hosts if h.provider == provider]


async def _listing(name: str, adapter: Any, cat: catalogs.Catalog) -> listing.Listing:
    ids = sorted({e for _, h in _hosts(cat, name) for e in h.endpoints.values()})
    if name == "fal":
        return await listing.fal(adapter, ids)
    if name == "replicate":
        return await listing.replicate(adapter, ids)
    return await listing.google(adapter)


def _simple(price: catalogs.Price | None) -> bool:
    """A price one listed rate can replace: one usd per unit, no tiers."""
    return price is None or not price.known or not (
        price.per_resolution or price.per_quality or price.first_mp_usd or price.with_audio
        or price.tokens or price.input_mp_usd
    )  # fmt: skip


def apply(
    cat: catalogs.Catalog, result: listing.Listing, data: dict[str, Any], today: str
) -> dict[str, Any]:
    """Fold one provider's listing into the overlay ``data``; what changed, for the report."""
    report: dict[str, Any] = {
        "provider": result.provider,
        "listing": cat.providers[result.provider].listing,
        "error": result.error,
        "new": [],
        "prices": [],
        "vanished": [],
        "back": [],
        "odd": list(result.odd),
    }
    updates = data.setdefault("updates", {})
    known = set()
    for model, host in _hosts(cat, result.provider):
        endpoints = list(host.endpoints.values())
        known |= set(endpoints)
        if not result.complete:
            continue
        entry = updates.setdefault(model.id, {}).setdefault("hosts", {})
        change = entry.setdefault(result.provider, {})
        listed = any(e in result.seen for e in endpoints)
        if not listed:
            misses = host.misses + 1
            change["misses"] = misses
            if misses >= MISSES_TO_UNAVAILABLE and host.status != "unavailable":
                change["status"] = "unavailable"
                report["vanished"].append(f"{model.id} ({', '.join(endpoints)})")
            elif misses < MISSES_TO_UNAVAILABLE:
                report["vanished"].append(f"{model.id}: missed once (unavailable after two)")
            continue
        if host.status == "unavailable" or host.misses:
            change.update(status="active", misses=0)
            if host.status == "unavailable":
                report["back"].append(model.id)
        listed_price = next((result.seen[e] for e in endpoints if result.seen.get(e)), None)
        if listed_price is not None:
            _price(model, host, listed_price, change, report, today)
        if not change:
            entry.pop(result.provider)
    if result.complete and result.listed:
        report["new"] = sorted(result.listed - known)
    _prune(updates)
    if result.error is None:
        data.setdefault("synced", {})[result.provider] = today
    return report


def _price(model, host, listed: dict, change: dict, report: dict, today: str) -> None:
    current = model.price_for(host.provider)
    same = (
        current.known and current.unit == listed["unit"] and abs(current.usd - listed["usd"]) < 1e-9
    )
    if same and _simple(current):
        return
    if not _simple(current) and current.unit == listed["unit"]:
        report["odd"].append(
            f"{model.id}: listed at ${listed['usd']:g}/{listed['unit']}; the catalog's tiered "
            f"price is kept"
        )
        return
    was = f"${current.usd:g}/{current.unit}" if current.known else "unknown"
    change["price"] = {**listed, "source": SOURCE, "date": today, "conf": "official"}
    report["prices"].append(
        f"{model.id} on {host.provider}: {was} → ${listed['usd']:g}/{listed['unit']}"
    )


def _prune(updates: dict[str, Any]) -> None:
    for model_id in list(updates):
        hosts = updates[model_id].get("hosts")
        if hosts is not None and not hosts:
            updates[model_id].pop("hosts")
        if not updates[model_id]:
            updates.pop(model_id)


def sync(
    adapters: dict[str, Any], *, write: bool = True, today: str | None = None
) -> dict[str, Any]:
    """Ask every configured provider with a listing; write the overlay; the report."""
    today = today or dt.date.today().isoformat()
    path = overlays.overlay_path()
    data = overlays.read_overlay(path) if path is not None and path.exists() else {}
    cat = catalogs.load()
    reports = []
    asked = [
        (name, a)
        for name, a in sorted(adapters.items())
        if cat.providers.get(name) and cat.providers[name].listing
    ]

    async def everything():
        results = []
        for name, adapter in asked:
            if not adapter.configured():
                results.append(listing.Listing(name, error="no credentials", complete=False))
                continue
            try:
                results.append(await _listing(name, adapter, cat))
            finally:
                await adapter.aclose()
        return results

    for result in asyncio.run(everything()):
        reports.append(apply(cat, result, data, today))
    data.setdefault("sources", {})[SOURCE] = {
        "text": "the providers' own listing APIs, read by `routeyard models sync`",
        "date": today,
        "conf": "official",
    }
    manual = [
        {
            "provider": name,
            "listing": None,
            "note": f"no price listing API; prices last checked by hand on {info.checked}",
        }
        for name, info in sorted(cat.providers.items())
        if not info.listing and info.checked
    ]
    if write and path is not None:
        overlays.write_overlay(path, data)
    return {"overlay": str(path), "written": write, "providers": reports, "manual": manual}
