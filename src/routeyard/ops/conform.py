"""Conform a video to the exact deliverable: seconds, fps and frame size.

Hosted models render in tiers (Veo 4/6/8 s, Kling 5/10 s, 720p/1080p) and the
local animator rounds to whole frames; a delivery is asked in exact terms.
This op trims (or holds the last frame to pad) to ``seconds`` x ``fps``
frames, resamples time by nearest frame, and centre-crops and scales to
``width`` x ``height``, saying on the step what it changed.
"""

from __future__ import annotations

from pydantic import Field

from routeyard.media.video import Mp4Writer, read_frames, video_info
from routeyard.ops.animate import cover
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register


class ConformParams(OpParams):
    seconds: float = Field(gt=0, le=120)
    fps: int = Field(default=24, ge=1, le=60)
    width: int | None = Field(default=None, ge=16, le=7680)
    height: int | None = Field(default=None, ge=16, le=7680)
    crf: int = Field(default=18, ge=0, le=51)


@register
class ConformOp(Op):
    name = "conform"
    stage = "deliver"
    Params = ConformParams
    produces = "video"

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: ConformParams) -> list[Output]:
        where = f"step '{ctx.node}', input"
        source = inputs[0]
        if source.record.kind != "video":
            raise OpInputError(
                f"step '{ctx.node}': conform takes a video, got a {source.record.kind}"
            )
        w, h, fps_in = video_info(source.path, where=where)
        frames = list(read_frames(source.path, where=where))
        if not frames:
            raise OpInputError(f"{where}: the video has no frames")
        tw = (params.width or w) // 2 * 2
        th = (params.height or h) // 2 * 2
        want = round(params.seconds * params.fps)
        had = len(frames) / (fps_in or params.fps)
        path = ctx.scratch("conform.mp4")
        with Mp4Writer(path, tw, th, params.fps, crf=params.crf) as out:
            for i in range(want):
                t = i / params.fps  # the source frame shown at this time (held past the end)
                j = min(len(frames) - 1, int(t * (fps_in or params.fps) + 1e-6))
                out.write(cover(frames[j], (tw, th)))
                if i % 16 == 0:
                    ctx.report_progress(i / want)
        if abs(had - params.seconds) > 0.5 / params.fps:
            verb = "trimmed" if had > params.seconds else "padded (last frame held)"
            ctx.warn(f"{verb} {had:.2f} s to the asked {params.seconds:g} s")
        if (w, h) != (tw, th):
            ctx.warn(f"reframed {w}x{h} to {tw}x{th} (centre crop)")
        if round(fps_in or 0) != params.fps:
            ctx.warn(f"resampled {fps_in:g} fps to {params.fps}")
        meta = {"frames": want, "seconds": params.seconds, "fps": params.fps}
        return [Output(path=path, mime_hint="video/mp4", meta=meta)]
