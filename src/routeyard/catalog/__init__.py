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


class Trait(_Strict):
    value: float = Field(ge=0, le=1)
    source: str


class Limits(_Strict):
    max_side: int | None = None
    max_megapixels: float | None = None
    aspects: Literal["any"] | tuple[str, ...] = "any"
    durations: tuple[float, ...] = ()
    resolutions: tuple[str, ...] = ()
    fps: int | None = None


class Price(_Strict):
    unit: Literal["image", "megapixel", "video_second", "free"]
    usd: float = Field(ge=0)
    per_resolution: dict[str, float] = Field(default_factory=dict)
    source: str
    date: str = ""


class Host(_Strict):
    provider: str
    endpoints: dict[str, str]


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

    @field_validator("traits", mode="before")
    @classmethod
    def _pairs(cls, raw: Any) -> Any:
        """``typography: [0.92, rules]`` in the YAML is (value, source)."""
        if isinstance(raw, dict):
            return {
                k: {"value": v[0], "source": v[1]} if isinstance(v, list | tuple) else v
                for k, v in raw.items()
            }
        return raw

    @model_validator(mode="after")
    def _known_traits(self) -> Model:
        unknown = set(self.traits) - set(TRAITS)
        if unknown:
            raise ValueError(f"unknown trait(s) {sorted(unknown)}; known: {', '.join(TRAITS)}")
        return self

    @property
    def hosted(self) -> bool:
        return self.family != "local"

    def trait(self, name: str) -> float | None:
        t = self.traits.get(name)
        return None if t is None else t.value

    def providers_for(self, op: str) -> list[Host]:
        return [h for h in self.hosts if op in h.endpoints]


class ProviderInfo(_Strict):
    env: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # an alternative set of variables that also works
    with_: tuple[str, ...] = Field(default=(), alias="with")  # needed beside ``env``


class Catalog(_Strict):
    price_table_date: str
    sources: dict[str, str]
    providers: dict[str, ProviderInfo]
    models: tuple[Model, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        seen: set[str] = set()
        for m in self.models:
            if m.id in seen:
                raise ValueError(f"model '{m.id}' is listed twice")
            seen.add(m.id)
            for name, t in m.traits.items():
                if t.source not in self.sources:
                    raise ValueError(f"{m.id}.{name}: unknown source '{t.source}'")
            if m.price.source not in self.sources:
                raise ValueError(f"{m.id}.price: unknown source '{m.price.source}'")
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
        return next((m for m in self.models if m.id == model_id), None)

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


def parse(text: str, source: str = "models.yaml") -> Catalog:
    """A catalog from YAML text; one clear error naming the file and entry when it is wrong."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RouteyardError(f"{source}: not valid YAML ({exc})") from None
    date = str(raw.get("price_table_date", ""))
    models = [{**m, "price": {"date": date, **m.get("price", {})}} for m in raw.get("models", [])]
    try:
        return Catalog.model_validate(
            {
                "price_table_date": date,
                "sources": {"measured": LOCAL_SOURCE, **raw.get("sources", {})},
                "providers": raw.get("providers", {}),
                "models": models,
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        if where.startswith("models."):  # name the entry by its id, not its position
            parts = where.split(".")
            entry = models[int(parts[1])].get("id", parts[1]) if parts[1].isdigit() else parts[1]
            where = ".".join([str(entry), *parts[2:]])
        message = err["msg"].removeprefix("Value error, ")
        raise RouteyardError(
            f"{source}: {where + ': ' if where else ''}{message}",
            hint="fix the catalog entry named above",
        ) from None


def load(path: str | Path | None = None) -> Catalog:
    """The packaged catalog, or one at ``path`` (else ``ROUTEYARD_CATALOG``).

    Parsed once per file: the environment is read here, outside the cache, so
    a changed ``ROUTEYARD_CATALOG`` is seen by the next call.
    """
    return _load(str(path or catalog_path() or _DATA))


@functools.cache
def _load(path: str) -> Catalog:
    chosen = Path(path)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteyardError(f"{chosen}: cannot read the model catalog ({exc.strerror})") from None
    return parse(text, str(chosen))
