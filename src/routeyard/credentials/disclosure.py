"""What a delivered file says about the brief: ``prompts: full | hash | none``.

A client's prompt may be confidential, and it hides in more places than the
``prompt`` field: a step's parameters, a route's reason quoting a clause of
the brief, a negative prompt. ``withhold`` walks a structure and, unless
``full``, replaces every prompt field with its hash (``hash``) or drops it
(``none``), and replaces any other string that repeats three words running
of a prompt (or a whole short prompt) with ``[withheld]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

PROMPT_KEYS = frozenset({"prompt", "negative_prompt", "prompt_sha256"})
WITHHELD = "[withheld]"
_WORD = re.compile(r"\w+", re.UNICODE)


def prompt_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def prompts_in(tree: Any) -> list[str]:
    """Every prompt text a lineage tree (or any structure) holds."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in PROMPT_KEYS - {"prompt_sha256"} and isinstance(v, str) and v.strip():
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v)

    walk(tree)
    return list(dict.fromkeys(found))


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def withhold(value: Any, mode: str, prompts: Iterable[str]) -> Any:
    """``value`` with the prompts disclosed as ``mode`` says."""
    if mode == "full":
        return value
    texts = [p for p in prompts if p.strip()]
    marks = set().union(*(_shingles(p) for p in texts)) if texts else set()
    whole = {p.strip().lower() for p in texts}

    def leaks(s: str) -> bool:
        if s.strip().lower() in whole:
            return True
        return bool(marks) and not _shingles(s).isdisjoint(marks)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k in PROMPT_KEYS and isinstance(v, str):
                    if mode == "hash" and k != "prompt_sha256":
                        out[f"{k}_sha256"] = prompt_hash(v)
                    elif k == "prompt_sha256":
                        out[k] = v
                    continue
                out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, tuple):
            return tuple(walk(v) for v in node)
        if isinstance(node, str) and leaks(node):
            return WITHHELD
        return node

    return walk(value)
