"""The providers' own listings, read by ``routeyard models sync``.

fal: ``GET /v1/models/pricing?endpoint_id=a,b`` (prices per endpoint, in
fal's unit) and ``GET /v1/models`` (every endpoint, paginated). Replicate:
``GET /v1/models/{owner}/{name}`` (no prices in its API). Gemini API:
``GET /v1beta/models`` (ids, paginated; no prices). BFL, Kling, ModelArk and
OpenAI's images have no price listing: the report says so, with the date of
the last check by hand. A listing that fails (5xx, garbled) is reported as
failed and counts as no miss: only an answer that omits an endpoint does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routeyard.errors import ProviderError, TransientError
from routeyard.providers.transfer import json_of

FAL_UNITS = {
    "image": "image",
    "images": "image",
    "megapixel": "megapixel",
    "megapixels": "megapixel",
    "video_second": "video_second",
    "second": "video_second",
    "seconds": "video_second",
}
FAL_BATCH = 50
MAX_PAGES = 50


@dataclass
class Listing:
    """What one provider's listing said: the endpoints it confirmed (with a
    price where it gives one), every id it lists, and what went wrong."""

    provider: str
    seen: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    odd: list[str] = field(default_factory=list)  # unknown units and the like
    error: str | None = None
    complete: bool = True  # False: the listing broke off; absences prove nothing


async def fal(adapter: Any, endpoints: list[str]) -> Listing:
    out = Listing("fal")
    rest = adapter.rest_url
    try:
        for i in range(0, len(endpoints), FAL_BATCH):
            batch = endpoints[i : i + FAL_BATCH]
            r = await adapter.http.call(
                "GET", f"{rest}/v1/models/pricing", params={"endpoint_id": ",".join(batch)}
            )
            if r.status_code >= 300:
                raise adapter._error(r)
            data = json_of("fal", r)
            for row in (data or {}).get("prices") or []:
                _fal_price(out, row)
        out.listed = await _fal_models(adapter, rest, out)
    except (ProviderError, TransientError) as exc:
        out.error, out.complete = str(exc), False
    return out


def _fal_price(out: Listing, row: dict[str, Any]) -> None:
    endpoint = row.get("endpoint_id")
    if not endpoint:
        return
    unit = FAL_UNITS.get(str(row.get("unit") or "").lower())
    price = row.get("unit_price")
    if unit is None or not isinstance(price, int | float) or row.get("currency", "USD") != "USD":
        out.odd.append(
            f"{endpoint}: unknown unit {row.get('unit')!r} ({price} {row.get('currency')}); "
            "not applied"
        )
        out.seen[endpoint] = None
        return
    out.seen[endpoint] = {"unit": unit, "usd": float(price)}


async def _fal_models(adapter: Any, rest: str, out: Listing) -> set[str]:
    ids: set[str] = set()
    cursor = None
    for _ in range(MAX_PAGES):
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        r = await adapter.http.call("GET", f"{rest}/v1/models", params=params)
        if r.status_code >= 300:
            raise adapter._error(r)
        data = json_of("fal", r) or {}
        ids |= {m.get("endpoint_id") for m in data.get("models") or [] if m.get("endpoint_id")}
        cursor = data.get("next_cursor")
        if not data.get("has_more") or not cursor:
            return ids
    out.odd.append(f"the model list ran past {MAX_PAGES} pages; the rest was not read")
    out.complete = False
    return ids


async def replicate(adapter: Any, slugs: list[str]) -> Listing:
    out = Listing("replicate")
    for slug in slugs:
        try:
            r = await adapter.http.call("GET", f"/v1/models/{slug}")
        except (ProviderError, TransientError) as exc:
            out.error, out.complete = str(exc), False
            return out
        if r.status_code == 404:
            continue
        if r.status_code >= 300:
            out.error, out.complete = str(adapter._error(r)), False
            return out
        out.seen[slug] = None  # listed; Replicate's API carries no price
        out.listed.add(slug)
    return out


async def google(adapter: Any) -> Listing:
    out = Listing("google")
    token = None
    try:
        for _ in range(MAX_PAGES):
            params = {"pageSize": 1000, **({"pageToken": token} if token else {})}
            r = await adapter.http.call("GET", "/v1beta/models", params=params)
            if r.status_code >= 300:
                raise adapter._error(r)
            data = json_of("google", r) or {}
            for m in data.get("models") or []:
                name = str(m.get("name") or "").removeprefix("models/")
                if name:
                    out.listed.add(name)
                    out.seen[name] = None
            token = data.get("nextPageToken")
            if not token:
                return out
    except (ProviderError, TransientError) as exc:
        out.error, out.complete = str(exc), False
    return out
