"""The gallery's rows in ``biometric_templates`` (private; re-exported by ``gallery``).

Order of writes: rows are inserted in the caller's transaction, then the templates are
appended to the gallery files. If the transaction later rolls back, the appended slots have
no row: :func:`reconcile` removes such orphans (``enrol_world`` calls it first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.sql import expression

from leds.biometrics import BiometricError
from leds.biometrics._gallery_core import FaceGallery, GalleryError, IndexParams
from leds.store.schema import imports, records
from leds.store.tables_biometrics import biometric_templates as bt

MODALITY = "face"
TEMPLATE_BYTES = 128 * 4
# Synthetic world templates are calibrated to dlib ResNet distances (leds.synth.biometrics).
SYNTHETIC_ALGORITHM = "synthetic-face/1 (dlib-resnet-v1 space)"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One template to enrol and the records it belongs to."""

    sample_ref: str
    record_id: int
    subject_record_id: int | None
    template: npt.NDArray[np.float32]
    quality: int | None = None


@dataclass(frozen=True, slots=True)
class Enrolled:
    template_id: int
    slot: int
    sample_ref: str
    record_id: int


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """What a candidate list needs about a gallery slot."""

    template_id: int
    slot: int
    sample_ref: str
    record_id: int
    subject_record_id: int | None
    quality: int | None
    algorithm: str


@dataclass
class EnrolSummary:
    """What ``enrol_world`` did; ``record_ids`` are the records read (for the audit entry)."""

    enrolled: int = 0
    already: int = 0  # sample already enrolled (live)
    removed_before: int = 0  # sample removed earlier (e.g. by retention): not enrolled again
    orphans_removed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (record id, reason)
    record_ids: list[int] = field(default_factory=list)


def enrol(
    conn: Connection, gallery: FaceGallery, items: Sequence[Enrolment], *, algorithm: str
) -> list[Enrolled]:
    """Enrol templates: one ``biometric_templates`` row each, then an append to the gallery.

    A sample already in the table (live or removed) is refused with :class:`GalleryError`;
    ``enrol_world`` filters those out first.
    """
    if not items:
        return []
    refs = [i.sample_ref for i in items]
    if len(set(refs)) != len(refs):
        raise GalleryError("the same sample_ref is listed twice in one enrolment")
    known = _known(conn, refs)
    if known:
        raise GalleryError(f"already enrolled: {', '.join(sorted(known)[:5])}")
    vectors = np.stack([np.asarray(i.template, dtype=np.float32) for i in items])
    start = gallery.count
    now = datetime.now(UTC)
    rows = [
        {
            "modality": MODALITY,
            "sample_ref": i.sample_ref,
            "record_id": i.record_id,
            "subject_record_id": i.subject_record_id,
            "slot": start + k,
            "quality": i.quality,
            "algorithm": algorithm,
            "enrolled_at": now,
        }
        for k, i in enumerate(items)
    ]
    conn.execute(insert(bt), rows)
    slots = gallery.append(vectors)  # after the rows: a failed insert appends nothing
    assert slots.start == start
    ids = dict(
        conn.execute(
            select(bt.c.slot, bt.c.id).where(
                bt.c.modality == MODALITY, bt.c.slot >= start, bt.c.slot < slots.stop,
                bt.c.removed_at.is_(None),
            )
        ).all()
    )  # fmt: skip
    return [
        Enrolled(int(ids[start + k]), start + k, i.sample_ref, i.record_id)
        for k, i in enumerate(items)
    ]


def _known(conn: Connection, refs: Sequence[str]) -> dict[str, bool]:
    """sample_ref -> removed? for refs already in the table."""
    out: dict[str, bool] = {}
    for start in range(0, len(refs), 500):
        part = refs[start : start + 500]
        for ref, removed in conn.execute(
            select(bt.c.sample_ref, bt.c.removed_at).where(
                bt.c.modality == MODALITY, bt.c.sample_ref.in_(part)
            )
        ):
            out[str(ref)] = removed is not None
    return out


def remove(
    conn: Connection,
    gallery: FaceGallery,
    *,
    reason: str,
    template_ids: Iterable[int] = (),
    record_ids: Iterable[int] = (),
) -> list[TemplateRow]:
    """Remove templates (by template id, or every template of the given source records):
    the row is kept with ``removed_at``/``removal_reason``; the gallery row is zeroed at once.
    Returns the rows removed (for the audit entry)."""
    if not reason or not reason.strip():
        raise GalleryError("a removal needs a reason (e.g. the retention rule that applies)")
    tids, rids = list(template_ids), list(record_ids)
    if not tids and not rids:
        return []
    cond = or_(
        bt.c.id.in_(tids) if tids else expression.false(),
        bt.c.record_id.in_(rids) if rids else expression.false(),
    )
    rows = [
        _row(r)
        for r in conn.execute(
            select(bt).where(bt.c.modality == MODALITY, bt.c.removed_at.is_(None), cond)
        )
    ]
    if not rows:
        return []
    conn.execute(
        update(bt)
        .where(bt.c.id.in_([r.template_id for r in rows]))
        .values(removed_at=datetime.now(UTC), removal_reason=reason.strip())
    )
    gallery.remove(r.slot for r in rows)
    return rows


