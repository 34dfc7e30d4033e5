"""Face detection, 5-point landmarks and identity embeddings, licence-clean.

Only models whose licence allows commercial use (QUALITY.md §0): dlib's HOG
frontal-face detector (Boost licence, built into dlib), its 5-point landmark
predictor and its ResNet face-recognition model (both released into the
public domain), shipped by the ``face_recognition_models`` sdist. The
68-point predictor in that same package restricts commercial use and is
never loaded. These come with the ``faces`` extra; without it the ops that
need them fail with the install command instead of a traceback.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routeyard.errors import OpInputError

MODEL_LICENCES = {
    "dlib/frontal_face_detector (HOG)": "BSL-1.0 (Boost), part of dlib",
    "dlib/shape_predictor_5_face_landmarks": "public domain (CC0-1.0)",
    "dlib/dlib_face_recognition_resnet_model_v1": "public domain (CC0-1.0)",
}
INSTALL_HINT = "install the faces extra: pip install 'routeyard[faces]'"


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    points: np.ndarray  # 5x2 float32: right eye (2), left eye (2), nose base
    shape: object  # dlib.full_object_detection, for the embedding


@functools.cache
def _models():
    try:
        import dlib
    except ImportError:
        raise OpInputError(f"face models are not installed; {INSTALL_HINT}") from None
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise OpInputError(f"face models are not installed; {INSTALL_HINT}")
    # Found without importing the package: its __init__ imports pkg_resources.
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def available() -> bool:
    try:
        _models()
        return True
    except OpInputError:
        return False


def find_faces(rgb: np.ndarray, upsample: int = 1) -> list[Face]:
    """Frontal faces, largest first."""
    detector, predictor, _ = _models()
    rgb = np.ascontiguousarray(rgb)
    faces = []
    for r in sorted(detector(rgb, upsample), key=lambda r: -r.area()):
        shape = predictor(rgb, r)
        pts = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
        faces.append(Face((r.left(), r.top(), r.right(), r.bottom()), pts, shape))
    return faces


def embedding(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The 128-D identity descriptor; same person below about 0.6 apart (dlib's LFW operating point)."""
    _, _, recogniser = _models()
    return np.array(recogniser.compute_face_descriptor(np.ascontiguousarray(rgb), face.shape))
