"""The model catalog: what each model serves, how good it is at what, what it costs.

The catalog is data (``models.yaml`` beside this file), so adding a model is
an edit there, not code. Every trait value carries the key of its source,
every price the unit the provider bills in and the table's date, every host
the endpoint id per op and the environment variables holding its key. Local
ops join the catalog as ``local/<op>``: free, always available, with the
traits the YAML gives them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from routeyard.config import catalog_path
from routeyard.errors import RouteyardError

TRAITS = (
    "typography",
    "photorealism",
    "stylization",
    "prompt_adherence",
    "edit_precision",
    "motion_physics",
    "motion_smoothness",
    "temporal_stability",
    "identity_preservation",
)
FAMILIES_SEEDED = ("flux", "nano-banana", "seedream", "kling", "veo", "seedance", "local")
_DATA = Path(__file__).with_name("models.yaml")
LOCAL_SOURCE = "Measured on routeyard's own local ops with its quality gates (benchmarks/)."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Strict):
    """One published claim behind a trait: what was said, by whom, when."""

    claim: str
    source: str
    date: str = ""


class Trait(_Strict):
    """A prior in [0, 1] (the article's rules, a team estimate) and the evidence
    it rests on; the learner's measured pass rates move the route on top of it."""

    value: float = Field(ge=0, le=1)
    source: str
    evidence: tuple[Evidence, ...] = ()


class Limits(_Strict):
    max_side: int | None = None
    min_side: int | None = None
    side_multiple: int | None = None
    max_megapixels: float | None = None
    aspects: Literal["any"] | tuple[str, ...] = "any"
    durations: tuple[float, ...] = ()
    resolutions: tuple[str, ...] = ()
    fps: int | None = None
    max_reference_images: int | None = None

    @field_validator("durations", mode="before")
    @classmethod
    def _span(cls, raw: Any) -> Any:
        """``durations: "3-15"`` is every whole second from 3 to 15."""
        if isinstance(raw, str):
            lo, _, hi = raw.partition("-")
            return tuple(range(int(lo), int(hi or lo) + 1))
        return raw


PRICE_UNITS = ("image", "megapixel", "video_second", "token", "free", "unknown")


class Price(_Strict):
    """What one result costs, in the unit the provider bills.

    ``usd`` is per unit (per image, megapixel, second, or per *million* tokens);
    ``per_resolution`` overrides it by tier (image 1K/2K/4K, video 720p/1080p);
    ``first_mp_usd`` is the first megapixel's price where extras cost ``usd``
    (FLUX.2) and ``input_mp_usd`` each reference megapixel; ``with_audio`` the
    per-tier rate when native audio is asked (or ``audio_multiplier``);
    ``tokens`` how a token-billed result counts: per image tier, or ``fps`` for
    the video formula tokens = seconds x W x H x fps / 1024. ``unknown``: the
    sources could not confirm it (``routeyard models sync`` may fill it).
    """

    unit: Literal["image", "megapixel", "video_second", "token", "free", "unknown"]
    usd: float = Field(default=0.0, ge=0)
    per_resolution: dict[str, float] = Field(default_factory=dict)
    per_quality: dict[str, float] = Field(default_factory=dict)
    first_mp_usd: float | None = None
    input_mp_usd: float | None = None
    round_mp_up: bool = False  # whole megapixels, each reference at least one (fal)
    with_audio: dict[str, float] = Field(default_factory=dict)
    audio_multiplier: float | None = None
    tokens: dict[str, float] = Field(default_factory=dict)
    source: str
    date: str = ""
    conf: Literal["official", "third_party", "inferred", "measured", ""] = ""
    note: str = ""

    @field_validator("with_audio", mode="before")
    @classmethod
    def _flat(cls, raw: Any) -> Any:
        return {"": raw} if isinstance(raw, int | float) else raw

    @property
    def known(self) -> bool:
        return self.unit != "unknown"


STATUSES = ("active", "deprecated", "retired")


class Request(_Strict):
    """A hosted endpoint's request shape as data: which field carries what.

    Keys name routeyard's concepts (prompt, image, images, end_image, mask,
    size, aspect, resolution, duration, audio, seed, negative_prompt); values
    are the endpoint's field names. ``duration_format`` renders seconds
    ("{n}" a string, "{n}s" with a suffix, "int"); ``values`` maps a concept's
    routeyard value onto the endpoint's enum (``resolution: {4k: 4K}``);
    ``defaults`` are sent as they are.
    """

    fields: dict[str, str]
    duration_format: Literal["{n}", "{n}s", "int"] = "{n}"
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    output: Literal["images", "image", "video"] | None = None


class Host(_Strict):
    provider: str
    endpoints: dict[str, str]
    # The host's own price when it differs from the vendor's list price.
    price: Price | None = None
    # ``unavailable``: the provider's listing stopped showing it (``models sync``).
    status: Literal["active", "unavailable"] = "active"
    misses: int = 0
    request: Request | None = None
    # The request shape the adapter speaks (tests cover one case per shape).
    shape: str = ""
    conf: str = ""
    note: str = ""


class Model(_Strict):
    id: str
    name: str
    family: str
    version: str
    licence: str = ""
    ops: tuple[str, ...]
    traits: dict[str, Trait]
    limits: Limits = Limits()
    price: Price
    latency_s: float = Field(gt=0)
    hosts: tuple[Host, ...]
    status: Literal["active", "deprecated", "retired"] = "active"
    shutdown: str = ""  # the date it stops (deprecated) or stopped (retired) answering
    successor: str | None = None
    status_source: str = ""
    status_note: str = ""
    released: str = ""
    audio: bool | None = None  # generates native audio (video); None: not confirmed

    @field_validator("traits", mode="before")
    @classmethod
    def _pairs(cls, raw: Any) -> Any:
        """``typography: [0.92, rules]`` in the YAML is (value, source); a third
        item lists evidence as ``[claim, source]`` pairs."""
        if isinstance(raw, dict):
            out = {}
            for k, v in raw.items():
                if isinstance(v, list | tuple):
                    evidence = [
                        {"claim": e[0], "source": e[1]} if isinstance(e, list | tuple) else e
                        for e in (v[2] if len(v) > 2 else [])
                    ]
                    v = {"value": v[0], "source": v[1], "evidence": evidence}
                out[k] = v
            return out
        return raw

    @model_validator(mode="after")
    def _known_traits(self) -> Model:
        unknown = set(self.traits) - set(TRAITS)
        if unknown:
            raise ValueError(f"unknown trait(s) {sorted(unknown)}; known: {', '.join(TRAITS)}")
        if self.status != "active" and not self.shutdown:
            raise ValueError(f"a {self.status} model needs its 'shutdown' date")
        return self

    @property
    def hosted(self) -> bool:
        return self.family != "local"

    def trait(self, name: str) -> float | None:
        t = self.traits.get(name)
        return None if t is None else t.value

    def providers_for(self, op: str) -> list[Host]:
        return [h for h in self.hosts if op in h.endpoints and h.status == "active"]

    def host(self, provider: str | None) -> Host | None:
        return next((h for h in self.hosts if h.provider == provider), None)

    def price_for(self, provider: str | None) -> Price:
        """The host's own price where it lists one, else the vendor's list price."""
        h = self.host(provider)
        return h.price if h is not None and h.price is not None else self.price

    def lifecycle(self, today: str | None = None) -> tuple[str, str]:
        """(status, the words for it) as of ``today`` (ISO date; default: now).

        A deprecated model whose shutdown date has passed is retired: the
        catalog's word from months ago does not keep it routable."""
        today = today or _today()
        arrow = f" → {self.successor}" if self.successor else ""
        if self.status == "retired" or (self.status == "deprecated" and self.shutdown <= today):
            return "retired", f"retired {self.shutdown}{arrow}"
        if self.status == "deprecated":
            return "deprecated", f"deprecated: shuts down {self.shutdown}{arrow}"
        return "active", ""


def _today() -> str:
    import datetime as _dt

    return _dt.date.today().isoformat()


class Source(_Strict):
    text: str = ""
    url: str = ""
    date: str = ""
    conf: str = ""
    note: str = ""

    def __str__(self) -> str:
        return self.text or self.url

    @property
    def label(self) -> str:
        return self.text or self.url


class ProviderInfo(_Strict):
    env: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # an alternative set of variables that also works
    with_: tuple[str, ...] = Field(default=(), alias="with")  # needed beside ``env``
    # The listing API ``models sync`` reads ("" when the provider has none), and
    # for a provider without one, the date its prices were last checked by hand.
    listing: str = ""
    checked: str = ""


class Catalog(_Strict):
    _by_id: tuple[tuple[Model, ...], dict[str, Model]] | None = PrivateAttr(default=None)
    price_table_date: str
    sources: dict[str, Source]
    providers: dict[str, ProviderInfo]
    models: tuple[Model, ...]
    synced: dict[str, str] = Field(default_factory=dict)  # provider → last ``models sync``

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        seen: set[str] = set()
        for m in self.models:
            if m.id in seen:
                raise ValueError(f"model '{m.id}' is listed twice")
            seen.add(m.id)
            for name, t in m.traits.items():
                for key in (t.source, *(e.source for e in t.evidence)):
                    if key not in self.sources:
                        raise ValueError(f"{m.id}.{name}: unknown source '{key}'")
            prices = [m.price, *(h.price for h in m.hosts if h.price is not None)]
            for p in prices:
                if p.source not in self.sources:
                    raise ValueError(f"{m.id}.price: unknown source '{p.source}'")
            if m.successor and m.successor not in {x.id for x in self.models}:
                raise ValueError(f"{m.id}: successor '{m.successor}' is not in the catalog")
            for h in m.hosts:
                if h.provider not in self.providers:
                    raise ValueError(f"{m.id}: unknown provider '{h.provider}'")
                stray = set(h.endpoints) - set(m.ops)
                if stray:
                    raise ValueError(
                        f"{m.id}: {h.provider} endpoints for ops it does not serve: {sorted(stray)}"
                    )
        return self

    def get(self, model_id: str) -> Model | None:
        return self._index().get(model_id)

    def _index(self) -> dict[str, Model]:
        # Keyed by the models tuple itself: a ``model_copy`` with other models
        # (``with_local``) carries this private attribute over, stale.
        cached = self._by_id
        if cached is None or cached[0] is not self.models:
            cached = (self.models, {m.id: m for m in self.models})
            self._by_id = cached
        return cached[1]

    def source_date(self, key: str) -> str:
        s = self.sources.get(key)
        return s.date if s is not None else ""

    def serving(self, op: str) -> list[Model]:
        return [m for m in self.models if op in m.ops]

    def families(self) -> list[str]:
        return sorted({m.family for m in self.models})

    def with_local(self, ops: Iterable[Any]) -> Catalog:
        """This catalog plus a ``local/<op>`` entry for each op that runs locally.

        The ops are handed in (by the router or the API), so the catalog, which
        sits below the ops, never imports them.
        """
        known = {m.id for m in self.models}
        extra = tuple(
            local_model(op) for op in ops if op.runs_locally and f"local/{op.name}" not in known
        )
        return self.model_copy(update={"models": self.models + extra})


def _local_entry(op: Any, raw: dict[str, Any], date: str) -> dict[str, Any]:
    traits = {**raw.get("defaults", {}), **raw.get("ops", {}).get(op.name, {})}
    return {
        "id": f"local/{op.name}",
        "name": f"routeyard local {op.name}",
        "family": "local",
        "version": op.version,
        "licence": "apache-2.0 (routeyard)",
        "ops": [op.name],
        "traits": traits,
        "price": {"unit": "free", "usd": 0.0, "source": "measured", "date": date},
        "latency_s": raw.get("latency_s", 1),
        "hosts": [{"provider": "local", "endpoints": {op.name: op.name}}],
    }


@functools.cache
def _packaged_local() -> tuple[dict[str, Any], str]:
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return raw.get("local", {}), str(raw.get("price_table_date", ""))


@functools.cache
def local_model(op: Any) -> Model:
    """The ``local/<op>`` entry of an op: free, with the traits the packaged YAML gives it."""
    traits, date = _packaged_local()
    return Model.model_validate(_local_entry(op, traits, date))


def _source(raw: Any) -> Any:
    return {"text": raw} if isinstance(raw, str) else raw


def _dated(price: dict[str, Any], sources: dict[str, Any], fallback: str) -> dict[str, Any]:
    """A price's date: its own, else its source's, else the table's."""
    if price.get("date"):
        return price
    src = sources.get(price.get("source", ""))
    date = src.get("date", "") if isinstance(src, dict) else ""
    return {**price, "date": date if _iso(date) else fallback}


def _iso(text: str) -> bool:
    return len(text) >= 7 and text[:4].isdigit() and text[4] == "-"


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """The YAML's shorthand made explicit: dated prices, sources as mappings."""
    date = str(raw.get("price_table_date", ""))
    sources = {k: _source(v) for k, v in (raw.get("sources") or {}).items()}
    sources.setdefault("measured", {"text": LOCAL_SOURCE})
    models = []
    for m in raw.get("models") or []:
        m = {**m, "price": _dated(m.get("price") or {}, sources, date)}
        m["hosts"] = [
            {**h, "price": _dated(h["price"], sources, date)} if h.get("price") else h
            for h in m.get("hosts") or []
        ]
        models.append(m)
    return {
        "price_table_date": date,
        "sources": sources,
        "providers": raw.get("providers", {}),
        "models": models,
        "synced": raw.get("synced") or {},
    }


def parse(text: str, source: str = "models.yaml", overlay: dict[str, Any] | None = None) -> Catalog:
    """A catalog from YAML text (plus a user overlay, ``routeyard.catalog.overlay``);
    one clear error naming the file and entry when it is wrong."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RouteyardError(f"{source}: not valid YAML ({exc})") from None
    if overlay:
        from routeyard.catalog.overlay import merge

        raw = merge(raw, overlay)
    data = normalise(raw)
    models = data["models"]
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        if where.startswith("models."):  # name the entry by its id, not its position
            parts = where.split(".")
            entry = models[int(parts[1])].get("id", parts[1]) if parts[1].isdigit() else parts[1]
            where = ".".join([str(entry), *parts[2:]])
        message = err["msg"].removeprefix("Value error, ")
        named = f"{source}{' + overlay' if overlay else ''}"
        raise RouteyardError(
            f"{named}: {where + ': ' if where else ''}{message}",
            hint="fix the catalog entry named above",
        ) from None


def load(path: str | Path | None = None) -> Catalog:
    """The packaged catalog, or one at ``path`` (else ``ROUTEYARD_CATALOG``), with
    the user's overlay (``ROUTEYARD_CATALOG_OVERLAY``, else
    ``~/.config/routeyard/catalog.yaml``) laid over it.

    Parsed once per file and overlay version: the environment is read here,
    outside the cache, so a changed variable or a fresh sync is seen at once.
    """
    from routeyard.catalog.overlay import overlay_path

    chosen = overlay_path()
    try:
        stamp = chosen.stat().st_mtime_ns if chosen is not None else 0
    except OSError:
        stamp = 0
    return _load(str(path or catalog_path() or _DATA), str(chosen or ""), stamp)


@functools.cache
def _load(path: str, overlay: str = "", stamp: int = 0) -> Catalog:
    chosen = Path(path)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteyardError(f"{chosen}: cannot read the model catalog ({exc.strerror})") from None
    from routeyard.catalog.overlay import read_overlay

    extra = read_overlay(Path(overlay)) if overlay and stamp else None
    return parse(text, str(chosen), extra)
