"""Errors of the face pipeline: each says what was wrong with the probe and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from leds.biometrics import BiometricError

if TYPE_CHECKING:
    from leds.biometrics.face.model import FaceBox


class FaceError(BiometricError):
    """The probe image cannot be used for a face search."""


class FaceModelUnavailable(FaceError):
    """The face model (dlib, face-recognition-models) is not installed or its files are missing."""


class ImageDecodeError(FaceError):
    """The upload is not a readable image (empty, corrupt, truncated, or not an image at all)."""


class UnsupportedImageFormat(FaceError):
    """The upload is an image, but not JPEG or PNG."""


class ImageTooLarge(FaceError):
    """The upload exceeds the byte or pixel limit."""


class NoFaceFound(FaceError):
    """The detector found no face in the image."""


class MultipleFaces(FaceError):
    """More than one face: the operator must pick one (``face_index``)."""

    def __init__(self, boxes: Sequence[FaceBox]) -> None:
        listed = "; ".join(f"{i}: {b.describe()}" for i, b in enumerate(boxes))
        super().__init__(
            f"the image shows {len(boxes)} faces ({listed})",
            hint="pick one and repeat the search with face_index set to its number",
        )
        self.boxes = tuple(boxes)


class FaceQualityRefused(FaceError):
    """The face is too small, cut off, or the detection too uncertain to search with."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(
            "face quality too low for a search: " + "; ".join(reasons),
            hint="use a sharper, frontal, uncropped photo where the face is larger",
        )
        self.reasons = tuple(reasons)
