"""Face: a replaceable :class:`~leds.biometrics.face.model.FaceModel` (dlib ResNet by default)
and the probe pipeline (decode, detect, quality check, align, embed). Heavy modules (dlib,
Pillow, numpy) load only when a pipeline or model is used."""

from __future__ import annotations

from leds.biometrics.face.errors import (
    FaceError,
    FaceModelUnavailable,
    FaceQualityRefused,
    ImageDecodeError,
    ImageTooLarge,
    MultipleFaces,
    NoFaceFound,
    UnsupportedImageFormat,
)

__all__ = [
    "FaceError",
    "FaceModelUnavailable",
    "FaceQualityRefused",
    "ImageDecodeError",
    "ImageTooLarge",
    "MultipleFaces",
    "NoFaceFound",
    "UnsupportedImageFormat",
]
