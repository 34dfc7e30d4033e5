"""Brief analysis: what a stage needs, as trait weights and hard constraints.

The brief's explicit fields win over what its prompt suggests: ``motion:
gentle`` beats a "car chase" in the prompt, and the explanation says so.
Every weight that is raised carries its evidence, which is what the route's
one-line reason quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routeyard import billing
from routeyard.brief import Brief
from routeyard.routing import intent

STYLISED_STYLES = ("painterly", "illustration", "anime", "watercolor", "3d", "cartoon", "sketch")

# Baseline weights per stage: what every brief at that stage needs a little of.
BASE_WEIGHTS: dict[str, dict[str, float]] = {
    "base": {"prompt_adherence": 1.0, "photorealism": 0.5, "stylization": 0.3, "typography": 0.2},
    "refine": {
        "edit_precision": 2.0,
        "identity_preservation": 1.0,
        "prompt_adherence": 0.8,
        "photorealism": 0.5,
    },
    "motion": {
        "temporal_stability": 1.5,
        "motion_smoothness": 0.5,
        "motion_physics": 0.5,
        "prompt_adherence": 0.5,
    },
}


@dataclass
class Requirements:
    stage: str
    op: str
    weights: dict[str, float]
    evidence: dict[str, str] = field(default_factory=dict)  # trait → why it was raised
    notes: list[str] = field(default_factory=list)  # overridden cues and the like
    width: int | None = None
    height: int | None = None
    aspect: str | None = None
    seconds: float | None = None
    resolution: str | None = None
    # What the step's bill depends on (``billing.request_for``).
    bill: billing.Request = field(default_factory=billing.Request)
    budget_usd: float | None = None
    deadline_s: float | None = None
    policy: str = "balanced"
    exclude: tuple[str, ...] = ()
    tags: list[str] = field(default_factory=list)
    explore: bool = False
    audio: bool | None = None  # the brief's wish for native audio
    fallback_local: bool = False  # the brief allows a local engine of another class
    references: int = 0  # reference images the step sends
    intent_engine: str = "cues"  # how the prompt was read: minilm, or keyword cues

    def raise_weight(self, trait: str, weight: float, why: str) -> None:
        if weight > self.weights.get(trait, 0.0):
            self.weights[trait] = weight
            self.evidence[trait] = why

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "op": self.op,
            "weights": {k: round(v, 3) for k, v in sorted(self.weights.items())},
            "evidence": dict(self.evidence),
            "notes": list(self.notes),
            "constraints": {
                k: v
                for k, v in (
                    ("width", self.width),
                    ("height", self.height),
                    ("aspect", self.aspect),
                    ("seconds", self.seconds),
                    ("resolution", self.resolution),
                    ("budget_usd", self.budget_usd),
                    ("deadline_s", self.deadline_s),
                    ("exclude", list(self.exclude) or None),
                    ("audio", self.audio),
                    ("references", self.references or None),
                )
                if v is not None
            },
            "policy": self.policy,
        }


def _ratio(w: int, h: int) -> str:
    from math import gcd

    g = gcd(w, h)
    return f"{w // g}:{h // g}"


def analyse(
    brief: Brief | None, op: str, stage: str, params: dict[str, Any] | None = None
) -> Requirements:
    """Trait weights and constraints for one step of ``op`` at ``stage``."""
    params = params or {}
    req = Requirements(stage=stage, op=op, weights=dict(BASE_WEIGHTS.get(stage, {})))
    brief = brief or Brief()
    req.policy = brief.policy
    req.budget_usd, req.deadline_s = brief.budget_usd, brief.deadline_s
    req.exclude = tuple(brief.exclude)
    req.tags = brief.learning_tags()
    req.bill = billing.request_for(op, params, brief)
    req.explore = brief.explore
    req.audio = brief.audio if stage == "motion" else None
    req.fallback_local = brief.fallback == "local"
    given = params.get("input")
    req.references = len(given) if isinstance(given, list) else 0

    reading = intent.read(" . ".join(p for p in (params.get("prompt"), brief.prompt) if p))
    req.intent_engine = reading.engine

    # --- text that must be legible
    if stage in ("base", "refine"):
        weight = 3.0 if stage == "base" else 1.5
        if brief.text:
            req.raise_weight("typography", weight, f"brief needs legible text '{brief.text}'")
        elif reading.text.decision == "needed":
            strength = 1.0
            req.raise_weight("typography", weight * strength, reading.text.why)

    # --- style
    if stage in ("base", "refine"):
        strong = stage == "base"
        if brief.style:
            style = brief.style.lower()
            if style in STYLISED_STYLES:
                req.raise_weight("stylization", 3.0 if strong else 1.0, f"brief style '{style}'")
                req.weights["photorealism"] = min(req.weights.get("photorealism", 0), 0.2)
            elif style == "photoreal":
                req.raise_weight("photorealism", 2.0 if strong else 1.0, "brief style 'photoreal'")
            if reading.style.decision == "stylised" and style not in STYLISED_STYLES:
                req.notes.append(
                    f"prompt reading ignored ({reading.style.why}): brief.style is '{style}'"
                )
        elif reading.style.decision == "stylised":
            req.raise_weight("stylization", 3.0 if strong else 1.0, reading.style.why)
            req.weights["photorealism"] = min(req.weights.get("photorealism", 0), 0.2)
        elif reading.style.decision == "photographic":
            req.raise_weight("photorealism", 2.0 if strong else 1.0, reading.style.why)

    # --- motion
    if stage == "motion":
        intent_, why = brief.motion, f"brief motion '{brief.motion}'"
        if intent_ is None and reading.motion.decision:
            intent_, why = reading.motion.decision, reading.motion.why
        elif intent_ is not None and reading.motion.decision not in (None, intent_):
            req.notes.append(
                f"prompt reading ignored ({reading.motion.why}): brief.motion is '{intent_}'"
            )
        if intent_ == "cinematic":
            req.raise_weight("motion_physics", 3.0, f"{why}: heavy, physically grounded motion")
        elif intent_ == "gentle":
            req.raise_weight("motion_smoothness", 3.0, f"{why}: smooth, fluid motion")
            req.raise_weight("temporal_stability", 2.0, f"{why}: nothing may flicker")

    # --- references
    if brief.references.get("character") or brief.references.get("product"):
        kind = "character" if brief.references.get("character") else "product"
        req.raise_weight(
            "identity_preservation", 1.5, f"brief gives a {kind} reference to keep consistent"
        )

    # --- hard constraints
    deliver = brief.deliver
    if stage in ("base", "refine"):
        w = params.get("width") or (deliver and deliver.image and deliver.image.width)
        h = params.get("height") or (deliver and deliver.image and deliver.image.height)
        req.width, req.height = w or None, h or None
        req.aspect = params.get("aspect") or (_ratio(w, h) if w and h else None)
    if stage == "motion":
        video = deliver.video if deliver else None
        req.seconds = params.get("seconds") or (video.seconds if video else None)
        req.aspect = params.get("aspect") or (video.aspect if video else None)
        req.resolution = params.get("resolution")
    return req
