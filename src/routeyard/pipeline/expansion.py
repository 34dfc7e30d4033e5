"""What a file that is not a pipeline expands to: a brief (through its recipe,
``recipes``) or a campaign (many briefs, ``campaigns``). Every way in (the
CLI, planning, ``plan --write``, the studio) reads files through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routeyard.pipeline import campaigns, recipes
from routeyard.pipeline import spec as specs


def pipeline_text(text: str, source: str, *, check_files: bool = True) -> str:
    """A pipeline file's text as it is; a brief's, expanded through its recipe.
    ``check_files=False`` reads no file the brief names (the studio confines
    them first, and must not answer differently for a file that exists)."""
    data, _ = specs.read_document(text, source)
    document = document_of(data, Path(source), check_files=check_files)
    return text if document is None else recipes.document_text(document)


def document_of(data: Any, path: Path, *, check_files: bool = True) -> dict[str, Any] | None:
    """The pipeline document a brief or a campaign file expands to; None for a
    pipeline (it has ``steps:``)."""
    if campaigns.is_campaign(data):
        return campaigns.expand(data, path, check_files=check_files)
    found = recipes.brief_of(data, str(path))
    return None if found is None else recipes.expand_file(*found, path, check_files=check_files)
