"""Screens 9 and 10 over HTTP (no browser): each page names its audit entry and links its JSON
twin; what a role may not do is not offered (the evaluation form, the rejected rows); a role
the policy does not allow gets the refused state; the evaluation form needs the CSRF token.
Over the richer world (a data directory, a face gallery) an evaluation run through the API is
shown with its figures and plots, each plot served through its recorded route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import ADMIN, HEADERS, PASSWORD, USERS, World
from test_pages import csrf_in, recorded_seq

PURPOSES = {
    "steward": ("admin-process", "checking the imports today", ""),
    "admin": ("admin-process", "checking the imports today", ""),
    "auditor": ("oversight", "reviewing the sources today", ""),
    "constable": ("crime", "suspect named by a witness", "WY-2026-0042"),
    "operator": ("crime", "image of an unknown suspect", "WY-2026-0042"),
}


def sign_in(client: TestClient, who: str) -> None:
    client.cookies.clear()
    form = client.get("/login")
    done = client.post(
        "/login",
        data={"user_id": USERS[who][0], "password": PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303, done.text
    code, why, case = PURPOSES[who]
    page = client.get("/purpose")
    set_ = client.post(
        "/purpose",
        data={"purpose": code, "justification": why, "case_ref": case,
              "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert set_.status_code == 303, set_.text


@pytest.fixture
def rich_client(rich: Any) -> Iterator[TestClient]:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def test_data_quality_page(client: TestClient, world: World) -> None:
    sign_in(client, "steward")
    got = client.get("/sources/quality")
    assert got.status_code == 200, got.text
    assert recorded_seq(got.text) > 0
    html = got.text
    assert 'href="/api/v1/sources/quality"' in html
    assert f'href="/imports/{world.import_id}/rejections"' in html  # stewards read the rows
    assert "invalid PNC ID &#39;…&#39;" in html
    assert "2008/0056560X" not in html
    assert "No retention rules are configured yet" in html
    assert "No linkage run yet" in html
    assert "never imported" in html  # PND, DVLA, IABS, generic

    sign_in(client, "admin")  # counts, but not the rejected rows themselves
    got = client.get("/sources/quality")
    assert got.status_code == 200, got.text
    assert f'href="/imports/{world.import_id}/rejections"' not in got.text
    assert "rejected rows themselves are for data stewards and auditors" in got.text

    sign_in(client, "constable")
    refused = client.get("/sources/quality")
    assert refused.status_code == 403
    assert "This refusal was recorded" in refused.text


def test_biometric_performance_page_empty_state_and_roles(client: TestClient, world: World) -> None:
    sign_in(client, "auditor")
    got = client.get("/biometrics/performance")
    assert got.status_code == 200, got.text
    assert recorded_seq(got.text) > 0
    assert 'href="/api/v1/biometrics/performance"' in got.text
    assert "No face evaluation recorded yet" in got.text
    assert "No fingerprint evaluation recorded yet" in got.text
    assert 'action="/biometrics/performance/evaluations"' in got.text  # auditors may run one
    forged = client.post(
        "/biometrics/performance/evaluations",
        data={"gallery_persons": "100", "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    assert "the form has expired" in forged.text

    sign_in(client, "operator")
    got = client.get("/biometrics/performance")
    assert got.status_code == 200, got.text
    assert 'action="/biometrics/performance/evaluations"' not in got.text
    assert 'id="evaluate-not-permitted"' in got.text

    sign_in(client, "constable")
    assert client.get("/biometrics/performance").status_code == 403


def test_an_evaluation_shows_its_figures_and_plots(rich: Any, rich_client: TestClient) -> None:
    steward = rich.service.login(USERS["steward"][0], PASSWORD)
    token = rich.service.create_token(steward, ADMIN, "performance test").value
    api = {"Authorization": f"Bearer {token}", **HEADERS["steward"]}
    ran = rich_client.post(
        "/api/v1/biometrics/evaluations", json={"gallery_persons": 100}, headers=api
    )
    assert ran.status_code == 201, ran.text
    sha = ran.json()["data"]["report_sha256"]
    twin = rich_client.get("/api/v1/biometrics/performance", headers=api).json()["data"]
    face = twin["modalities"][0]
    evaluation = face["evaluation"]
    assert evaluation["report_sha256"] == sha
    assert evaluation["probes"]["mated"] == 50

    sign_in(rich_client, "operator")  # a biometric reviewer reads it
    page = rich_client.get("/biometrics/performance")
    assert page.status_code == 200, page.text
    assert f"Evaluation {evaluation['evaluation_id']}," in page.text
    assert "FNIR at FPIR = 0.003" in page.text
    assert "FNMR at FMR = 0.001" in page.text
    assert 'aria-label="Face figures by sex"' in page.text
    sources = re.findall(r'<img src="([^"]+)"', page.text)
    assert sources == [p["path"] for p in evaluation["plots"]]
    image = rich_client.get(sources[0])  # the session's purpose, as the page's own <img>
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert int(image.headers["x-leds-audit-seq"]) > recorded_seq(page.text)


def test_a_fingerprint_evaluation_through_the_api_is_shown(
    rich: Any, rich_client: TestClient
) -> None:
    steward = rich.service.login(USERS["steward"][0], PASSWORD)
    token = rich.service.create_token(steward, ADMIN, "fingerprint performance test").value
    api = {"Authorization": f"Bearer {token}", **HEADERS["steward"]}
    ran = rich_client.post(
        "/api/v1/biometrics/evaluations",
        json={"modality": "fingerprint", "gallery_persons": 100},
        headers=api,
    )
    assert ran.status_code == 201, ran.text
    data = ran.json()["data"]
    assert data["modality"] == "fingerprint"
    assert data["algorithm"].endswith("+mcc-lssr-1")  # the search's own name
    twin = rich_client.get("/api/v1/biometrics/performance", headers=api).json()["data"]
    fingerprint = twin["modalities"][1]
    evaluation = fingerprint["evaluation"]
    assert evaluation["report_sha256"] == data["report_sha256"]
    assert (evaluation["probes"]["mated"], evaluation["probes"]["nonmated"]) == (50, 100)

    sign_in(rich_client, "auditor")
    page = rich_client.get("/biometrics/performance")
    assert page.status_code == 200, page.text
    section = page.text.split('id="fingerprint"', 1)[1]
    assert "No fingerprint evaluation recorded yet" not in section
    assert f"Evaluation {evaluation['evaluation_id']}," in section
    assert "templates of 100 persons" in section
    assert "synthetic prints" in section
    assert 'aria-label="Fingerprint figures by sex"' in section
    assert "(in force)" in section  # the shipped 8.0 was evaluated
