"""``face_swap``: put a source face onto a target, classically.

Landmarks → similarity transform → colour match → Poisson blend:

1. the largest frontal face in each image and its five landmarks (``faces``);
2. the source is warped onto the target by the similarity transform that
   best maps its landmarks onto the target's (rotation, scale, shift only,
   so the source face keeps its proportions, and with them its identity);
3. a face ellipse built from the target's eye line and nose gives the
   region; inside it the warped face takes the target's Lab statistics, so
   skin tone and light match the scene;
4. OpenCV's seamless cloning solves for the region's pixels from the source's
   gradients and the target's boundary, which hides the seam.

The face donor is a ``source`` file, or else the step's second input (a gate's
``face_swap`` repair gets the step's own input as its second, so the
reference it names must win).
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from routeyard.media.faces import MODEL_LICENCES, Face, find_faces
from routeyard.media.pixels import encode_png, load_input, load_rgb
from routeyard.ops.base import InputAsset, Op, OpContext, OpInputError, OpParams, Output, register
from routeyard.ops.color import lab_stats, match


class FaceSwapParams(OpParams):
    source: str | None = None
    upsample: int = Field(default=1, ge=0, le=3)  # detector upsampling, for small faces
    color_match: float = Field(default=1.0, ge=0, le=1)
    size: float = Field(default=1.0, ge=0.6, le=1.6)  # scale of the face region


def face_region(face: Face, shape: tuple[int, int], size: float) -> np.ndarray:
    """A filled ellipse over the face, oriented along the eye line."""
    p = face.points
    right_eye, left_eye, nose = p[0:2].mean(0), p[2:4].mean(0), p[4]
    d = float(np.linalg.norm(left_eye - right_eye))
    angle = float(np.degrees(np.arctan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])))
    centre = (right_eye + left_eye) / 2 * 0.45 + nose * 0.55
    mask = np.zeros(shape, np.uint8)
    axes = (max(2, round(1.05 * d * size)), max(2, round(1.45 * d * size)))
    cv2.ellipse(mask, (round(centre[0]), round(centre[1] + 0.15 * d)), axes, angle, 0, 360, 255, -1)
    return mask


def swap(
    target: np.ndarray, source: np.ndarray, t: Face, s: Face, params: FaceSwapParams
) -> np.ndarray:
    m, _ = cv2.estimateAffinePartial2D(s.points, t.points, method=cv2.LMEDS)
    if m is None:
        raise OpInputError("the two faces' landmarks could not be aligned")
    h, w = target.shape[:2]
    warped = cv2.warpAffine(
        source, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    mask = face_region(t, (h, w), params.size)
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0  # seamlessClone needs a margin
    if params.color_match > 0:
        inside = mask > 0
        ref_mean, ref_std = lab_stats(target, inside)
        warped = match(warped, ref_mean, ref_std, params.color_match, mask=inside)
    ys, xs = np.nonzero(mask)
    centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    out = cv2.seamlessClone(
        cv2.cvtColor(warped, cv2.COLOR_RGB2BGR),
        cv2.cvtColor(target, cv2.COLOR_RGB2BGR),
        mask,
        centre,
        cv2.NORMAL_CLONE,
    )
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


@register
class FaceSwapOp(Op):
    name = "face_swap"
    stage = "refine"
    Params = FaceSwapParams
    max_inputs = 2
    file_params = ("source",)

    def run(self, ctx: OpContext, inputs: list[InputAsset], params: FaceSwapParams) -> list[Output]:
        where = f"step '{ctx.node}'"
        target = load_input(ctx, inputs[0])
        if "source" in ctx.files:  # named outright: it wins over a second input
            source_where = f"{where}, parameter 'source'"
            source = load_rgb(ctx.files["source"].path, where=source_where)
        elif len(inputs) == 2:
            source, source_where = load_input(ctx, inputs[1]), f"{where}, second input"
        else:
            raise OpInputError(
                f"{where}: give the face to use: a second input or 'source: face.png'"
            )
        t_faces = find_faces(target, params.upsample)
        if not t_faces:
            raise OpInputError(
                f"{where}, input {inputs[0].id[:12]}: no frontal face found in the target; try 'upsample: 2'"
            )
        s_faces = find_faces(source, params.upsample)
        if not s_faces:
            raise OpInputError(
                f"{source_where}: no frontal face found in the source; try 'upsample: 2'"
            )
        out = swap(target, source, t_faces[0], s_faces[0], params)
        ctx.report_progress(1.0)
        meta = {"target_face": list(t_faces[0].box), "models": MODEL_LICENCES}
        return [Output(data=encode_png(out), meta=meta)]
