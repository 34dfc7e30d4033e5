"""The catalog router: filters, then a score, then a ranked chain with reasons.

For one step it takes the models of the catalog that serve the step's op,
removes those that cannot do the job (each removal recorded with its
reason), scores the rest by the brief's requirement weights over their
traits, plus a policy term trading quality against cost and latency, plus
what the learner has seen of their gate pass rates, and returns the ranked
chain the engine falls back along. The explanation is the product: a person
reading it learns why this model, why not the others, and what it costs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routeyard import billing, ops
from routeyard.brief import Brief
from routeyard.catalog import Catalog, Model, local_model
from routeyard.catalog import load as load_catalog
from routeyard.errors import PipelineError
from routeyard.ops import Op
from routeyard.routing.cooldown import Cooldowns
from routeyard.routing.decision import Lazy, RouteChoice, RouteDecision
from routeyard.routing.requirements import Requirements, analyse

# Policy: (weight of relative cost, weight of relative latency) taken off quality.
POLICIES: dict[str, tuple[float, float]] = {
    "quality": (0.0, 0.0),
    "balanced": (0.10, 0.05),
    "economy": (0.45, 0.0),
    "fast": (0.05, 0.2),
}
NEUTRAL = 0.5  # the value of a trait a model does not list
MAX_FALLBACKS = 4
PINNED_LOCAL = ("local",)

Learned = Callable[[str, str, list[str], bool], float]  # (model, stage, tags, explore) → adjustment


def has_credentials(catalog: Catalog, provider: str, env: Mapping[str, str]) -> bool:
    """Whether the provider's keys are among ``env`` (credential names → values,
    gathered by the composition root from the environment and the config file)."""
    info = catalog.providers.get(provider)
    if info is None:
        return False
    if not info.env:
        return True
    first = any(env.get(v) for v in info.env) and all(env.get(v) for v in info.with_)
    return first or (bool(info.also) and all(env.get(v) for v in info.also))


def estimate_cost(model: Model, req: Requirements, provider: str | None = None) -> float | None:
    """The provider's bill for one result (``billing``: the adapters' own figure);
    None where the catalog has no confirmed price for that host."""
    bill = billing.estimate(model, req.bill, provider)
    return bill.usd if bill.known else None


def max_megapixels(m: Model) -> float | None:
    """The largest output a model renders: its stated megapixels, else its
    largest image resolution tier (4K is 16.8 MP)."""
    if m.limits.max_megapixels:
        return m.limits.max_megapixels
    tiers = [billing.IMAGE_TIERS_MP[t] for t in m.limits.resolutions if t in billing.IMAGE_TIERS_MP]
    return max(tiers) if tiers else None


@dataclass
class Candidate:
    model: Model
    provider: str
    quality: float
    contributions: dict[str, float]
    cost: float | None  # None: no confirmed price on this host
    latency: float
    policy_term: float = 0.0
    learned: float = 0.0
    score: float = 0.0

    def to_dict(
        self, evidence: dict[str, Any] | None = None, status: str = "", price: str = ""
    ) -> dict[str, Any]:
        return {
            "model": self.model.id,
            "family": self.model.family,
            "provider": self.provider,
            "score": round(self.score, 4),
            "quality": round(self.quality, 4),
            "traits": {k: round(v, 4) for k, v in self.contributions.items()},
            "evidence": evidence or {},
            "policy": round(self.policy_term, 4),
            "learned": round(self.learned, 4),
            "est_cost_usd": None if self.cost is None else round(self.cost, 4),
            "price": price or _price_line(self.model, self.provider),
            "est_seconds": self.latency,
            "status": status or "active",
        }


def provenance(catalog: Catalog, m: Model, trait: str) -> dict[str, Any]:
    """A trait's value, where it comes from and when; its evidence, each dated."""
    t = m.traits.get(trait)
    if t is None:
        return {"value": None, "source": "unrated (neutral 0.5)"}
    out: dict[str, Any] = {
        "value": t.value,
        "source": t.source,
        "date": catalog.source_date(t.source) or "undated",
    }
    if t.evidence:
        out["evidence"] = [
            {"claim": e.claim, "source": e.source, "date": e.date or catalog.source_date(e.source)}
            for e in t.evidence
        ]
    return out


