"""Fingerprint: extraction, quality, ISO/IEC 19794-2 templates, synthetic prints, 1:N search.

* :mod:`.extract` -- ``extract`` (image -> :class:`Template`, quality gate), ``match``
  (Bozorth3, 1:1), ``Template.to_iso`` / ``Template.from_iso``.
* :mod:`.mcc_match` -- MCC LSS-R matching (compiled), the 1:N score.
* :mod:`.synth` -- ``impression_image`` (synthetic print images); :mod:`.minutiae_synth` --
  ``impression_minutiae`` (the same model at minutiae level, for bulk galleries).
* :mod:`.gallery` -- :class:`FingerprintGallery` (on-disk, MCC-LSH pre-filter + MCC LSS-R);
  ``SEARCH_ALGORITHM`` names what a 1:N search ran (recorded with it).
* :mod:`.enrol` -- ``enrol_iabs``, ``search``, ``remove`` over ``biometric_templates``.

See ``docs/biometrics.md``.
"""

from leds.biometrics.fingerprint.errors import (
    BadTemplate,
    FingerprintError,
    GalleryError,
    LowQuality,
    NativeUnavailable,
    UnreadableImage,
)
from leds.biometrics.fingerprint.extract import ALGORITHM, Template, extract, match
from leds.biometrics.fingerprint.gallery import SEARCH_ALGORITHM, Candidate, FingerprintGallery

__all__ = [
    "ALGORITHM",
    "SEARCH_ALGORITHM",
    "BadTemplate",
    "Candidate",
    "FingerprintError",
    "FingerprintGallery",
    "GalleryError",
    "LowQuality",
    "NativeUnavailable",
    "Template",
    "UnreadableImage",
    "extract",
    "match",
]