def rebuild(
    conn: Connection, gallery: FaceGallery, progress: Callable[[int], None] | None = None
) -> int:
    """Compact the gallery (drop removed slots, retrain the fast index if it had one) and
    renumber the live rows' slots; removed rows get slot -1. Returns the live count."""
    reconcile(conn, gallery)
    mapping = gallery.compact(progress)
    live = conn.execute(
        select(bt.c.id, bt.c.slot).where(bt.c.modality == MODALITY, bt.c.removed_at.is_(None))
    ).all()
    # Two passes so that no two rows hold the same slot in between (slot is not unique, but
    # readers of a half-done renumbering would be confused; this is one transaction anyway).
    updates = [{"tid": int(i), "new": int(mapping[s])} for i, s in live if 0 <= s < len(mapping)]
    if updates:
        from sqlalchemy import bindparam

        conn.execute(
            update(bt).where(bt.c.id == bindparam("tid")).values(slot=bindparam("new")), updates
        )
    conn.execute(
        update(bt).where(bt.c.modality == MODALITY, bt.c.removed_at.is_not(None)).values(slot=-1)
    )
    return gallery.live_count


def reconcile(conn: Connection, gallery: FaceGallery) -> int:
    """Remove gallery slots that no live row points to (an enrolment whose transaction rolled
    back, or a row removed while the gallery was elsewhere). Returns how many."""
    used = np.zeros(gallery.count, dtype=bool)
    result = conn.execute(
        select(bt.c.slot)
        .where(bt.c.modality == MODALITY, bt.c.removed_at.is_(None))
        .execution_options(yield_per=100_000)
    )
    for part in result.partitions():
        slots = np.fromiter((s for (s,) in part), dtype=np.int64)
        slots = slots[(slots >= 0) & (slots < gallery.count)]
        used[slots] = True
    live = ~np.frombuffer(gallery._removed.view.tobytes(), dtype=np.uint8).astype(bool)
    orphans = np.flatnonzero(live & ~used)
    return gallery.remove(int(s) for s in orphans) if len(orphans) else 0


def templates_for_slots(conn: Connection, slots: Iterable[int]) -> dict[int, TemplateRow]:
    """The live ``biometric_templates`` row of each slot (slots without one are left out)."""
    wanted = sorted({int(s) for s in slots})
    out: dict[int, TemplateRow] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for r in conn.execute(
            select(bt).where(
                bt.c.modality == MODALITY, bt.c.slot.in_(part), bt.c.removed_at.is_(None)
            )
        ):
            row = _row(r)
            out[row.slot] = row
    return out


def _row(r: Any) -> TemplateRow:
    return TemplateRow(
        int(r.id), int(r.slot), str(r.sample_ref), int(r.record_id),
        None if r.subject_record_id is None else int(r.subject_record_id),
        None if r.quality is None else int(r.quality), str(r.algorithm),
    )  # fmt: skip


# ---- the world's templates ---------------------------------------------------------------
_SOURCES = (("pnd", "custody"), ("iabs", "biometric"))


def _template_ref(source: str, payload: dict[str, Any]) -> tuple[str, Any, Any, Any, Any] | None:
    """(sample_ref, file, offset, length, quality) of a record's face template, if any."""
    if source == "pnd":
        image = payload.get("image")
        if not isinstance(image, dict) or image.get("file") is None:
            return None
        return (str(image.get("ref")), image.get("file"), image.get("offset"),
                image.get("length"), image.get("quality"))  # fmt: skip
    if payload.get("modality") != "face" or payload.get("file") is None:
        return None
    return (str(payload.get("sample_ref")), payload.get("file"), payload.get("offset"),
            payload.get("length"), payload.get("quality"))  # fmt: skip


def _template_dir(import_path: str, source: str, tfile: str) -> Path | None:
    p = Path(import_path)
    for folder in ([p.parent] if p.suffix else []) + [p, p / source]:
        if (folder / tfile).is_file():
            return folder
    return None


class _Reader:
    """Reads templates from extract files, keeping a few memory maps open."""

    def __init__(self) -> None:
        self.maps: dict[Path, npt.NDArray[np.uint8]] = {}

    def read(self, path: Path, offset: int, length: int) -> npt.NDArray[np.float32]:
        data = self.maps.get(path)
        if data is None:
            if len(self.maps) >= 8:
                self.maps.clear()
            data = np.memmap(path, dtype=np.uint8, mode="r")
            self.maps[path] = data
        if length != TEMPLATE_BYTES or offset < 0 or offset + length > len(data):
            raise GalleryError(f"template at {offset}+{length} lies outside {path.name}")
        v: npt.NDArray[np.float32] = np.frombuffer(
            bytes(data[offset : offset + length]), dtype="<f4"
        ).astype(np.float32)
        return v


