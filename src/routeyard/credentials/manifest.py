"""A C2PA manifest definition built from a deliverable's lineage.

One action per step that changed the pixels, in the order they ran: the
first is ``c2pa.opened`` (the chain starts from a photograph, its
``parentOf`` ingredient) or ``c2pa.created`` (it starts from a generation,
with its digital source type). Steps that ran a hosted, trained model carry
``trainedAlgorithmicMedia`` (they made the whole picture) or
``compositeWithTrainedAlgorithmicMedia`` (they changed part of a photograph);
local engines are classical algorithms and say so. Every action names
routeyard as its software agent and the model, provider and step in its
parameters. Sources become ingredients: the photograph a chain starts from
is ``parentOf``, a reference given to a generation ``inputTo``, a layer
composited in ``componentOf``. The ``com.routeyard.lineage`` assertion
carries each step's route decision and parameters, disclosed as the brief's
``provenance: prompts`` says.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from routeyard.credentials.disclosure import prompts_in, withhold

TRAINED = "trainedAlgorithmicMedia"
COMPOSITE_TRAINED = "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC = "algorithmicMedia"
ENHANCED = "algorithmicallyEnhanced"
COMPOSITE_SYNTHETIC = "compositeSynthetic"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
LINEAGE_LABEL = "com.routeyard.lineage"
SOFT_BINDING_ALG = "com.routeyard.dwtdct.1"

# op -> C2PA action for the change it makes
ACTIONS = {
    "generate": "c2pa.created",
    "edit": "c2pa.edited",
    "inpaint": "c2pa.edited",
    "remove_object": "c2pa.edited",
    "remove_background": "c2pa.edited",
    "face_swap": "c2pa.edited",
    "typeset": "c2pa.edited",
    "composite": "c2pa.edited",
    "animate": "c2pa.edited",
    "stabilize_background": "c2pa.edited",
    "color_match": "c2pa.color_adjustments",
    "depth_cues": "c2pa.color_adjustments",
    "denoise": "c2pa.filtered",
    "resize": "c2pa.resized",
    "upscale": "c2pa.resized",
    "reframe": "c2pa.cropped",
    "conform": "c2pa.transcoded",
}
# ops that add synthetic elements (text, layers, rendered motion) to a picture
_ADDS = frozenset({"typeset", "composite", "animate"})


@dataclass
class Ingredient:
    asset: str
    title: str
    mime: str
    relationship: str  # parentOf | inputTo | componentOf

    @property
    def label(self) -> str:
        return f"routeyard-{self.asset[:16]}"


@dataclass
class Manifest:
    definition: dict[str, Any]
    ingredients: list[Ingredient]
    digital_source_type: str | None
    ai_systems: list[str] = field(default_factory=list)


def is_source(node: dict[str, Any]) -> bool:
    """An asset that entered from outside: a file or sample the pipeline imported."""
    return node.get("op") in ("source", "import") and not node.get("parents")


def is_trained(node: dict[str, Any], source_types: dict[str, str | None]) -> bool:
    """A step that ran a hosted (trained) model, or a source already marked AI-generated."""
    if is_source(node):
        return source_types.get(node["asset"]) in (TRAINED, COMPOSITE_TRAINED)
    return node.get("provider") not in (None, "local") and bool(node.get("model"))


def _primary(node: dict[str, Any]) -> dict[str, Any] | None:
    """The input a step changes (composite: its background, the last input)."""
    parents = node.get("parents") or []
    if not parents or node.get("op") == "generate":
        return None
    return parents[-1] if node.get("op") == "composite" else parents[0]


def ordered(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps and sources in the order they ran (inputs before the steps that read them)."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []

    def visit(node: dict[str, Any]) -> None:
        if node["asset"] in seen:
            return
        seen.add(node["asset"])
        for parent in node.get("parents") or []:
            visit(parent)
        out.append(node)

    visit(tree)
    return out


def classify(
    nodes: list[dict[str, Any]], in_picture: bool, kinds: dict[str, str | None]
) -> str | None:
    """The deliverable's IPTC digital source type. ``in_picture``: a
    photograph is part of the picture (opened or composited in), not only a
    reference a generation looked at."""
    steps = [n for n in nodes if not is_source(n)]
    if any(is_trained(n, kinds) for n in nodes):
        return COMPOSITE_TRAINED if in_picture else TRAINED
    if not steps:
        return kinds.get(nodes[-1]["asset"]) if nodes else None
    if any(n.get("op") == "generate" for n in steps):
        return COMPOSITE_SYNTHETIC if in_picture else ALGORITHMIC
    if any(n.get("op") in _ADDS for n in steps):
        return COMPOSITE_SYNTHETIC
    return ENHANCED


def _root(tree: dict[str, Any]) -> dict[str, Any]:
    node = tree
    while True:
        nxt = _primary(node)
        if nxt is None:
            return node
        node = nxt


def _title(node: dict[str, Any]) -> str:
    src = node.get("source") or (node.get("params") or {}).get("source") or ""
    name = src.rsplit("/", 1)[-1] if src else ""
    return name or f"asset {node['asset'][:12]}"


def _agent(version: str) -> dict[str, str]:
    return {"name": "routeyard", "version": version}


def _describe(node: dict[str, Any]) -> str:
    if node.get("provider") in (None, "local"):
        how = "local engine"
    else:
        how = f"{node.get('model')} via {node['provider']}"
    return f"{node.get('step')}: {node['op']} ({how})"


def build(
    tree: dict[str, Any],
    *,
    title: str,
    mime: str,
    version: str,
    prompts: str = "full",
    source_types: dict[str, str | None] | None = None,
    watermark: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Manifest:
    """The manifest definition for the file ``title`` made from ``tree``."""
    kinds = source_types or {}
    nodes = ordered(tree)
    root = _root(tree)

    ingredients: dict[str, Ingredient] = {}

    def add_source(node: dict[str, Any], relationship: str) -> Ingredient:
        have = ingredients.get(node["asset"])
        if have is None:
            media = node.get("media") or {}
            have = Ingredient(node["asset"], _title(node), media.get("mime") or "", relationship)
            ingredients[node["asset"]] = have
        return have

    if is_source(root):
        add_source(root, "parentOf")
    for node in nodes:  # references and layers: every other way a source enters
        if is_source(node):
            continue
        primary = _primary(node)
        for parent in node.get("parents") or []:
            if is_source(parent) and (primary is None or parent["asset"] != primary["asset"]):
                rel = "componentOf" if node["op"] == "composite" else "inputTo"
                add_source(parent, rel)

    photo_in_chain = any(
        i.relationship in ("parentOf", "componentOf")
        and kinds.get(i.asset) not in (TRAINED, COMPOSITE_TRAINED)
        for i in ingredients.values()
    )
    dst = classify(nodes, photo_in_chain, kinds)
    actions: list[dict[str, Any]] = []
    if is_source(root):
        actions.append(
            {
                "action": "c2pa.opened",
                "softwareAgent": _agent(version),
                "description": f"opened {_title(root)}",
                "parameters": {"ingredientIds": [ingredients[root["asset"]].label]},
            }
        )
    ai_systems: list[str] = []
    for node in nodes:
        if is_source(node) or node["op"] not in ACTIONS:
            continue
        trained = is_trained(node, kinds)
        if trained and node.get("model"):
            ai_systems.append(f"{node['model']} ({node['provider']})")
        name = ACTIONS.get(node["op"], "c2pa.edited")
        if node["asset"] == root["asset"]:
            name = "c2pa.created"
        elif name == "c2pa.created":  # only the first action may create
            name = "c2pa.edited"
        action: dict[str, Any] = {
            "action": name,
            "softwareAgent": _agent(version),
            "description": _describe(node),
            "parameters": {
                "com.routeyard.step": node.get("step"),
                "com.routeyard.op": node["op"],
                "com.routeyard.asset": node["asset"],
                "model": node.get("model"),
                "provider": node.get("provider"),
            },
        }
        refs = [
            ingredients[p["asset"]].label
            for p in node.get("parents") or []
            if is_source(p) and p["asset"] in ingredients and p["asset"] != root["asset"]
        ]
        if refs:
            action["parameters"]["ingredientIds"] = refs
        if node["asset"] == root["asset"]:
            action["digitalSourceType"] = IPTC + (TRAINED if trained else ALGORITHMIC)
        elif trained:  # a photograph in the picture makes it a composite with AI media
            action["digitalSourceType"] = IPTC + (COMPOSITE_TRAINED if photo_in_chain else TRAINED)
        actions.append(action)
    if watermark:
        actions.append(
            {
                "action": "c2pa.watermarked",
                "softwareAgent": _agent(version),
                "description": "invisible watermark (DWT-DCT) carrying the routeyard asset id",
                "parameters": {"com.routeyard.watermark": watermark},
            }
        )

    secrets = prompts_in(tree)
    lineage = {
        "asset": tree["asset"],
        "digital_source_type": dst,
        "disclosure": {"prompts": prompts},
        "watermark": watermark,
        "steps": [_step_record(n) for n in nodes if not is_source(n)],
        "sources": [
            {
                "asset": n["asset"],
                "title": _title(n),
                "relationship": ingredients[n["asset"]].relationship,
            }
            for n in nodes
            if is_source(n) and n["asset"] in ingredients
        ],
        **(extra or {}),
    }
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions.v2", "data": {"actions": actions}},
        {"label": LINEAGE_LABEL, "data": lineage},
    ]
    if watermark:  # the watermark as C2PA's soft binding: the id that finds this manifest again
        value = base64.b64encode(bytes.fromhex(watermark)).decode()
        assertions.append(
            {
                "label": "c2pa.soft-binding",
                "data": {"alg": SOFT_BINDING_ALG, "blocks": [{"scope": {}, "value": value}]},
            }
        )
    definition = {
        "claim_generator_info": [_agent(version)],
        "title": title,
        "format": mime,
        "assertions": assertions,
    }
    definition = withhold(definition, prompts, secrets)
    return Manifest(definition, list(ingredients.values()), dst, list(dict.fromkeys(ai_systems)))


def _step_record(node: dict[str, Any]) -> dict[str, Any]:
    record = {
        k: node.get(k)
        for k in ("step", "op", "model", "provider", "asset", "seed", "prompt", "params", "run")
    }
    if node.get("seed_note"):
        record["seed_note"] = node["seed_note"]
    if node.get("route"):
        record["route"] = node["route"]
    record["inputs"] = [p["asset"] for p in node.get("parents") or []]
    return record
