"""The fingerprint search upload's refusals over the API: empty, too large, wrong role, no
credentials, list length out of range (a search with a real print: tests/web/
test_fingerprint_pages.py, over the rich world's enrolled gallery)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from kit import World


def test_fingerprint_upload_limits_and_roles(client: TestClient, world: World) -> None:
    url = "/api/v1/biometrics/fingerprint/searches"
    empty = client.post(url, files={"image": ("p.png", b"")}, headers=world.auth("operator"))
    assert empty.status_code == 400
    assert "empty" in empty.json()["error"]["message"]
    big = b"\0" * (10 * 1024 * 1024 + 1)
    too_big = client.post(url, files={"image": ("p.png", big)}, headers=world.auth("operator"))
    assert too_big.status_code == 413
    refused = client.post(
        url, files={"image": ("p.png", b"not a print")}, headers=world.auth("constable")
    )
    assert refused.status_code == 403
    assert client.post(url, files={"image": ("p.png", b"x")}).status_code == 401
    bad = client.post(
        url,
        files={"image": ("p.png", b"not a print")},
        data={"list_length": "1"},
        headers=world.auth("operator"),
    )
    assert bad.status_code == 422
