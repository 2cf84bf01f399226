"""Candidate review (UI.md screen 6) over HTTP, on the rich world with a real probe photo: the
ranked list hides identities until opened (a setting shows them), the probe and each candidate
side by side (no image held, said so), a second reviewer through the page (a different person,
signed in as themselves), and the decision record as JSON and CSV from the page and the API,
each recorded as a disclosure (the API's envelope and audit_seq; 401, 403, 404, 422)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import HEADERS, PASSWORD
from review_kit import operator_session, second_operator

PHOTO = Path(__file__).resolve().parents[2] / ".cache/faces/obama.jpg"


@pytest.fixture
def http(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def searched(rich: Any, http: TestClient) -> str:
    """A face search of 3 candidates by fso1; its review page's path."""
    if not PHOTO.exists():
        pytest.skip(f"registry test photo missing ({PHOTO}): run `make venv`")
    csrf = operator_session(http, "fso1")
    sent = http.post(
        "/faces",
        data={"list_length": "3", "csrf_token": csrf},
        files={"image": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )
    assert sent.status_code == 303, sent.text
    return str(sent.headers["location"])


def _decide(http: TestClient, where: str, rank: int, **extra: str) -> Any:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get(where).text)
    assert csrf
    return http.post(
        f"{where}/decisions",
        data={
            "rank": str(rank),
            "decision": "not-a-match",
            "rationale": "different jawline, nose and ear shape",
            "csrf_token": csrf.group(1),
            **extra,
        },
    )


def _last(rich: Any) -> Any:
    return rich.service._store.audit_entries(after=0, limit=1_000_000)[-1]


def test_identity_hidden_side_by_side_and_second_review(
    rich: Any, http: TestClient, searched: str
) -> None:
    page = http.get(searched)
    assert page.status_code == 200, page.text
    state = http.get(f"/api/v1/biometrics/searches/{searched.rsplit('/', 1)[1]}").json()["data"]
    sample = state["candidates"][0]["sample_ref"]
    # the sample reference is on the page, but only inside the closed "Show identity" control
    hidden = re.search(r"<details><summary>Show identity.*?</details>", page.text, re.S)
    assert hidden
    assert sample in hidden.group(0)
    assert page.text.count(sample) == 1
    assert "opening one records nothing more" in page.text
    assert page.text.count("<summary>Show identity") == 3
    assert "No image is shown" in page.text
    assert "no image is held for synthetic templates" in page.text
    assert page.text.count('aria-label="Probe and candidate') == 3
    assert "enrolled " in page.text
    rich.app.state.review_identity = "shown"
    try:
        shown = http.get(searched)
        assert "Show identity" not in shown.text
        assert sample in shown.text
        rich.app.state.review_identity = "sometimes"
        before = _last(rich).seq
        wrong = http.get(searched)
        assert wrong.status_code == 400
        assert _last(rich).seq == before  # refused before anything was read
        assert "LEDS_REVIEW_IDENTITY" in wrong.text
        assert sample not in wrong.text
    finally:
        rich.app.state.review_identity = None

    assert _decide(http, searched, 1).status_code == 303
    mine = http.get(searched)
    assert "Revise decision 1" in mine.text  # the first reviewer revises, never seconds
    same = _decide(http, searched, 1, second="on")
    assert same.status_code == 400
    assert "different person" in same.text

    operator_session(http, second_operator(rich))
    theirs = http.get(searched)
    assert "Second review of candidate 1" in theirs.text
    assert "Record second review 1" in theirs.text
    assert "Decision on candidate 2" in theirs.text  # undecided ranks: a first decision
    done = _decide(http, searched, 1, second="on")
    assert done.status_code == 303, done.text
    entry = _last(rich)
    assert entry.operation == "biometric_decide"
    assert entry.actor_id == "fso2"
    assert entry.outcome["reviewer_role"] == "second"
    after = http.get(searched)
    assert "second review by</span> fso2" in after.text
    assert "Revise second review 1" in after.text


def test_decision_record_from_the_page_and_the_api(
    rich: Any, http: TestClient, searched: str
) -> None:
    search_id = searched.rsplit("/", 1)[1]
    for rank in (1, 2, 3):
        assert _decide(http, searched, rank).status_code == 303
    page = http.get(searched)
    assert f'href="{searched}/record?format=json"' in page.text
    assert f'href="{searched}/record?format=csv"' in page.text

    got = http.get(f"{searched}/record", params={"format": "csv"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    seq = int(got.headers["x-leds-audit-seq"])
    assert f"record-{seq}.csv" in got.headers["content-disposition"]
    entry = _last(rich)
    assert (entry.seq, entry.kind, entry.operation) == (seq, "disclosure", "biometric_record")
    assert entry.outcome["sha256"] == hashlib.sha256(got.content).hexdigest()
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["first_decision"] for r in rows] == ["not-a-match"] * 3
    assert {r["first_reviewer"] for r in rows} == {"fso1"}
    as_json = http.get(f"{searched}/record")
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["search_id"] == int(search_id)
    assert _last(rich).outcome["sha256"] == hashlib.sha256(as_json.content).hexdigest()

    from kit import ADMIN

    def bearer(user_id: str, who: str) -> dict[str, str]:
        user = rich.service.login(user_id, PASSWORD)
        token = rich.service.create_token(user, ADMIN, "record tests").value
        return {"Authorization": f"Bearer {token}", **HEADERS[who]}

    api = f"/api/v1/biometrics/searches/{search_id}/record"
    with TestClient(rich.app) as anonymous:
        assert anonymous.get(api).status_code == 401
    operator = bearer("fso1", "operator")
    envelope = http.get(api, headers=operator)
    assert envelope.status_code == 200, envelope.text
    body = envelope.json()
    assert set(body) == {"data", "audit_seq"}
    entry = _last(rich)
    assert body["audit_seq"] == entry.seq == int(envelope.headers["x-leds-audit-seq"])
    assert entry.kind == "disclosure"
    data = body["data"]
    assert data["sha256"] == entry.outcome["sha256"]
    assert data["probe"]["sha256"] == hashlib.sha256(PHOTO.read_bytes()).hexdigest()
    assert [c["first"]["reviewer_id"] for c in data["candidates"]] == ["fso1"] * 3
    assert set(data["threshold"]) == {"version", "value"}
    as_csv = http.get(api, params={"format": "csv"}, headers=operator)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.startswith("search_id,modality,status")
    refused = http.get(api, headers=bearer("pc123", "constable"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "access_denied"
    assert _last(rich).decision.startswith("deny:")
    missing = http.get("/api/v1/biometrics/searches/999999/record", headers=operator)
    assert missing.status_code == 404
    bad = http.get(api, params={"format": "xml"}, headers=operator)
    assert bad.status_code == 422
