"""Face gallery: templates on disk, enrolment by append, removal, rebuild, and a search whose
results match exact search.

Scores are cosine similarities of unit vectors, ``s = x . q = 1 - d**2 / 2`` with ``d`` their
Euclidean distance. dlib's customary threshold is a distance of 0.6 between *raw* dlib
descriptors (norm ~1.4, measured 1.36-1.46): that is cosine ~0.91 (``1 - (0.6/1.4)**2 / 2``)
for real dlib templates. The synthetic world's templates are unit vectors calibrated to raw
dlib distances, so for them distance 0.6 is cosine 0.82.

Layout (``DIR``, e.g. ``DATA/biometrics/face/``): float32 templates (``templates.f32``,
append-only, memory-mapped; row = slot), a removal mask, and once the gallery reaches
``IndexParams.train_at`` slots, the fast index's codes. Exact search (every live template
scored, as FAISS ``IndexFlatIP``) is the reference; the fast index is PQ fast scan ->
8-bit codes -> exact re-ranking from the float file, trained once, never on append
(``_gallery_index``). Removal zeroes the template at once and masks the slot; ``rebuild``
compacts.

Rows of ``biometric_templates`` link each slot to its source record and person record: the
functions that write them take the caller's Connection (``enrol``, ``remove``, ``rebuild``,
``reconcile``, ``enrol_world``); ``templates_for_slots`` maps search hits to rows.
"""

from __future__ import annotations

from leds.biometrics._gallery_core import FaceGallery, GalleryError, Hit
from leds.biometrics._gallery_db import (
    SYNTHETIC_ALGORITHM,
    Enrolled,
    Enrolment,
    EnrolSummary,
    TemplateRow,
    count_enrolled,
    enrol,
    enrol_world,
    rebuild,
    reconcile,
    remove,
    templates_for_slots,
)
from leds.biometrics._gallery_index import IndexParams

__all__ = [
    "SYNTHETIC_ALGORITHM",
    "EnrolSummary",
    "Enrolled",
    "Enrolment",
    "FaceGallery",
    "GalleryError",
    "Hit",
    "IndexParams",
    "TemplateRow",
    "count_enrolled",
    "enrol",
    "enrol_world",
    "rebuild",
    "reconcile",
    "remove",
    "templates_for_slots",
]
