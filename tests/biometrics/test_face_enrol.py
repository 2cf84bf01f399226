"""Enrolment of a synthetic world's face templates (PND custody images and IABS face
samples) into a gallery with its ``biometric_templates`` rows; removal, re-enrolment rules,
rebuild, orphan clean-up, and the probe-never-stored rule."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from face_photos import needs_dlib, photo
from sqlalchemy import select

from actors import STEWARD
from leds.biometrics.face.pipeline import FacePipeline
from leds.biometrics.gallery import (
    Enrolment,
    FaceGallery,
    GalleryError,
    count_enrolled,
    enrol,
    enrol_world,
    rebuild,
    reconcile,
    remove,
    templates_for_slots,
)
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store.schema import records
from leds.store.tables_biometrics import biometric_templates as bt
from leds.synth import biometrics as synth
from leds.synth import generate_world

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic test world")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("face-world")
    generate_world(out, 400, 13, part_size=200, workers=1, invalid_rate=0.01)
    return out


def _extract_templates(world: Path) -> dict[str, bytes]:
    """sample/image ref -> template bytes, read straight from the extract files."""
    out: dict[str, bytes] = {}
    for jsonl in sorted((world / "pnd").glob("pnd-*.jsonl")):
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            image = obj.get("image") if obj.get("type") == "custody" else None
            if image and image.get("file"):
                blob = (world / "pnd" / image["file"]).read_bytes()
                out[image["ref"]] = blob[image["offset"] : image["offset"] + image["length"]]
    for batch in sorted((world / "iabs").glob("batch-*.json")):
        doc = json.loads(batch.read_text(encoding="utf-8"))
        for e in doc["encounters"]:
            for s in e["samples"]:
                if s["modality"] == "face" and s["file"]:
                    blob = (world / "iabs" / s["file"]).read_bytes()
                    out[s["sample_ref"]] = blob[s["offset"] : s["offset"] + s["length"]]
    return out


@pytest.fixture
def loaded(service: Service, world: Path) -> Service:
    for source in ("pnd", "iabs"):
        service.import_source(STEWARD, ADMIN, source, world / source)
    return service


def test_enrol_world_links_every_template_to_its_records(
    loaded: Service, world: Path, tmp_path: Path
) -> None:
    store = loaded._store
    expected = _extract_templates(world)
    seen: list[int] = []
    with store.transaction() as conn:
        summary = enrol_world(conn, tmp_path / "face", chunk=97, progress=seen.append)
    assert summary.failed == []
    assert sum(seen) > 0
    with store.transaction() as conn:
        rows = conn.execute(select(bt)).all()
        recs = {r.id: r for r in conn.execute(select(records)).all()}
    assert summary.enrolled == len(rows) == len(summary.record_ids) > 100
    # Invalid rows injected by the generator are rejected at import: their images are not
    # in the store, so not enrolled; everything stored is.
    assert {r.sample_ref for r in rows} <= set(expected)
    assert len(rows) >= 0.95 * len(expected)
    gallery = FaceGallery(tmp_path / "face")
    assert gallery.count == len(rows)
    kinds = set()
    for row in rows:
        want = synth.unpack(expected[row.sample_ref])[0]
        np.testing.assert_allclose(gallery.template(row.slot), want, atol=1e-6)
        assert row.algorithm.startswith("synthetic-face/1")
        rec = recs[row.record_id]
        kinds.add((rec.source, rec.kind))
        if row.subject_record_id is None:  # the person record was rejected at import
            assert not any(
                (r.source, r.kind, r.source_record_id) == (rec.source, "person", rec.subject_id)
                for r in recs.values()
            )
            continue
        person = recs[row.subject_record_id]
        assert (person.source, person.kind, person.source_record_id) == (
            rec.source, "person", rec.subject_id,
        )  # fmt: skip
    assert kinds == {("pnd", "custody"), ("iabs", "biometric")}
    # The same person's other captures (custody and immigration) come first in a search.
    truth: dict[tuple[str, str], str] = {}
    for part in sorted((world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            truth.update(((r["source"], r["source_record_id"]), r["person_id"])
                         for r in csv.DictReader(fh))  # fmt: skip
    person_of = {
        row.slot: truth[(recs[row.record_id].source, recs[row.record_id].source_record_id)]
        for row in rows
    }
    by_person: dict[str, list[int]] = {}
    for slot, pid in person_of.items():
        by_person.setdefault(pid, []).append(slot)
    mated = [slots for slots in by_person.values() if len(slots) >= 2][:20]
    assert mated
    for slots in mated:
        hits = gallery.search(gallery.template(slots[0]), len(slots))
        assert {h.slot for h in hits} == set(slots)


def test_enrolment_is_idempotent_and_respects_removal(loaded: Service, tmp_path: Path) -> None:
    store = loaded._store
    with store.transaction() as conn:
        first = enrol_world(conn, tmp_path / "face")
    with store.transaction() as conn:
        again = enrol_world(conn, tmp_path / "face")
    assert again.enrolled == 0
    assert again.already == first.enrolled
    gallery = FaceGallery(tmp_path / "face")
    with store.transaction() as conn:
        victim = conn.execute(select(bt).order_by(bt.c.id).limit(1)).one()
        with pytest.raises(GalleryError, match="needs a reason"):
            remove(conn, gallery, reason=" ", record_ids=[victim.record_id])
        gone = remove(conn, gallery, reason="retention: PACE custody image, no further action",
                      record_ids=[victim.record_id])  # fmt: skip
        assert [g.template_id for g in gone] == [victim.id]
        row = conn.execute(select(bt).where(bt.c.id == victim.id)).one()
        assert row.removed_at is not None
        assert row.removal_reason.startswith("retention")
    assert gallery.is_removed(victim.slot)
    with store.transaction() as conn:
        third = enrol_world(conn, gallery)
    assert third.enrolled == 0
    assert third.removed_before == 1  # a removed image is not enrolled again
    with store.transaction() as conn:
        assert count_enrolled(conn) == first.enrolled - 1
        with pytest.raises(GalleryError, match="already enrolled"):
            enrol(conn, gallery, [_enrolment(victim)], algorithm="x")


def _enrolment(row: Any) -> Enrolment:
    return Enrolment(
        row.sample_ref, row.record_id, row.subject_record_id, np.ones(128, dtype=np.float32)
    )


def test_rebuild_renumbers_slots_and_reconcile_drops_orphans(
    loaded: Service, tmp_path: Path
) -> None:
    store = loaded._store
    with store.transaction() as conn:
        enrol_world(conn, tmp_path / "face")
    gallery = FaceGallery(tmp_path / "face")
    with store.transaction() as conn:
        rows = conn.execute(select(bt).order_by(bt.c.slot)).all()
        before = {r.sample_ref: gallery.template(r.slot) for r in rows}
        remove(conn, gallery, reason="test", template_ids=[rows[0].id, rows[5].id])
    gallery.append(np.ones((2, 128), dtype=np.float32))  # slots no row points to
    with store.transaction() as conn:
        assert reconcile(conn, gallery) == 2
        live = rebuild(conn, gallery)
    assert live == len(rows) - 2 == gallery.count
    with store.transaction() as conn:
        after = conn.execute(select(bt)).all()
        assert sorted(r.slot for r in after if r.removed_at is None) == list(range(live))
        assert {r.slot for r in after if r.removed_at is not None} == {-1}
        for r in after:
            if r.removed_at is None:
                np.testing.assert_array_equal(gallery.template(r.slot), before[r.sample_ref])
        found = templates_for_slots(conn, [0, 1, live + 5])
    assert set(found) == {0, 1}
    assert found[0].sample_ref in before


def test_probe_is_never_stored(loaded: Service, tmp_path: Path) -> None:
    """A real probe searched against the world's gallery leaves no trace of its bytes or its
    template in the gallery directory or the database."""
    needs_dlib()
    store = loaded._store
    with store.transaction() as conn:
        enrol_world(conn, tmp_path / "face")
    data = photo("obama.jpg")
    probe = FacePipeline().process(data)
    gallery = FaceGallery(tmp_path / "face")
    hits = gallery.search(probe.template, 20)
    assert len(hits) == 20
    assert hits[0].score < 0.5  # synthetic templates are not this person
    needles = [data[1000:1064], probe.template.tobytes()[:64], probe.sha256.encode()]
    for path in [*sorted((tmp_path / "face").iterdir()), *_db_files(loaded)]:
        blob = path.read_bytes()
        for needle in needles:
            assert needle not in blob, path


def _db_files(service: Service) -> list[Path]:
    url = service._store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        return []
    db = Path(url.database)
    return [p for p in db.parent.glob(db.name + "*") if p.is_file()]
