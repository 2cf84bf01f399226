"""dlib face model: HOG detector, 5-point landmarks, ResNet 128-d descriptor.

Weights come from the ``face-recognition-models`` package, located on disk without importing
it (its ``__init__`` imports ``pkg_resources`` and may call ``quit()``). The 5-point landmark
model is used (the 68-point model's training data is non-commercial).

Scores: dlib's descriptors have a norm of about 1.36-1.46 and dlib's customary threshold is a
Euclidean distance of 0.6 between raw descriptors. The gallery compares unit-normalised
templates by cosine similarity ``s``; with unit vectors ``d**2 = 2 - 2*s``. For real dlib
descriptors (norm ~1.4) raw distance 0.6 corresponds to cosine ~0.91 (``1 - (0.6/1.4)**2 / 2``);
for the synthetic templates (unit vectors calibrated to raw dlib distances) distance 0.6
corresponds to cosine 0.82.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from leds.biometrics.face.errors import FaceModelUnavailable
from leds.biometrics.face.model import Detection, FaceBox, FaceModel, RGBImage, Template, unit

MODEL_FILES = {
    "landmarks": "shape_predictor_5_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}
INSTALL_HINT = "install the face extra: pip install dlib-bin face-recognition-models"


def models_dir() -> Path:
    """The directory holding face-recognition-models' weight files (not imported)."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise FaceModelUnavailable("the face-recognition-models package is not installed",
                                   hint=INSTALL_HINT)  # fmt: skip
    folder = Path(locations[0]) / "models"
    for name in MODEL_FILES.values():
        if not (folder / name).is_file():
            raise FaceModelUnavailable(f"face model file missing: {folder / name}",
                                       hint=INSTALL_HINT)  # fmt: skip
    return folder


@lru_cache(maxsize=1)
def _load() -> tuple[Any, Any, Any, Any]:
    try:
        import dlib  # type: ignore[import-untyped]
    except ImportError as exc:
        raise FaceModelUnavailable(f"dlib cannot be imported: {exc}", hint=INSTALL_HINT) from None
    folder = models_dir()
    return (
        dlib,
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(folder / MODEL_FILES["landmarks"])),
        dlib.face_recognition_model_v1(str(folder / MODEL_FILES["descriptor"])),
    )


class DlibFaceModel(FaceModel):
    """dlib HOG + 5-point alignment + ResNet descriptor (unit-normalised, 128-d).

    ``min_score``: detections scoring below it are not faces (measured: non-faces 0.0-0.12,
    real faces >= 0.24). ``detect_max_pixels``: larger images are shrunk for detection only
    (HOG costs ~340 ms per megapixel); landmarks and descriptor use the full image.
    """

    name = "dlib-resnet-v1"
    version = "5pt-hog-1"
    dim = 128

    def __init__(self, *, min_score: float = 0.2, detect_max_pixels: int = 2_000_000) -> None:
        self.min_score = min_score
        self.detect_max_pixels = detect_max_pixels
        _load()  # fail now, with the install hint, rather than at the first probe

    def detect(self, image: RGBImage) -> list[Detection]:
        dlib, detector, predictor, _ = _load()
        height, width = image.shape[:2]
        factor = 1.0
        small = image
        if height * width > self.detect_max_pixels:
            factor = math.sqrt(self.detect_max_pixels / (height * width))
            from PIL import Image

            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        rects, scores, _ = detector.run(small, 0, 0.0)
        found: list[Detection] = []
        for rect, score in zip(rects, scores, strict=True):
            if score < self.min_score:
                continue
            box = FaceBox(
                left=round(rect.left() / factor),
                top=round(rect.top() / factor),
                right=round((rect.right() + 1) / factor),
                bottom=round((rect.bottom() + 1) / factor),
                score=float(score),
            )
            full = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
            shape = predictor(image, full)
            points = tuple((float(shape.part(k).x), float(shape.part(k).y)) for k in range(5))
            found.append(Detection(box, points))
        found.sort(key=lambda d: -d.box.score)
        return found

    def embed(self, image: RGBImage, face: Detection) -> Template:
        dlib, _, predictor, descriptor = _load()
        b = face.box
        shape = predictor(image, dlib.rectangle(b.left, b.top, b.right - 1, b.bottom - 1))
        chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)  # aligned 150x150
        return unit(np.asarray(descriptor.compute_face_descriptor(chip), dtype=np.float64))
