"""The face search form's quality check (UI screen 2): ``POST /faces/quality`` with the
session's CSRF token answers the form's script with a fragment (pass or fail, the figures and
the reason) and a plain form post with a page; refusals and bad images show the error state."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_pages import csrf_in, sign_in

FACES = Path(__file__).resolve().parents[2] / ".cache" / "faces"
HX = {"HX-Request": "true"}


def _photo(name: str) -> bytes:
    path = FACES / name
    if not path.is_file():
        pytest.skip(f"registry test photo {path} is missing: run `make venv` to fetch it")
    return path.read_bytes()


def _operator(client: TestClient) -> str:
    """Sign in as the face search operator with a purpose; the upload form's CSRF token."""
    sign_in(client, "operator", purpose=False)
    page = client.get("/purpose")
    done = client.post(
        "/purpose",
        data={
            "purpose": "crime",
            "justification": "image of an unknown suspect",
            "case_ref": "WY-2026-0042",
            "csrf_token": csrf_in(page.text),
        },
    )
    assert done.status_code == 303, done.text
    form = client.get("/faces")
    assert form.status_code == 200
    assert 'id="drop-zone"' in form.text
    assert 'formaction="/faces/quality"' in form.text
    assert '<script src="/static/face-search.js" defer></script>' in form.text
    return csrf_in(form.text)


def _files(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"image": ("probe.jpg", data, "image/jpeg")}


def test_fragment_shows_pass_and_the_figures(client: TestClient) -> None:
    csrf = _operator(client)
    got = client.post(
        "/faces/quality", data={"csrf_token": csrf}, files=_files(_photo("obama.jpg")), headers=HX
    )
    assert got.status_code == 200, got.text
    assert "<html" not in got.text  # a fragment for the form's script
    assert "good enough to search" in got.text
    assert "Faces found</dt><dd>1</dd>" in got.text
    assert "Distance between the eyes</dt><dd>106.0 px</dd>" in got.text
    assert "Face cut off</dt><dd>0 %</dd>" in got.text
    assert "as audit entry" in got.text


def test_fragment_shows_fail_and_the_reason(client: TestClient) -> None:
    csrf = _operator(client)
    got = client.post(
        "/faces/quality",
        data={"csrf_token": csrf},
        files=_files(_photo("obama_partial_face.jpg")),
        headers=HX,
    )
    assert got.status_code == 200, got.text
    assert "too poor to search" in got.text
    assert "22% of the face lies outside the image (face cut off)" in got.text


def test_without_javascript_the_button_posts_to_a_page(client: TestClient) -> None:
    csrf = _operator(client)
    got = client.post(
        "/faces/quality", data={"csrf_token": csrf}, files=_files(_photo("obama.jpg"))
    )
    assert got.status_code == 200, got.text
    assert "<html" in got.text
    assert "good enough to search" in got.text
    assert 'href="/faces"' in got.text


def test_csrf_bad_images_and_refusals(client: TestClient) -> None:
    csrf = _operator(client)
    no_csrf = client.post("/faces/quality", files=_files(b"\xff\xd8"), headers=HX)
    assert no_csrf.status_code == 400
    assert "did not come from this site" in no_csrf.text
    junk = client.post(
        "/faces/quality",
        data={"csrf_token": csrf},
        files=_files(b"this is not an image at all"),
        headers=HX,
    )
    assert junk.status_code == 400
    assert "<html" not in junk.text
    assert "not a readable image" in junk.text
    sign_in(client, "constable")
    form = client.get("/search")
    refused = client.post(
        "/faces/quality",
        data={"csrf_token": csrf_in(form.text)},
        files=_files(b"\xff\xd8"),
        headers=HX,
    )
    assert refused.status_code == 403
    assert "This refusal was recorded" in refused.text
