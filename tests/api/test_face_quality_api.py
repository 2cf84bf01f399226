"""``POST /api/v1/biometrics/face/quality``: a probe photo's quality before a face search —
the item envelope with the ``audit_seq`` of a committed entry, 401 without credentials, 403
(recorded) for a role without face search, 4xx with the error envelope on a non-image."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kit import USERS, World
from test_contract import entry, error_of

QUALITY = "/api/v1/biometrics/face/quality"
FACES = Path(__file__).resolve().parents[2] / ".cache" / "faces"


def _photo(name: str) -> bytes:
    path = FACES / name
    if not path.is_file():
        pytest.skip(f"registry test photo {path} is missing: run `make venv` to fetch it")
    return path.read_bytes()


def _upload(data: bytes, name: str = "probe.jpg") -> dict[str, tuple[str, bytes, str]]:
    return {"image": (name, data, "image/jpeg")}


def test_quality_envelope_and_audit_entry(client: TestClient, world: World) -> None:
    probe = _photo("obama.jpg")
    got = client.post(QUALITY, files=_upload(probe), headers=world.auth("operator"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"data", "audit_seq"}
    data = body["data"]
    assert data["probe_sha256"] == hashlib.sha256(probe).hexdigest()
    assert (data["faces"], data["passed"], data["reasons"]) == (1, True, [])
    assert set(data["quality"]) == {
        "face_width",
        "face_height",
        "eye_distance",
        "detector_score",
        "outside",
    }
    logged = entry(client, world, body["audit_seq"])
    assert (logged["operation"], logged["actor_id"]) == ("face_quality", USERS["operator"][0])
    assert logged["decision"].startswith("allow:")
    assert logged["query"]["probe_sha256"] == data["probe_sha256"]


def test_a_cut_off_face_fails_with_the_reason(client: TestClient, world: World) -> None:
    got = client.post(
        QUALITY, files=_upload(_photo("obama_partial_face.jpg")), headers=world.auth("operator")
    )
    assert got.status_code == 200, got.text
    data = got.json()["data"]
    assert data["passed"] is False
    assert any("outside the image" in r for r in data["reasons"])


def test_quality_needs_credentials_and_face_search(client: TestClient, world: World) -> None:
    upload = _upload(b"\xff\xd8\xff not really a jpeg")
    error_of(client.post(QUALITY, files=upload), 401)
    refused = error_of(
        client.post(QUALITY, files=upload, headers=world.auth("constable")), 403, "access_denied"
    )
    assert refused["message"]


def test_a_non_image_is_refused_with_the_error_envelope(client: TestClient, world: World) -> None:
    got = client.post(
        QUALITY, files=_upload(b"this is not an image", "notes.txt"), headers=world.auth("operator")
    )
    error = error_of(got, got.status_code)
    assert 400 <= got.status_code < 500
    assert "not a readable image" in error["message"]
    empty = client.post(QUALITY, files=_upload(b""), headers=world.auth("operator"))
    assert error_of(empty, empty.status_code)["message"] == "the photo is empty"
    assert 400 <= empty.status_code < 500
