"""Biometrics through the one door: enrolment, a face search with a real photo as probe
(never stored, never logged), review until closure, evaluation and threshold governance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from actors import AUDITOR, CONSTABLE, STEWARD, signed_in
from leds.errors import AccessDenied, LedsError
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store.tables_biometrics import biometric_searches
from leds.synth import generate_world

FACES = Path(__file__).resolve().parents[2] / ".cache" / "faces"
ADMIN = PurposeStatement.of("admin-process", "enrolling the synthetic gallery for the test")
OVERSIGHT = PurposeStatement.of("oversight", "reviewing the proposed face threshold")
CRIME = PurposeStatement.of("crime", "identifying a suspect caught on camera", "CASE-7")
OPERATOR = signed_in("fso1", "facial-search-operator", "NCA")
SECOND = signed_in("fso2", "facial-search-operator", "NCA")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bio-world")
    generate_world(out, 400, 5, part_size=400, workers=1)
    return out


@pytest.fixture
def service(world: Path, tmp_path: Path) -> Iterator[Service]:
    svc = Service.open(tmp_path / "data")
    for source in ("pnd", "iabs"):
        svc.import_source(STEWARD, ADMIN, source, world / source)
    yield svc
    svc.close()


def _photo(name: str) -> bytes:
    path = FACES / name
    if not path.exists():
        pytest.skip(f"registry test photo {path} missing: run `make venv` to fetch it")
    return path.read_bytes()


def test_enrol_search_review_close(service: Service) -> None:
    enrolled = service.biometric_enrol(STEWARD, ADMIN, "face")
    assert enrolled.value.enrolled > 0
    assert enrolled.value.gallery_size == enrolled.value.enrolled

    probe = _photo("obama.jpg")
    found = service.face_search(OPERATOR, CRIME, probe, list_length=5)
    listed = found.value
    assert len(listed.candidates) == 5
    assert "not an identification" in listed.notice
    assert [c.rank for c in listed.candidates] == [1, 2, 3, 4, 5]
    # the audit entry names the candidates' records and keeps the probe's hash, not the probe
    entry = service._store.audit_entries(after=found.audit_seq - 1, limit=1)[0]
    assert entry.operation == "face_search"
    assert entry.query["probe_sha256"] == listed.probe_sha256
    assert entry.outcome["search_id"] == listed.search_id
    with service._store.engine.connect() as conn:
        row = conn.execute(select(biometric_searches)).one()
    assert row.probe_sha256 == listed.probe_sha256
    assert probe[:64].hex() not in str(dict(row._mapping))

    with pytest.raises(LedsError, match="undecided"):
        service.biometric_close(OPERATOR, CRIME, listed.search_id)
    for c in listed.candidates:
        service.biometric_decide(
            OPERATOR,
            CRIME,
            listed.search_id,
            c.rank,
            "not-a-match",
            "face shape and ears differ from the probe clearly",
        )
    service.biometric_decide(
        SECOND,
        CRIME,
        listed.search_id,
        1,
        "not-a-match",
        "agree: different hairline and nose from the probe",
        second=True,
    )
    state = service.biometric_candidates(OPERATOR, CRIME, listed.search_id).value
    assert state.undecided == ()
    closed = service.biometric_close(OPERATOR, CRIME, listed.search_id)
    assert closed.audit_seq > found.audit_seq


def test_search_refusals_and_failed_probes_are_recorded(service: Service) -> None:
    with pytest.raises(AccessDenied):
        service.face_search(CONSTABLE, CRIME, b"\x89PNG")
    last = service._store.audit_entries(after=0, limit=100_000)[-1]
    assert last.decision.startswith("deny:")
    with pytest.raises(LedsError):
        service.face_search(OPERATOR, CRIME, b"this is not an image at all")
    last = service._store.audit_entries(after=0, limit=100_000)[-1]
    assert last.operation == "face_search"
    assert "failed" in last.outcome
    with pytest.raises(LedsError):
        service.face_search(OPERATOR, CRIME, _photo("obama.jpg"), list_length=51)


def test_threshold_change_needs_a_report_and_oversight(service: Service, tmp_path: Path) -> None:
    service.biometric_enrol(STEWARD, ADMIN, "face")
    report = tmp_path / "report"
    service.biometric_evaluate(STEWARD, ADMIN, report, thresholds=(0.84,), gallery_persons=300)
    assert (report / "report.html").exists()
    with pytest.raises(LedsError):  # no figures at 0.9 in that report
        service.threshold_propose(STEWARD, ADMIN, "face", 0.9, report, "tighter after review")
    proposed = service.threshold_propose(
        STEWARD, ADMIN, "face", 0.84, report, "fewer false candidates at this gallery size"
    ).value
    with pytest.raises(AccessDenied):  # a steward cannot approve
        service.threshold_decide(STEWARD, ADMIN, "face", proposed.version, approve=True)
    with pytest.raises(AccessDenied):  # the auditor, but only for oversight
        service.threshold_decide(AUDITOR, ADMIN, "face", proposed.version, approve=True)
    service.threshold_decide(AUDITOR, OVERSIGHT, "face", proposed.version, approve=True)
    listed = service.face_search(OPERATOR, CRIME, _photo("obama.jpg"), list_length=3).value
    assert listed.threshold_version == proposed.version
    assert listed.threshold == pytest.approx(0.84)


def test_fingerprint_threshold_changes_through_its_evaluation(
    service: Service, tmp_path: Path
) -> None:
    """The fingerprint evaluation (once refused: "runs from bench/biometrics.py") writes a
    report whose threshold, once approved, is the one a fingerprint search records."""
    import io

    from PIL import Image

    from leds.biometrics.fingerprint.synth import impression_image

    service.biometric_enrol(STEWARD, ADMIN, "fingerprint")
    report = tmp_path / "fp-report"
    run = service.biometric_evaluate(
        STEWARD, ADMIN, report, modality="fingerprint", thresholds=(6.5,), gallery_persons=30
    )
    assert run.value.directory == report
    assert (report / "report.html").exists()
    with pytest.raises(LedsError, match="no figures at threshold 9"):
        service.threshold_propose(
            STEWARD, ADMIN, "fingerprint", 9.0, report, "tighter after review"
        )
    proposed = service.threshold_propose(
        STEWARD, ADMIN, "fingerprint", 6.5, report, "more mates above the threshold"
    ).value
    service.threshold_decide(AUDITOR, OVERSIGHT, "fingerprint", proposed.version, approve=True)
    buf = io.BytesIO()
    Image.fromarray(impression_image(99, 1, 1)).save(buf, format="PNG")
    listed = service.fingerprint_search(OPERATOR, CRIME, buf.getvalue(), list_length=3).value
    assert listed.threshold_version == proposed.version
    assert listed.threshold == pytest.approx(6.5)


def test_erasing_a_record_takes_its_template_out_of_the_gallery(service: Service) -> None:
    from leds.store.schema import records
    from leds.store.tables_biometrics import biometric_templates as bt

    service.biometric_enrol(STEWARD, ADMIN, "face")
    with service._store.engine.connect() as conn:
        row = conn.execute(
            select(bt.c.id, bt.c.slot, records.c.source, records.c.kind, records.c.source_record_id)
            .join(records, records.c.id == bt.c.record_id)
            .where(bt.c.modality == "face")
        ).first()
    assert row is not None
    service.erase_record(
        STEWARD, ADMIN, row.source, row.kind, row.source_record_id, "retention period has ended"
    )
    with service._store.engine.connect() as conn:
        kept = conn.execute(select(bt).where(bt.c.id == row.id)).one()
    assert kept.record_id is None
    assert kept.removed_at is not None
    assert "record erased" in kept.removal_reason
    assert service._gallery("face").is_removed(row.slot)
