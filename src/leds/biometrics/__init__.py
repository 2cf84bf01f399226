"""Biometrics: face pipeline and gallery (fingerprints alongside).

Kept light on purpose: importing :mod:`leds.biometrics` loads neither dlib, FAISS nor numpy.
Use the submodules: :mod:`leds.biometrics.face` (decode, detect, quality, align, embed) and
:mod:`leds.biometrics.gallery` (templates on disk, enrolment, removal, search).
"""

from __future__ import annotations

from leds.errors import LedsError


class BiometricError(LedsError):
    """Root of the biometric errors (bad probe image, quality refusal, gallery problems)."""


__all__ = ["BiometricError"]