def enrol_world(
    conn: Connection,
    gallery_dir: Path | str | FaceGallery,
    *,
    chunk: int = 10_000,
    params: IndexParams | None = None,
    algorithm: str = SYNTHETIC_ALGORITHM,
    collect_ids: bool = True,
    progress: Callable[[int], None] | None = None,
) -> EnrolSummary:
    """Enrol every custody image (PND) and IABS face sample of the store that has a template
    and is not enrolled yet, reading the templates from the imported extracts' files.

    Streams the records in chunks of ``chunk`` (``progress`` gets the count of records read).
    A template that cannot be read or is not a usable vector is counted in ``failed`` with
    its record id and reason (failure to enrol), never dropped silently.
    """
    gallery = (
        gallery_dir
        if isinstance(gallery_dir, FaceGallery)
        else FaceGallery(gallery_dir, params=params)
    )
    summary = EnrolSummary()
    summary.orphans_removed = reconcile(conn, gallery)
    persons = records.alias("persons")
    reader = _Reader()
    dirs: dict[tuple[str, str, str], Path | None] = {}
    for source, kind in _SOURCES:
        last = 0
        while True:
            batch = conn.execute(
                select(
                    records.c.id, records.c.payload, imports.c.path, persons.c.id.label("subject"),
                )
                .select_from(
                    records.join(imports, imports.c.id == records.c.import_id).outerjoin(
                        persons,
                        and_(
                            persons.c.source == records.c.source,
                            persons.c.kind == "person",
                            persons.c.source_record_id == records.c.subject_id,
                        ),
                    )
                )
                .where(records.c.source == source, records.c.kind == kind, records.c.id > last)
                .order_by(records.c.id)
                .limit(chunk)
            ).all()  # fmt: skip
            if not batch:
                break
            last = int(batch[-1].id)
            _enrol_batch(conn, gallery, batch, source, summary, reader, dirs, algorithm,
                         collect_ids)  # fmt: skip
            if progress:
                progress(len(batch))
    return summary


def _enrol_batch(
    conn: Connection,
    gallery: FaceGallery,
    batch: Sequence[Any],
    source: str,
    summary: EnrolSummary,
    reader: _Reader,
    dirs: dict[tuple[str, str, str], Path | None],
    algorithm: str,
    collect_ids: bool,
) -> None:
    wanted: list[tuple[Any, tuple[str, Any, Any, Any, Any]]] = []
    for r in batch:
        ref = _template_ref(source, json.loads(r.payload))
        if ref is not None:
            wanted.append((r, ref))
    known = _known(conn, [ref[0] for _, ref in wanted])
    items: list[Enrolment] = []
    seen: set[str] = set()
    for r, (sample_ref, tfile, offset, length, quality) in wanted:
        if sample_ref in known:
            if known[sample_ref]:
                summary.removed_before += 1
            else:
                summary.already += 1
            continue
        if sample_ref in seen:
            summary.failed.append((int(r.id), f"sample {sample_ref} listed twice"))
            continue
        key = (str(r.path), source, str(tfile))
        if key not in dirs:
            dirs[key] = _template_dir(str(r.path), source, str(tfile))
        folder = dirs[key]
        try:
            if folder is None:
                raise GalleryError(f"template file {tfile} not found beside {r.path}")
            vector = reader.read(folder / str(tfile), int(offset), int(length))
            norm = float(np.linalg.norm(vector))
            if not np.isfinite(norm) or norm == 0.0:
                raise GalleryError("template is zero or not finite")
        except (BiometricError, OSError, TypeError, ValueError) as exc:
            summary.failed.append((int(r.id), str(exc)))
            continue
        seen.add(sample_ref)
        q = quality if type(quality) is int else None
        items.append(Enrolment(sample_ref, int(r.id), r.subject, vector / norm, q))
    if items:
        enrol(conn, gallery, items, algorithm=algorithm)
        summary.enrolled += len(items)
        if collect_ids:
            summary.record_ids.extend(i.record_id for i in items)


def count_enrolled(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).where(bt.c.modality == MODALITY, bt.c.removed_at.is_(None))
        ).scalar_one()
    )


__all__ = [
    "SYNTHETIC_ALGORITHM",
    "EnrolSummary",
    "Enrolled",
    "Enrolment",
    "TemplateRow",
    "count_enrolled",
    "enrol",
    "enrol_world",
    "rebuild",
    "reconcile",
    "remove",
    "templates_for_slots",
]