def _price_line(m: Model, provider: str) -> str:
    p = m.price_for(provider)
    if not p.known:
        return f"unknown ({p.note or 'not confirmed'})"
    return f"{p.source} {p.date or 'undated'}"


class CatalogRouter:
    """Routes any op: hosted models from the catalog, local ops as ``local/<op>``."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        providers: Iterable[str] | None = None,
        dry_run: bool = False,
        env: Mapping[str, str] | None = None,
        cooldowns: Cooldowns | None = None,
        learned: Learned | None = None,
    ) -> None:
        self.catalog = catalog or load_catalog()
        # Providers with an adapter in this engine; None = all (a dry run prices anything).
        self.providers = None if providers is None else set(providers)
        self.dry_run = dry_run
        # Credentials the router may assume (names → values); it reads nothing itself.
        self.env: Mapping[str, str] = env if env is not None else {}
        self.cooldowns = cooldowns if cooldowns is not None else Cooldowns()
        self.learned = learned
        self._classes: dict[tuple[str, int], bool] = {}
        self._hosted_usable = True
        self._hosts: dict[tuple[str, str], str | None] = {}
        self._by_op: dict[tuple[str, str, int], tuple[list[Model], list[dict[str, str]]]] = {}
        # estimates per billed request, then per (model, host); bounded: see rank
        self._bills: dict[Any, dict[tuple[str, str], float | None]] = {}
        self._rank_bills: dict[tuple[str, str], float | None] = {}
        self._prices: dict[tuple[str, str], str] = {}
        self._status: dict[str, tuple[str, str]] = {}
        self._costs: dict[str, float | None] = {}  # per rank: model id → its estimate
        self._provenance: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    # ------------------------------------------------------------ protocol
    def decide(
        self, *, op: Op, model: str, params: dict[str, Any], brief: Brief | None
    ) -> RouteDecision:
        req = analyse(brief, op.name, op.stage, params)
        pinned = self._pinned(op, model)
        ranked, filtered = self.rank(req, pinned=pinned)
        if not ranked:
            adapters = all(
                f["reason"].startswith(("no adapter", "does not serve")) for f in filtered
            )
            raise PipelineError(
                f"no model can run '{op.name}': {summarise(filtered, op.name)}",
                hint=(
                    "this install has no adapter for the hosts of these models; "
                    "`routeyard plan FILE --dry-run` still routes and prices the plan"
                    if adapters and filtered
                    else "add `fallback: local` to the brief to let routeyard's local engine "
                    "stand in"
                    if any("fallback: local" in f["reason"] for f in filtered)
                    else "set a provider key (see `routeyard models show MODEL`), or start "
                    "from an image: `source:` in the brief, or `op: import`"
                    if op.name == "generate"
                    else "set a provider key, relax the brief's constraints, or use a local op"
                ),
            )
        chain = tuple(self._choice(c, req, ranked) for c in ranked[: 1 + MAX_FALLBACKS])
        warnings = [
            f"{c.model.id} is {self.lifecycle(c.model)[1]}"
            for c in ranked[: 1 + MAX_FALLBACKS]
            if self.lifecycle(c.model)[0] == "deprecated"
        ]
        if ranked[0].model.family == "local" and self._other_class(req.op, pinned):
            why = "fallback: local" if self._hosted_usable else "no hosted model is usable here"
            warnings.append(
                f"'{op.name}' runs on routeyard's local engine, another class than the hosted "
                f"models ({why}): {summarise(filtered, op.name)}"
            )
        return RouteDecision(
            chain=chain,
            reason=chain[0].reason,
            candidates=Lazy(len(ranked), lambda i: self._explain(ranked[i])),
            filtered=tuple(filtered),
            extra={"stage": req.stage, "requirements": req.to_dict(), "warnings": warnings},
        )

    # ------------------------------------------------------------- pieces
    def _pinned(self, op: Op, model: str) -> str | None:
        if model == "auto":
            return None
        if model in PINNED_LOCAL:
            return f"local/{op.name}"
        found = self.catalog.get(model)
        if found is None and model != f"local/{op.name}":
            from difflib import get_close_matches

            close = get_close_matches(model, [m.id for m in self.catalog.models], n=1)
            raise PipelineError(
                f"model '{model}' is not in the catalog",
                hint=f"did you mean '{close[0]}'?" if close else "see `routeyard models`",
            )
        if found is not None and found.lifecycle()[0] == "retired":
            then = found.successor
            raise PipelineError(
                f"model '{model}' was {found.lifecycle()[1]}: it no longer answers",
                hint=f"use model: {then}" if then else "pick another model (`routeyard models`)",
            )
        return model

    def rank(
        self, req: Requirements, *, pinned: str | None = None
    ) -> tuple[list[Candidate], list[dict[str, str]]]:
        """Survivors best first, and every removed model with its reason."""
        serving, others = self._serving(req.op, req.stage)
        filtered: list[dict[str, str]] = [dict(f) for f in others]
        survivors: list[tuple[Model, str]] = []
        self._hosted_usable = self._any_hosted_usable(req.op)
        self._costs = {}
        if len(self._bills) > 5_000:  # a long-lived router sees many sizes: stay bounded
            self._bills.clear()
        self._rank_bills = self._bills.setdefault(req.bill, {})  # one hash of the request
        for m in serving:
            reason, provider = self._filter(m, req, pinned)
            if reason:
                filtered.append(_out(m, reason))
            else:
                survivors.append((m, provider))
        order = sorted(req.weights.items(), key=lambda kv: -kv[1])
        total = sum(req.weights.values()) or 1.0
        candidates = [self._score(m, provider, req, order, total) for m, provider in survivors]
        self._apply_policy(candidates, req)
        candidates.sort(
            key=lambda c: (-c.score, math.inf if c.cost is None else c.cost, c.model.id)
        )
        return candidates, filtered

    def _serving(self, op: str, stage: str) -> tuple[list[Model], list[dict[str, str]]]:
        """The models serving ``op``, and the stage's models that do not (each
        with that reason): fixed per catalog, so worked out once."""
        key = (op, stage, id(self.catalog.models))
        hit = self._by_op.get(key)
        if hit is None:
            serving, others = [], []
            for m in self._models(op):
                if op in m.ops:
                    serving.append(m)
                elif m.hosted and stage in _stages(m):
                    others.append(_out(m, f"does not serve '{op}'"))
            hit = self._by_op[key] = (serving, others)
        return hit

    def _models(self, op_name: str) -> list[Model]:
        models = list(self.catalog.models)
        op = ops.get_op(op_name)
        if op is not None and op.runs_locally and self.catalog.get(f"local/{op_name}") is None:
            models.append(local_model(op))  # an op registered after the catalog loaded
        return models

    def _filter(self, m: Model, req: Requirements, pinned: str | None) -> tuple[str | None, str]:
        if pinned and m.id != pinned:
            return f"the step names model '{pinned}'", ""
        status, words = self.lifecycle(m)
        if status == "retired":
            return words, ""
        if m.id in req.exclude or m.family in req.exclude:
            return "excluded by the brief", ""
        if (
            not m.hosted
            and self._other_class(req.op, pinned)
            and self._hosted_usable
            and not req.fallback_local
        ):
            return (
                "a local engine, another class than the hosted models "
                "(add `fallback: local` to the brief to allow it)"
            ), ""
        lim = m.limits
        if req.width and req.height:
            side, mp = max(req.width, req.height), req.width * req.height / 1e6
            top = max_megapixels(m)
            if lim.max_side and side > lim.max_side:
                return f"{req.width}x{req.height} exceeds its largest side ({lim.max_side} px)", ""
            if top and mp > top * 1.02:
                return f"{mp:.1f} MP exceeds its {top:g} MP", ""
        if req.audio and m.hosted and not m.audio:
            return "no native audio (the brief asks for it)", ""
        if (
            req.references
            and lim.max_reference_images is not None
            and req.references > lim.max_reference_images
        ):
            return f"takes {lim.max_reference_images} reference images, not {req.references}", ""
        if req.aspect and lim.aspects != "any" and not _aspect_in(req.aspect, lim.aspects):
            return f"aspect {req.aspect} not offered ({', '.join(lim.aspects)})", ""
        if req.seconds and lim.durations and max(lim.durations) < req.seconds:
            offered = ", ".join(f"{d:g}" for d in lim.durations)
            return f"{req.seconds:g} s is longer than it renders ({offered} s)", ""
        if req.resolution and lim.resolutions and req.resolution not in lim.resolutions:
            return f"{req.resolution} not offered ({', '.join(lim.resolutions)})", ""
        provider = self._host(m, req.op)
        if provider is None:
            hosts = [h.provider for h in m.providers_for(req.op)]
            if self.providers is not None and not any(p in self.providers for p in hosts):
                return f"no adapter for {', '.join(hosts)} in this install", ""
            env = [v for p in hosts for v in self.catalog.providers[p].env]
            return f"no credentials (set {' or '.join(env)})", ""
        bills = self._rank_bills
        if (m.id, provider) not in bills:
            bills[(m.id, provider)] = estimate_cost(m, req, provider)
        cost = self._costs[m.id] = bills[(m.id, provider)]
        if req.budget_usd is not None and cost is None:
            return f"price unknown on {provider}: it cannot be held to the budget", ""
        if req.budget_usd is not None and cost is not None and cost > req.budget_usd + 1e-9:
            return f"estimated ${cost:.2f} is over the ${req.budget_usd:.2f} budget", ""
        if req.deadline_s is not None and m.latency_s > req.deadline_s:
            return f"typical {m.latency_s:g} s is past the {req.deadline_s:g} s deadline", ""
        left = self.cooldowns.cooling(m.id)
        if left:
            return f"cooling down after repeated failures ({left:.0f} s left)", ""
        return None, provider

    def _host(self, m: Model, op: str) -> str | None:
        """The first host (catalog order: the vendor's own API first) this install
        can use, preferring one whose price is confirmed (fixed per router: cached)."""
        key = (m.id, op)
        if key not in self._hosts:
            self._hosts[key] = self._pick_host(m, op)
        return self._hosts[key]

    def _pick_host(self, m: Model, op: str) -> str | None:
        usable = [
            h
            for h in m.providers_for(op)
            if (self.providers is None or h.provider in self.providers)
            and (self.dry_run or has_credentials(self.catalog, h.provider, self.env))
        ]
        priced = [h for h in usable if m.price_for(h.provider).known]
        chosen = (priced or usable)[:1]
        return chosen[0].provider if chosen else None

    def _explain(self, c: Candidate) -> dict[str, Any]:
        return c.to_dict(self._evidence(c), self.lifecycle(c.model)[1], self._price(c))

    def _price(self, c: Candidate) -> str:
        key = (c.model.id, c.provider)
        hit = self._prices.get(key)
        if hit is None:
            hit = self._prices[key] = _price_line(c.model, c.provider)
        return hit

    def lifecycle(self, m: Model) -> tuple[str, str]:
        hit = self._status.get(m.id)
        if hit is None:
            hit = self._status[m.id] = m.lifecycle()
        return hit

    def _evidence(self, c: Candidate) -> dict[str, Any]:
        """Each scored trait's source, date and evidence (the same per model: cached)."""
        key = (c.model.id, tuple(c.contributions))
        hit = self._provenance.get(key)
        if hit is None:
            hit = {t: provenance(self.catalog, c.model, t) for t in c.contributions}
            self._provenance[key] = hit
        return hit

    def _any_hosted_usable(self, op: str) -> bool:
        """Whether this install could send ``op`` to any active hosted model (an
        adapter and keys for one of its hosts). With none, a local engine is
        what this install is (offline, no keys), not a quiet change of class."""
        return any(
            m.hosted and op in m.ops and self.lifecycle(m)[0] != "retired" and self._host(m, op)
            for m in self.catalog.models
        )

    def _other_class(self, op: str, pinned: str | None) -> bool:
        """Whether a local engine for ``op`` is another class than the catalog's
        hosted models for it (parallax for a generative render): true when an
        active hosted model serves the op and the step did not pin local."""
        if pinned is not None and pinned.startswith("local"):
            return False
        key = (op, id(self.catalog.models))
        hit = self._classes.get(key)
        if hit is None:
            hit = any(
                m.hosted and op in m.ops and m.lifecycle()[0] != "retired"
                for m in self.catalog.models
            )
            self._classes[key] = hit
        return hit

    def _score(
        self,
        m: Model,
        provider: str,
        req: Requirements,
        order: list[tuple[str, float]],
        total: float,
    ) -> Candidate:
        contributions = {}
        traits = m.traits
        for trait, w in order:
            t = traits.get(trait)
            contributions[trait] = w * (NEUTRAL if t is None else t.value) / total
        quality = sum(contributions.values())
        learned = self.learned(m.id, req.stage, req.tags, req.explore) if self.learned else 0.0
        cost = self._costs[m.id] if m.id in self._costs else estimate_cost(m, req, provider)
        return Candidate(m, provider, quality, contributions, cost, m.latency_s, learned=learned)

    def _apply_policy(self, candidates: list[Candidate], req: Requirements) -> None:
        cost_w, latency_w = POLICIES.get(req.policy, POLICIES["balanced"])
        top_cost = max((c.cost for c in candidates if c.cost is not None), default=0.0)
        top_latency = max((c.latency for c in candidates), default=1.0)
        for c in candidates:
            # An unconfirmed price is scored as the dearest: never a bargain by omission.
            rel_cost = 1.0 if c.cost is None else (c.cost / top_cost if top_cost > 0 else 0.0)
            rel_latency = math.log1p(c.latency) / math.log1p(top_latency) if top_latency > 0 else 0
            c.policy_term = -(cost_w * rel_cost + latency_w * rel_latency)
            c.score = c.quality + c.policy_term + c.learned

    def _choice(self, c: Candidate, req: Requirements, ranked: list[Candidate]) -> RouteChoice:
        return RouteChoice(
            model=c.model.id,
            provider=c.provider,
            version=c.model.version,
            est_cost_usd=round(c.cost or 0.0, 4),
            est_seconds=c.latency,
            reason=reason(c, req, ranked),
        )


def reason(c: Candidate, req: Requirements, ranked: list[Candidate]) -> str:
    """One line a person can read: the deciding need, and the margin over the runner-up."""
    name = c.model.name
    others = [o for o in ranked if o.model.id != c.model.id]
    if c.model.family == "local" and not others:
        return f"{name}: '{req.op}' runs locally on this machine"
    need = max(req.evidence, key=lambda t: req.weights[t]) if req.evidence else None
    need = need or (max(req.weights, key=req.weights.get) if req.weights else None)
    if need is None:
        return f"{name}: the only model for '{req.op}'"
    line = f"{name}: " + req.evidence.get(need, f"best {need.replace('_', ' ')} for '{req.op}'")
    mine = c.model.trait(need)
    rival = others[0] if others else None
    if mine is None:
        return line
    if rival is None:
        return f"{line} ({need} {mine:.2f}; no other model qualifies)"
    theirs = rival.model.trait(need)
    theirs_text = "unrated" if theirs is None else f"{theirs:.2f}"
    line += f" ({need} {mine:.2f} vs {theirs_text} for {rival.model.id}, the next best)"
    if theirs is not None and theirs >= mine:
        if c.cost is not None and rival.cost is not None and c.cost < rival.cost:
            line += f"; ${c.cost:.2f} vs ${rival.cost:.2f} under the {req.policy} policy"
        elif c.latency < rival.latency:
            line += f"; {c.latency:g} s vs {rival.latency:g} s typical"
        elif c.learned > rival.learned:
            line += "; better measured pass rate"
    return line


def summarise(filtered: list[dict[str, str]], op: str) -> str:
    """Why nothing qualified, in one short clause: the commonest reasons first."""
    serving = [f for f in filtered if not f["reason"].startswith("does not serve")]
    if not serving:
        return "no model in the catalog serves it"
    counts: dict[str, list[str]] = {}
    for f in serving:
        kind = f["reason"].split(" (")[0]
        kind = "no adapter in this install" if kind.startswith("no adapter") else kind
        counts.setdefault(kind, []).append(f["model"])
    parts = [
        f"{len(models)} {'model' if len(models) == 1 else 'models'}: {kind}"
        for kind, models in sorted(counts.items(), key=lambda kv: -len(kv[1]))
    ]
    return "; ".join(parts[:3]) + (" (see route --explain)" if len(parts) else "")


def _ratio(aspect: str) -> float:
    w, h = aspect.split(":")
    return float(w) / float(h)


def _aspect_in(aspect: str, offered: tuple[str, ...]) -> bool:
    """1080x2520 is 3:7, which is the 9:21 a model offers: compare the ratios."""
    want = _ratio(aspect)
    return any(abs(_ratio(a) / want - 1) < 0.01 for a in offered)


def _out(m: Model, why: str) -> dict[str, str]:
    return {"model": m.id, "family": m.family, "reason": why}


def _stages(m: Model) -> set[str]:
    return {op.stage for name in m.ops if (op := ops.get_op(name)) is not None}
