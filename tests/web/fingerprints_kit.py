"""Fingerprints for the web tests: enrol the rich world's IABS prints (once) and make a probe
image of an enrolled person's finger with the project's own generator (a fresh impression,
never the enrolled one)."""

from __future__ import annotations

import io
from typing import Any

from kit import ADMIN, PASSWORD
from sqlalchemy import select

from leds.store.tables_biometrics import biometric_templates
from leds.synth.writers_more import IABS_FINGER

SEED = 3  # richworld.SEED


def enrol_prints(rich: Any) -> int:
    """Enrol the rich world's fingerprint gallery (idempotent); the gallery's live size."""
    steward = rich.service.login("steward1", PASSWORD)
    got = rich.service.biometric_enrol(steward, ADMIN, "fingerprint").value
    return int(got.gallery_size)


def probe_png(rich: Any) -> bytes:
    """A new impression (PNG, 500 ppi) of the finger of the best-quality enrolled sample."""
    from PIL import Image

    from leds.biometrics.fingerprint.synth import impression_image

    with rich.service._store.engine.connect() as conn:
        ref = conn.execute(
            select(biometric_templates.c.sample_ref)
            .where(
                biometric_templates.c.modality == "fingerprint",
                biometric_templates.c.removed_at.is_(None),
            )
            .order_by(biometric_templates.c.quality.desc(), biometric_templates.c.id)
            .limit(1)
        ).scalar_one()
    person_index = int(ref[5:]) // 16  # IABSS{index * 16 + sample:09d}
    image = impression_image(SEED, person_index * 10 + IABS_FINGER, 424_242, 0.1)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
