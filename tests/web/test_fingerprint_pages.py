"""The fingerprint search page over HTTP (no browser), on the rich world with its IABS prints
enrolled: upload a synthetic print, review the candidates, decide each (CSRF-checked), close;
the API twin of the search; refusals for other roles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fingerprints_kit import enrol_prints, probe_png
from kit import PASSWORD
from test_pages import csrf_in, recorded_seq, sign_in

OPERATOR_PURPOSE = {
    "purpose": "crime",
    "justification": "print lifted at the scene",
    "case_ref": "WY-2026-0042",
}


@pytest.fixture(scope="module")
def prints(rich: Any) -> Any:
    assert enrol_prints(rich) > 0  # the gallery size, also when enrolled before
    return rich


@pytest.fixture
def operator(prints: Any) -> Any:
    with TestClient(prints.app, follow_redirects=False) as client:
        form = client.get("/login")
        client.post(
            "/login",
            data={"user_id": "fso1", "password": PASSWORD, "csrf_token": csrf_in(form.text)},
        )
        page = client.get("/purpose")
        client.post("/purpose", data={**OPERATOR_PURPOSE, "csrf_token": csrf_in(page.text)})
        yield client


def test_fingerprint_search_decide_every_candidate_and_close(prints: Any, operator: Any) -> None:
    form = operator.get("/fingerprints")
    assert form.status_code == 200
    assert "investigative lead only" in form.text
    assert "mcc-lssr" in form.text  # the search algorithm in force
    csrf = csrf_in(form.text)
    probe = probe_png(prints)
    sent = operator.post(
        "/fingerprints",
        data={"list_length": "3", "csrf_token": csrf},
        files={"image": ("print.png", probe, "image/png")},
    )
    assert sent.status_code == 303, sent.text
    where = sent.headers["location"]
    assert re.fullmatch(r"/fingerprints/\d+", where)
    review = operator.get(where)
    assert review.status_code == 200
    assert "Fingerprint search" in review.text
    assert "not an identification" in review.text
    assert "Probe and search parameters" in review.text
    assert "Gallery size" in review.text
    assert "Minutia count" in review.text
    ranks = [int(r) for r in re.findall(r'name="rank" value="(\d+)"', review.text)]
    assert ranks
    assert f'action="{where}/decisions"' in review.text
    early = operator.post(f"{where}/close", data={"csrf_token": csrf})
    assert early.status_code == 400
    for rank in ranks:
        done = operator.post(
            f"{where}/decisions",
            data={
                "rank": str(rank),
                "decision": "inconclusive" if rank == 1 else "not-a-match",
                "rationale": "ridge detail differs at the core and delta",
                "csrf_token": csrf,
            },
        )
        assert done.status_code == 303, done.text
    closed = operator.post(f"{where}/close", data={"csrf_token": csrf})
    assert closed.status_code == 303
    final = operator.get(where)
    assert "closed" in final.text
    assert recorded_seq(final.text) > recorded_seq(review.text)


def test_fingerprint_api_twin_and_refusals(prints: Any, operator: Any) -> None:
    probe = probe_png(prints)
    got = operator.post(
        "/api/v1/biometrics/fingerprint/searches",
        data={"list_length": "2"},
        files={"image": ("print.png", probe, "image/png")},
        headers={
            "X-Leds-Purpose": "crime",
            "X-Leds-Justification": "print lifted at the scene",
            "X-Leds-Case": "WY-2026-0042",
        },
    )
    # the API takes bearer tokens or a GET's session: a POST with the cookie alone is 401
    assert got.status_code == 401
    with TestClient(prints.app, follow_redirects=False) as constable:
        sign_in(constable, "constable")
        refused = constable.get("/fingerprints")
        assert refused.status_code == 200  # the form itself shows nothing
        sent = constable.post(
            "/fingerprints",
            data={"list_length": "2", "csrf_token": csrf_in(refused.text)},
            files={"image": ("print.png", probe, "image/png")},
        )
        assert sent.status_code == 403
        assert "no policy permits it" in sent.text or "may not" in sent.text
