"""The brief: what the operator wants, in the fields the contract fixes.

Unknown fields are errors (a typo like ``budget:`` for ``budget_usd:`` would
otherwise silently remove the budget guard).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt


class ImageDeliverable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: PositiveInt | None = None
    height: PositiveInt | None = None


class VideoDeliverable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: PositiveFloat | None = None
    fps: PositiveInt | None = None
    aspect: str | None = Field(default=None, pattern=r"^\d+:\d+$")


class Deliverables(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: ImageDeliverable | None = None
    video: VideoDeliverable | None = None
    # where the finished files go (relative to the brief file; default out/)
    dir: str | None = None
    # one deliverable set per format, each reframed from the same base
    formats: list[Annotated[str, Field(pattern=r"^[1-9]\d*:[1-9]\d*$")]] = Field(
        default_factory=list
    )


class Provenance(BaseModel):
    """What delivered files disclose and carry (issue 20). ``prompts``: the
    prompt text in full, as a SHA-256 hash, or nothing (a client's prompt may
    be confidential); the choice itself is recorded in every file.
    ``watermark``: the invisible mark that points a stripped copy back to its
    lineage (on by default)."""

    model_config = ConfigDict(extra="forbid")
    prompts: Literal["full", "hash", "none"] = "full"
    watermark: bool = True


class Brief(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    negative_prompt: str | None = None
    text: str | None = None
    style: str | None = None
    motion: Literal["cinematic", "gentle", "none"] | None = None
    deliver: Deliverables | None = None
    references: dict[str, str] = Field(default_factory=dict)
    budget_usd: float | None = Field(default=None, ge=0)
    deadline_s: PositiveFloat | None = None
    policy: Literal["quality", "balanced", "economy", "fast"] = "balanced"
    tags: list[str] = Field(default_factory=list)
    # Model ids or families the router must not use ("veo", "flux-dev").
    exclude: list[str] = Field(default_factory=list)
    # Thompson-sample the learned pass rates instead of using their means.
    explore: bool = False
    # Native audio in the video (True: only models that generate it; False:
    # ask for none, which is cheaper where audio is billed extra).
    audio: bool | None = None
    # "local": a stage whose hosted models all fail or are filtered may run on
    # a local engine of another class (parallax for a generative render). Off
    # by default: that change of class is never silent.
    fallback: Literal["local"] | None = None
    # The recipe that turns this brief into steps (default: `still` when
    # `motion: none`, else `social-video`); a base image to start from instead
    # of generating one; local fixes, in order: {remove: [x0, y0, x1, y1]},
    # {remove: {mask: FILE}}, {inpaint: {box: [...], prompt: ...}}.
    recipe: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    source: str | None = None
    fixes: list[dict[str, Any]] = Field(default_factory=list)
    # Content Credentials: prompt disclosure and the watermark (see Provenance)
    provenance: Provenance | None = None

    def learning_tags(self) -> list[str]:
        """What gate outcomes are recorded (and the router learns) against:
        the brief's own tags, its style and motion, and whether it has text.

        (Named so, not ``tags()``: ``tags`` is the field the operator writes.)
        """
        tags = list(self.tags)
        tags += [f"{k}:{v}" for k, v in (("style", self.style), ("motion", self.motion)) if v]
        return tags + (["text"] if self.text else [])
