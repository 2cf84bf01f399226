"""The face probe's quality check before a search (UI screen 2): detection and quality only,
through the one door, the photo never stored, one audit entry with its hash and figures."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from face_photos import needs_dlib, photo
from PIL import Image
from sqlalchemy import func, select

from actors import CONSTABLE, signed_in
from leds.biometrics.face import ImageDecodeError, MultipleFaces, NoFaceFound
from leds.errors import AccessDenied
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store.tables_biometrics import biometric_searches

CRIME = PurposeStatement.of("crime", "identifying a suspect caught on camera", "CASE-7")
OPERATOR = signed_in("fso1", "facial-search-operator", "NCA")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    needs_dlib()
    svc = Service.open(tmp_path / "data")
    yield svc
    svc.close()


def _entries(service: Service) -> list[Any]:
    return list(service._store.audit_entries(after=0, limit=100_000))


def test_quality_of_a_good_photo_is_recorded_and_nothing_is_kept(
    service: Service, tmp_path: Path
) -> None:
    probe = photo("obama.jpg")
    before = len(_entries(service))
    checked = service.face_quality(OPERATOR, CRIME, probe)
    got = checked.value
    assert got.passed
    assert got.reasons == ()
    assert got.faces == 1
    assert got.quality["face_width"] >= 200
    assert got.quality["eye_distance"] > 90
    assert got.quality["detector_score"] > 1.0
    assert got.quality["outside"] == 0.0
    digest = hashlib.sha256(probe).hexdigest()
    assert got.probe_sha256 == digest
    # exactly one audit entry: the probe's hash, faces found and the figures, nothing else
    entries = service._store.audit_entries(after=0, limit=100_000)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.seq == checked.audit_seq
    assert entry.operation == "face_quality"
    assert entry.decision.startswith("allow:")
    assert entry.query == {"modality": "face", "check": "quality", "probe_sha256": digest}
    assert entry.outcome == {"faces": 1, "quality": got.quality, "passed": True}
    assert entry.subjects == []
    # no search recorded, no gallery opened, the image written nowhere under the data dir
    with service._store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(biometric_searches)).scalar() == 0
    assert not (service.data_dir / "biometrics").exists()
    head = probe[:256]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert head not in path.read_bytes(), path


def test_a_cut_off_face_fails_with_its_reason(service: Service) -> None:
    got = service.face_quality(OPERATOR, CRIME, photo("obama_partial_face.jpg")).value
    assert not got.passed
    assert got.quality["outside"] > 0.05
    assert any("outside the image" in r for r in got.reasons)
    entry = _entries(service)[-1]
    assert entry.outcome["passed"] is False


def test_bad_images_raise_the_search_errors_and_are_recorded(service: Service) -> None:
    with pytest.raises(ImageDecodeError, match="not a readable image"):
        service.face_quality(OPERATOR, CRIME, b"this is not an image at all")
    entry = _entries(service)[-1]
    assert entry.operation == "face_quality"
    assert entry.outcome["failed"] == "ImageDecodeError"
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    with pytest.raises(NoFaceFound):
        service.face_quality(OPERATOR, CRIME, blank.getvalue())
    two = Image.new("RGB", (1400, 700), "white")
    for i, name in enumerate(("obama.jpg", "biden.jpg")):
        face = Image.open(io.BytesIO(photo(name))).convert("RGB")
        face.thumbnail((700, 700))
        two.paste(face, (i * 700, 0))
    both = io.BytesIO()
    two.save(both, format="JPEG")
    with pytest.raises(MultipleFaces, match="2 faces"):
        service.face_quality(OPERATOR, CRIME, both.getvalue())


def test_refused_without_face_search_and_the_refusal_recorded(service: Service) -> None:
    with pytest.raises(AccessDenied):
        service.face_quality(CONSTABLE, CRIME, photo("obama.jpg"))
    entry = _entries(service)[-1]
    assert entry.decision.startswith("deny:")
    # refusals are recorded under the policy action asked, with the check's query
    assert entry.operation == "face_search"
    assert entry.query["check"] == "quality"
