"""``stabilize_background``: the seed's remedy for a background that liquefies.

"If the motion model fails to maintain a background, the operator might
use a background removal tool to isolate the subject and composite it over
a stable, static background." That, as one op: the subject is cut from the
first frame (or from the still given as a second input) with the same
matte ``remove_background`` uses, the background behind it is filled to
make a clean static plate, and every frame's subject (the matte carried
along the subject's own motion, a similarity fitted to optical flow inside
it) is composited over that plate. The subject keeps its motion; the world
behind it stops melting (and stops moving: the camera move is given up).
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from routeyard.checks.background import subject_motion
from routeyard.media.matte import subject_matte
from routeyard.media.pixels import load_input, shrink
from routeyard.media.video import Mp4Writer, is_video, read_frames, video_info
from routeyard.ops.animate import cover
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.ops.parallax import build_layers

_FLOW_SIDE = 360


class StabilizeParams(OpParams):
    feather: int = Field(default=4, ge=0, le=32)
    crf: int = Field(default=18, ge=0, le=51)


@register
class StabilizeBackgroundOp(Op):
    name = "stabilize_background"
    stage = "refine"
    Params = StabilizeParams
    max_inputs = 2  # the clip, and optionally the still it was made from

    def run(
        self, ctx: OpContext, inputs: list[InputAsset], params: StabilizeParams
    ) -> list[Output]:
        clip = inputs[0]
        if not is_video(clip.path):
            raise OpInputError(
                f"step '{ctx.node}': stabilize_background needs a video as its first input"
            )
        w, h, fps = video_info(clip.path, where=f"step '{ctx.node}'")
        stream = read_frames(clip.path, where=f"step '{ctx.node}'")
        first = next(stream, None)
        if first is None:
            raise OpInputError(f"step '{ctx.node}': the video has no frames")
        still = cover(load_input(ctx, inputs[1]), (w, h)) if len(inputs) > 1 else first
        alpha = subject_matte(still, feather=params.feather)
        plate = build_layers(still, alpha).plate.astype(np.float32)
        small_prev, scale = shrink(first, _FLOW_SIDE)
        core = cv2.resize(alpha, (small_prev.shape[1], small_prev.shape[0])) > 0.5
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        total = np.eye(3)  # frame 0 → current, in full-size pixels
        out_path = ctx.scratch("stabilized.mp4")
        with Mp4Writer(out_path, w, h, round(fps), crf=params.crf) as out:
            out.write(self._over(first, alpha, plate))
            for frame in stream:
                small, _ = shrink(frame, _FLOW_SIDE)
                step = self._subject_motion(small_prev, small, core, dis, scale)
                total = step @ total
                moved = cv2.warpAffine(
                    alpha, total[:2], (w, h), flags=cv2.INTER_LINEAR, borderValue=0
                )
                core = (
                    cv2.warpAffine(
                        core.astype(np.uint8),
                        self._scaled(step, scale),
                        (small.shape[1], small.shape[0]),
                        flags=cv2.INTER_NEAREST,
                    )
                    > 0
                )
                out.write(self._over(frame, moved, plate))
                small_prev = small
        return [
            Output(
                path=out_path, mime_hint="video/mp4", meta={"remedy": "subject over a stable plate"}
            )
        ]

    @staticmethod
    def _over(frame: np.ndarray, alpha: np.ndarray, plate: np.ndarray) -> np.ndarray:
        a = alpha[..., None]
        return np.clip(frame * a + plate * (1 - a) + 0.5, 0, 255).astype(np.uint8)

    @staticmethod
    def _scaled(m: np.ndarray, scale: float) -> np.ndarray:
        """A full-size transform expressed in working-size pixels (2x3)."""
        s = np.diag([scale, scale, 1.0])
        return (s @ m @ np.linalg.inv(s))[:2]

    @staticmethod
    def _subject_motion(
        a: np.ndarray, b: np.ndarray, core: np.ndarray, dis, scale: float
    ) -> np.ndarray:
        """The subject's similarity from frame a to b, in full-size pixels (3x3)."""
        ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        m = subject_motion(core, dis.calc(ga, gb, None))
        step = np.eye(3)
        if m is None:
            return step
        step[:2] = m
        s = np.diag([scale, scale, 1.0])
        return np.linalg.inv(s) @ step @ s
