"""IABS fingerprint samples of a synthetic world: enrolment rows, 1:N search, removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from actors import STEWARD
from leds.biometrics.fingerprint import enrol
from leds.biometrics.fingerprint.extract import Template
from leds.biometrics.fingerprint.gallery import FingerprintGallery
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store.tables_biometrics import biometric_templates
from leds.synth import generate_world

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic test world")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fpworld")
    generate_world(out, 300, 5, part_size=300, workers=1, invalid_rate=0.0)
    return out


def test_enrol_world_search_and_remove(world: Path, tmp_path: Path) -> None:
    service = Service.open(tmp_path / "data")
    store = service._store
    assert service.import_source(STEWARD, ADMIN, "iabs", world / "iabs").value.rejected == 0
    gallery = FingerprintGallery(tmp_path / "fp")
    with store.transaction() as conn:
        res = enrol.enrol_iabs(conn, gallery, world / "iabs")
    assert res.enrolled
    assert len(res.enrolled) == len(gallery)
    assert len(res.enrolled) + len(res.failures_to_enrol) > 0
    with store.transaction() as conn:
        again = enrol.enrol_iabs(conn, gallery, world / "iabs")
    assert again.enrolled == []
    assert again.already == len(res.enrolled)
    gallery.rebuild()
    # a probe: a fresh capture (new impression) of an enrolled sample's finger
    with store.transaction() as conn:
        row = conn.execute(
            select(biometric_templates).order_by(biometric_templates.c.quality.desc()).limit(1)
        ).one()
        tid, slot = row.id, row.slot
    enrolled = gallery.template(slot)
    assert enrolled.finger_position == 2
    batch = json.loads((world / "iabs" / "batch-00001.json").read_text())
    person = {s["sample_ref"]: e["person_ref"] for e in batch["encounters"] for s in e["samples"]}[
        row.sample_ref
    ]
    idx = int(person[5:]) // 2
    from leds.biometrics.fingerprint import minutiae_synth

    probe = minutiae_synth.impression_minutiae(5, idx * 10 + 2, 999_999, 0.1)
    with store.transaction() as conn:
        hits = enrol.search(conn, gallery, probe, candidates=5)
    assert hits[0].template_id == tid
    assert hits[0].score > 15  # MCC LSS-R x 100: non-mated pairs stay below about 6
    with store.transaction() as conn:
        assert enrol.remove(conn, gallery, tid, "retention period over") == row.record_id
        hits = enrol.search(conn, gallery, probe, candidates=5)
    assert tid not in [h.template_id for h in hits]
    assert isinstance(Template.from_iso(enrolled.to_iso()), Template)
    store.close()


def test_a_gallery_of_an_older_layout_is_refused_then_reindexed_by_enrol(
    world: Path, tmp_path: Path
) -> None:
    from leds.biometrics.fingerprint.gallery import FORMAT
    from leds.errors import LedsError

    data = tmp_path / "data"
    service = Service.open(data)
    service.import_source(STEWARD, ADMIN, "iabs", world / "iabs")
    first = service.biometric_enrol(STEWARD, ADMIN, "fingerprint").value
    service.close()
    meta = data / "biometrics" / "fingerprint" / "meta.json"
    doc = json.loads(meta.read_text())
    doc["format"] = "leds-fingerprint-gallery/1"  # as a gallery from before layout 2
    meta.write_text(json.dumps(doc))
    service = Service.open(data)
    try:
        with pytest.raises(LedsError, match="another layout") as err:
            service.biometric_enrol(STEWARD, ADMIN, "fingerprint")
        assert "--reindex" in (err.value.hint or "")
        again = service.biometric_enrol(STEWARD, ADMIN, "fingerprint", reindex=True)
        assert again.value.gallery_size == first.gallery_size
        assert json.loads(meta.read_text())["format"] == FORMAT
        entry = service._store.audit_entries(again.audit_seq - 1, 1)[0]
        assert entry.operation == "biometric_enrol"
        assert entry.query == {"modality": "fingerprint", "reindex": True}
    finally:
        service.close()
