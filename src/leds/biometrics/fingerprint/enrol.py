"""Fingerprint enrolment rows (``biometric_templates``, modality ``fingerprint``) and 1:N search.

The caller (the service) owns the transaction and the audit entry; these functions take a
SQLAlchemy ``Connection`` and a :class:`FingerprintGallery` and return what the audit entry
needs (template ids, record ids). Gallery slot and ``biometric_templates.slot`` are the same
number. Order of writes at enrolment: gallery append first, then the rows; a slot with no row
(a failed transaction) is never returned by :func:`search` (slots map to live rows only), and
``FingerprintGallery.rebuild`` after :func:`sweep_orphans` drops it from the index.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, and_, select, update

from leds.biometrics.fingerprint.errors import BadTemplate, GalleryError
from leds.biometrics.fingerprint.extract import ALGORITHM, MIN_MINUTIAE, MIN_QUALITY, Template
from leds.biometrics.fingerprint.gallery import DEFAULT_SHORTLIST, FingerprintGallery
from leds.store.schema import records
from leds.store.tables_biometrics import biometric_templates

MODALITY = "fingerprint"


@dataclass
class EnrolResult:
    enrolled: list[int] = field(default_factory=list)  # biometric_templates.id
    record_ids: list[int] = field(default_factory=list)  # records.id of the samples
    already: int = 0  # samples enrolled before (skipped)
    failures_to_enrol: list[tuple[str, str]] = field(default_factory=list)  # (sample_ref, why)


@dataclass(frozen=True)
class Hit:
    rank: int
    template_id: int
    slot: int
    score: float  # MCC LSS-R x 100 (0-100)
    record_id: int
    subject_record_id: int | None
    sample_ref: str


def enrol_iabs(
    conn: Connection,
    gallery: FingerprintGallery,
    iabs_dir: str | Path,
    *,
    now: datetime | None = None,
    min_quality: int = MIN_QUALITY,
    progress: Callable[[int], None] | None = None,
) -> EnrolResult:
    """Enrol every imported IABS fingerprint sample that has a template and no row yet.

    ``iabs_dir`` is the IABS extract directory (where ``batch-*.json`` and the
    ``fingerprints-*.fmr`` files lie). A template below ``min_quality`` or with fewer than
    12 minutiae, or one whose bytes are not a valid ISO record, is a failure to enrol:
    listed in the result, never silently dropped.
    """
    when = now or datetime.now(UTC)
    base = Path(iabs_dir)
    out = EnrolResult()
    have = set(
        conn.execute(
            select(biometric_templates.c.sample_ref).where(
                biometric_templates.c.modality == MODALITY
            )
        ).scalars()
    )
    persons = {
        sid: rid
        for rid, sid in conn.execute(
            select(records.c.id, records.c.source_record_id).where(
                and_(records.c.source == "iabs", records.c.kind == "person")
            )
        )
    }
    rows = conn.execute(
        select(records.c.id, records.c.source_record_id, records.c.subject_id, records.c.payload)
        .where(and_(records.c.source == "iabs", records.c.kind == "biometric"))
        .order_by(records.c.id)
    )
    pending: list[tuple[int, str, int | None, Template]] = []
    for rid, ref, subject, payload in rows:
        body = json.loads(payload)
        if body.get("modality") != MODALITY or body.get("file") is None:
            continue
        if ref in have:
            out.already += 1
            continue
        path = base / str(body["file"])
        try:
            with path.open("rb") as fh:
                fh.seek(int(body["offset"]))
                data = fh.read(int(body["length"]))
            t = Template.from_iso(data)
        except OSError as exc:
            raise GalleryError(
                f"fingerprint template file {path} cannot be read: {exc}",
                hint="pass the IABS extract directory the batches were imported from",
            ) from None
        except BadTemplate as exc:
            out.failures_to_enrol.append((ref, str(exc)))
            continue
        if t.quality < min_quality or t.n < MIN_MINUTIAE:
            out.failures_to_enrol.append(
                (ref, f"quality {t.quality} with {t.n} minutiae below the minimum")
            )
            continue
        pending.append((int(rid), str(ref), persons.get(subject), t))
    slots = gallery.enrol((p[3] for p in pending), progress=progress)
    for (rid, ref, subject_rid, t), slot in zip(pending, slots, strict=True):
        tid = conn.execute(
            biometric_templates.insert().values(
                modality=MODALITY,
                sample_ref=ref,
                record_id=rid,
                subject_record_id=subject_rid,
                slot=slot,
                quality=t.quality,
                algorithm=ALGORITHM,
                enrolled_at=when,
            )
        ).inserted_primary_key
        assert tid is not None
        out.enrolled.append(int(tid[0]))
        out.record_ids.append(rid)
    return out


def search(
    conn: Connection,
    gallery: FingerprintGallery,
    probe: Template,
    *,
    candidates: int = 20,
    shortlist: int = DEFAULT_SHORTLIST,
) -> list[Hit]:
    """1:N search: ranked live templates (best first) with their MCC LSS-R scores (0-100)."""
    if not 2 <= candidates <= 50:
        raise GalleryError(f"a candidate list holds 2-50 entries, not {candidates}")
    found = gallery.search(probe, candidates=candidates * 2, shortlist=max(shortlist, candidates))
    if not found:
        return []
    live = {
        row.slot: row
        for row in conn.execute(
            select(
                biometric_templates.c.id,
                biometric_templates.c.slot,
                biometric_templates.c.record_id,
                biometric_templates.c.subject_record_id,
                biometric_templates.c.sample_ref,
            ).where(
                and_(
                    biometric_templates.c.modality == MODALITY,
                    biometric_templates.c.removed_at.is_(None),
                    biometric_templates.c.slot.in_([c.slot for c in found]),
                )
            )
        )
    }
    hits: list[Hit] = []
    for c in found:
        row = live.get(c.slot)
        if row is None:
            continue
        hits.append(
            Hit(
                len(hits) + 1,
                int(row.id),
                c.slot,
                c.score,
                int(row.record_id),
                None if row.subject_record_id is None else int(row.subject_record_id),
                str(row.sample_ref),
            )
        )
        if len(hits) == candidates:
            break
    return hits


def remove(
    conn: Connection,
    gallery: FingerprintGallery,
    template_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> int:
    """Remove an enrolled fingerprint (retention): row marked, gallery slot tombstoned.

    Returns the record id of the sample (for the audit entry).
    """
    if not reason.strip():
        raise GalleryError("a removal needs a reason (e.g. the retention rule that applies)")
    row = conn.execute(
        select(
            biometric_templates.c.slot,
            biometric_templates.c.record_id,
            biometric_templates.c.removed_at,
        ).where(
            and_(
                biometric_templates.c.id == template_id,
                biometric_templates.c.modality == MODALITY,
            )
        )
    ).one_or_none()
    if row is None:
        raise GalleryError(f"no fingerprint template {template_id}")
    if row.removed_at is None:
        conn.execute(
            update(biometric_templates)
            .where(biometric_templates.c.id == template_id)
            .values(removed_at=now or datetime.now(UTC), removal_reason=reason)
        )
    gallery.remove([int(row.slot)])
    return int(row.record_id)


def sweep_orphans(conn: Connection, gallery: FingerprintGallery) -> int:
    """Tombstone gallery slots that have no live row (after a failed enrolment or removal)."""
    live = set(
        conn.execute(
            select(biometric_templates.c.slot).where(
                and_(
                    biometric_templates.c.modality == MODALITY,
                    biometric_templates.c.removed_at.is_(None),
                )
            )
        ).scalars()
    )
    dead = [s for s in range(len(gallery)) if s not in live and not gallery.removed(s)]
    return gallery.remove(dead) if dead else 0
