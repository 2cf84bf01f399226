"""The search, person, vehicle and face-review pages over HTTP (no browser): results with
their audit entry, the "did you mean" of a mistyped identifier, the empty and refused
states, the person → vehicle link, and a face search decided and closed through the forms
(CSRF-checked), with its JSON twins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import PASSWORD
from test_pages import csrf_in, recorded_seq, sign_in

PHOTO = Path(__file__).resolve().parents[2] / ".cache/faces/obama.jpg"


def test_person_search_page_shows_results_and_their_audit_entry(client: TestClient) -> None:
    sign_in(client, "constable")
    got = client.get("/search", params={"tab": "person", "surname": "Smiht"})
    assert got.status_code == 200, got.text
    assert "ANNA MARIA SMITH" in got.text
    assert 'href="/persons/R1"' in got.text
    assert recorded_seq(got.text) > 0
    assert "/api/v1/search/persons?surname=Smiht" in got.text
    person = client.get("/persons/R1")
    assert person.status_code == 200
    assert "Golden record" in person.text
    assert "2001/0171310W" in person.text
    assert "Theft" in person.text  # the arrest, an event
    assert recorded_seq(person.text) > recorded_seq(got.text)


def test_search_states_empty_bad_input_did_you_mean_and_refused(client: TestClient) -> None:
    sign_in(client, "constable")
    empty = client.get("/search", params={"tab": "vehicle", "vrm": "ZZ9*"})
    assert empty.status_code == 200
    assert "Nothing found" in empty.text
    bad = client.get("/search", params={"tab": "person", "surname": "Smith", "dob": "soon"})
    assert bad.status_code == 400
    assert "cannot read the date of birth" in bad.text
    assert "Nothing was searched" in bad.text
    typo = client.get("/search", params={"tab": "identifier", "value": "2001/0171310X"})
    assert typo.status_code == 422
    assert 'Did you mean <a href="/search?tab=identifier&amp;value=2001%2F0171310W">' in typo.text
    followed = client.get("/search", params={"tab": "identifier", "value": "2001/0171310W"})
    assert followed.status_code == 200
    assert "ANNA MARIA" in followed.text
    refused = client.get("/search", params={"tab": "text", "q": "drugs"})
    assert refused.status_code == 403
    assert "no policy permits it" in refused.text
    blank = client.get("/search", params={"tab": "person"})
    assert blank.status_code == 200
    assert "recorded as audit entry" not in blank.text


# ---- the rich world: vehicles and faces --------------------------------------------------
@pytest.fixture
def rich_client(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def test_person_links_to_vehicle_and_back(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    found = rich_client.get("/search", params={"tab": "person", "surname": rich.misspelt})
    assert found.status_code == 200, found.text
    assert rich.surname in found.text
    key = re.search(r'href="/persons/([^"]+)"', found.text)
    assert key
    person = rich_client.get(f"/persons/{key.group(1)}")
    assert person.status_code == 200
    assert f'href="/vehicles/{rich.vrm}"' in person.text
    vehicle = rich_client.get(f"/vehicles/{rich.vrm}")
    assert vehicle.status_code == 200
    assert "Keepers and linked people" in vehicle.text
    assert f'href="/persons/{key.group(1)}"' in vehicle.text
    assert recorded_seq(vehicle.text) > recorded_seq(person.text)


def _face_session(client: TestClient, rich: Any) -> None:
    client.cookies.clear()
    form = client.get("/login")
    done = client.post(
        "/login", data={"user_id": "fso1", "password": PASSWORD, "csrf_token": csrf_in(form.text)}
    )
    assert done.status_code == 303
    page = client.get("/purpose")
    client.post(
        "/purpose",
        data={
            "purpose": "crime",
            "justification": "image of an unknown suspect",
            "case_ref": "WY-2026-0042",
            "csrf_token": csrf_in(page.text),
        },
    )


def test_face_search_decide_every_candidate_and_close(rich: Any, rich_client: TestClient) -> None:
    if not PHOTO.exists():
        pytest.skip(f"registry test photo missing ({PHOTO}): run `make venv`")
    _face_session(rich_client, rich)
    form = rich_client.get("/faces")
    assert "investigative lead only" in form.text
    csrf = csrf_in(form.text)
    no_csrf = rich_client.post(
        "/faces", files={"image": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")}
    )
    assert no_csrf.status_code == 400
    sent = rich_client.post(
        "/faces",
        data={"list_length": "3", "csrf_token": csrf},
        files={"image": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )
    assert sent.status_code == 303, sent.text
    where = sent.headers["location"]
    search_id = int(where.rsplit("/", 1)[1])
    review = rich_client.get(where)
    assert "not an identification" in review.text
    assert review.text.count('class="decide"') == 3
    early = rich_client.post(f"{where}/close", data={"csrf_token": csrf})
    assert early.status_code == 400
    assert "undecided" in early.text
    short = rich_client.post(
        f"{where}/decisions",
        data={"rank": "1", "decision": "not-a-match", "rationale": "no", "csrf_token": csrf},
    )
    assert short.status_code == 400
    assert "rationale" in short.text
    for rank in (1, 2, 3):
        done = rich_client.post(
            f"{where}/decisions",
            data={
                "rank": str(rank),
                "decision": "not-a-match",
                "rationale": "different jawline, nose and ear shape",
                "csrf_token": csrf,
            },
        )
        assert done.status_code == 303, done.text
    closed = rich_client.post(f"{where}/close", data={"csrf_token": csrf})
    assert closed.status_code == 303
    final = rich_client.get(where)
    assert "closed" in final.text
    assert 'class="decide"' not in final.text
    twin = rich_client.get(f"/api/v1/biometrics/searches/{search_id}")
    assert twin.status_code == 200
    data = twin.json()["data"]
    assert data["status"] == "closed"
    assert [c["outcome"] for c in data["candidates"]] == ["not-a-match"] * 3


def test_face_search_api_and_refusal(rich: Any, rich_client: TestClient) -> None:
    if not PHOTO.exists():
        pytest.skip(f"registry test photo missing ({PHOTO}): run `make venv`")
    from kit import ADMIN, HEADERS

    def bearer(user_id: str, who: str) -> dict[str, str]:
        user = rich.service.login(user_id, PASSWORD)
        token = rich.service.create_token(user, ADMIN, "face tests").value
        return {"Authorization": f"Bearer {token}", **HEADERS[who]}

    operator = bearer("fso1", "operator")
    image = {"image": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")}
    got = rich_client.post(
        "/api/v1/biometrics/face/searches", files=image, data={"list_length": "2"}, headers=operator
    )
    assert got.status_code == 201, got.text
    data = got.json()["data"]
    assert data["notice"] == "investigative lead — not an identification"
    assert [c["rank"] for c in data["candidates"]] == [1, 2]
    assert data["parameters"]["faces"] == 1
    empty = rich_client.post(
        "/api/v1/biometrics/face/searches",
        files={"image": ("p.jpg", b"", "image/jpeg")},
        headers=operator,
    )
    assert empty.status_code == 400
    huge = rich_client.post(
        "/api/v1/biometrics/face/searches",
        files={"image": ("p.jpg", b"\xff" * (10 * 1024 * 1024 + 1), "image/jpeg")},
        headers=operator,
    )
    assert huge.status_code == 413, huge.text
    assert huge.json()["error"]["code"] == "payload_too_large"
    constable = bearer("pc123", "constable")
    refused = rich_client.post("/api/v1/biometrics/face/searches", files=image, headers=constable)
    assert refused.status_code == 403, refused.text
