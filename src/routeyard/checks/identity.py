"""Character identity: is it still the same face in every frame?

Faces drift when a character crosses model architectures (the seed's
"latent understanding of the face shifts"). VBench-2.0's Human Identity
counts frames whose ArcFace similarity to the reference clears a bar; ArcFace
needs downloaded weights, so this gate uses dlib's ResNet descriptor
(public domain, shipped in the ``faces`` extra) at dlib's documented
operating point: same person below 0.6 apart (99.38 % on LFW). Each sampled
frame scores 1 up to 0.5 apart, falling to 0 at 0.7; the score is their mean
over frames where a face was found. Frames without a face are "unknown",
not failures; a reference or clip without any face is "not applicable".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from routeyard.checks.base import Gate, GateParams, GateResult
from routeyard.checks.media import clip_info, frames, is_clip, sample_step, still
from routeyard.media.pixels import shrink

SAME, DIFFERENT = 0.5, 0.7  # descriptor distances: surely the same person / surely not
_WORK_SIDE = 720


class IdentityParams(GateParams):
    max_frames: int = Field(default=24, ge=1, le=240)


def _descriptor(rgb: np.ndarray) -> np.ndarray | None:
    from routeyard.media import faces

    small, _ = shrink(rgb, _WORK_SIDE)
    found = faces.find_faces(small, upsample=1)
    return faces.embedding(small, found[0]) if found else None


class IdentityGate(Gate):
    name = "identity"
    version = "1"
    threshold = 0.95
    media = "any"
    Params = IdentityParams

    def measure(self, files: list[Path], params: IdentityParams, ref: Path | None) -> GateResult:
        from routeyard.media import faces

        if not faces.available():
            return GateResult(None, f"unknown: {faces.INSTALL_HINT}", status="unknown")
        items = self._items(files, params)
        anchor_src = ref if ref is not None else None
        if anchor_src is not None:
            anchor = _descriptor(still(anchor_src))
            if anchor is None:
                return GateResult(
                    None,
                    f"not applicable: no face found in the reference {anchor_src.name}",
                    status="not_applicable",
                )
        else:
            anchor = None
        distances: list[float | None] = []
        indices: list[int] = []
        for index, rgb in items:
            d = _descriptor(rgb)
            indices.append(index)
            if d is None:
                distances.append(None)
            elif anchor is None:
                anchor = d  # no reference: the first face found is the identity to keep
                distances.append(0.0)
            else:
                distances.append(float(np.linalg.norm(d - anchor)))
        found = [d for d in distances if d is not None]
        if not found:
            return GateResult(
                None,
                "not applicable: no face found in any frame",
                details={"frames_checked": len(indices)},
                status="not_applicable",
            )
        per = [
            None if d is None else float(np.clip((DIFFERENT - d) / (DIFFERENT - SAME), 0, 1))
            for d in distances
        ]
        score = float(np.mean([p for p in per if p is not None]))
        drift = [i for i, d in zip(indices, distances, strict=True) if d is not None and d > 0.6]
        message = (
            "same face throughout"
            if not drift
            else f"a different face in {len(drift)} of {len(found)} frames (first at frame {drift[0]})"
        )
        return GateResult(
            score=score,
            message=message,
            details={
                "frames_checked": len(indices),
                "frames_with_face": len(found),
                "median_distance": round(float(np.median(found)), 4),
                "max_distance": round(float(np.max(found)), 4),
                "within_0.6": round(float(np.mean([d <= 0.6 for d in found])), 4),
                "drifted_frames": drift,
                "distances": [None if d is None else round(d, 4) for d in distances],
                "frame_indices": indices,
            },
            series=distances,
            series_label="distance to the reference face",
        )

    @staticmethod
    def _items(files: list[Path], params: IdentityParams):
        if len(files) == 1 and is_clip(files[0]):
            info = clip_info(files[0])
            return frames(files[0], sample_step(info.frames, params.max_frames))
        return ((i, still(f)) for i, f in enumerate(files))
