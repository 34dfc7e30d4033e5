"""The provider tests' tables, derived from the catalog and the discovered adapters.

Nothing here names a provider or a model: a new provider (adapter module,
fake module, catalog entries) is covered the moment it exists, and a new
model family on a provider gets its own case, since body builders differ
by family.
"""

from __future__ import annotations

from routeyard import catalog
from routeyard.providers import adapters

# One step template per op the provider tests run (``%s`` is the model).
STEP = {
    "generate": "{op: generate, model: %s, width: 512, height: 384}",
    "edit": "{op: edit, input: base, model: %s, prompt: 'make it painterly'}",
    "inpaint": "{op: inpaint, input: base, model: %s, box: [40, 40, 120, 120]}",
    "remove_object": "{op: remove_object, input: base, model: %s, box: [40, 40, 120, 120]}",
    "upscale": "{op: upscale, input: base, model: %s, scale: 2}",
    "remove_background": "{op: remove_background, input: base, model: %s}",
    "animate": "{op: animate, input: base, model: %s, seconds: 5}",
}


def hosted_endpoints() -> list[tuple[str, str, str, str]]:
    """(provider, op, model, endpoint) for every routable hosted endpoint in the
    catalog (retired models and unavailable hosts are never sent work)."""
    hosted = set(adapters()) - {"local"}
    return [
        (host.provider, op, model.id, endpoint)
        for model in catalog.load().models
        if model.lifecycle()[0] != "retired"
        for host in model.hosts
        if host.provider in hosted and host.status == "active"
        for op, endpoint in host.endpoints.items()
    ]


def shape(provider: str, model_id: str) -> str:
    """The request shape a host speaks: its ``shape`` tag, else the model family."""
    model = catalog.load().get(model_id)
    host = model.host(provider)
    if host.request is not None:  # data-driven: each distinct schema is a shape
        return f"{host.shape}:{host.request.model_dump_json()}"
    return host.shape or model.family


def _first_per(key) -> list[tuple[str, str, str, str]]:
    seen: dict = {}
    for case in hosted_endpoints():
        seen.setdefault(key(case), case)
    return list(seen.values())


def adapter_cases() -> list[tuple[str, str, str, str]]:
    """One case per provider × op × request shape (the first model speaking it)."""
    return [c for c in _first_per(lambda c: (c[0], c[1], shape(c[0], c[2]))) if c[1] in STEP]


def price_by_overlay(provider: str, model_id: str, folder, monkeypatch) -> bool:
    """Give an unconfirmed host the price a team would write in its overlay
    (``overlay_price``); True when one was needed."""
    import yaml

    price = overlay_price(provider, model_id)
    if price is None:
        return False
    overlay = folder / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({
        "sources": {"overlay-test": {"text": "a team's own rate card", "date": "2026-12-01"}},
        "updates": {model_id: {"hosts": {provider: {"price": price}}}},
    }))  # fmt: skip
    monkeypatch.setenv("ROUTEYARD_CATALOG_OVERLAY", str(overlay))
    return True


def overlay_price(provider: str, model_id: str) -> dict | None:
    """For a host whose price the sources could not confirm, the price a team
    would put in its overlay, so the test can check cost = quantity x price."""
    model = catalog.load().get(model_id)
    if model.price_for(provider).known:
        return None
    if model.ops[0] == "animate":
        return {"unit": "video_second", "usd": 0.1, "source": "overlay-test"}
    return {"unit": "token", "usd": 30.0, "tokens": {"1K": 1000}, "source": "overlay-test"}


def video_model(provider: str) -> str | None:
    """The first model the provider animates with (its jobs are long-running)."""
    return next(
        (m for p, op, m, _ in hosted_endpoints() if p == provider and op == "animate"), None
    )


def image_edit_model(provider: str) -> str | None:
    return next((m for p, op, m, _ in hosted_endpoints() if p == provider and op == "edit"), None)


def async_providers() -> list[str]:
    """Providers whose video jobs are submitted, polled and fetched."""
    return sorted({p for p, op, _, _ in hosted_endpoints() if op == "animate"})
