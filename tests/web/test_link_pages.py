"""The link review screens and their API twins over the rich world: the queue, the waterfall
of one pair, a decision applied and undone (CSRF-checked forms), and a refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import ADMIN, HEADERS, PASSWORD
from test_pages import csrf_in, recorded_seq, sign_in


@pytest.fixture
def http(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as client:
        yield client


def bearer(rich: Any, user_id: str, who: str) -> dict[str, str]:
    user = rich.service.login(user_id, PASSWORD)
    token = rich.service.create_token(user, ADMIN, "link tests").value
    return {"Authorization": f"Bearer {token}", **HEADERS[who]}


def test_queue_explain_decide_and_undo_api(rich: Any, http: TestClient) -> None:
    steward = bearer(rich, "steward1", "steward")
    queue = http.get("/api/v1/links/queue", params={"limit": 2}, headers=steward)
    assert queue.status_code == 200, queue.text
    items = queue.json()["items"]
    assert items
    assert items[0]["uncertainty"] <= items[-1]["uncertainty"]
    a, b = items[0]["record_a"], items[0]["record_b"]
    explained = http.get("/api/v1/links/explain", params={"a": a, "b": b}, headers=steward)
    assert explained.status_code == 200, explained.text
    data = explained.json()["data"]
    steps = data["waterfall"]
    assert steps[0]["step"] == "prior"
    assert steps[-1]["total"] == pytest.approx(data["match_weight"])
    made = http.post(
        "/api/v1/links/decisions",
        json={
            "record_a": str(a),
            "record_b": str(b),
            "decision": "unsure",
            "reason": "needs a second look",
        },
        headers=steward,
    )
    assert made.status_code == 201, made.text
    decision = made.json()["data"]
    assert (decision["decision"], decision["undone_at"]) == ("unsure", None)
    undone = http.post(
        f"/api/v1/links/decisions/{decision['id']}/undo",
        json={"reason": "recorded by mistake"},
        headers=steward,
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["data"]["undone_at"] is not None
    refused = http.get("/api/v1/links/queue", headers=bearer(rich, "pc123", "constable"))
    assert refused.status_code == 403
    missing = http.get("/api/v1/links/explain", params={"a": "pnc:2099/1", "b": a}, headers=steward)
    assert missing.status_code == 404


def test_link_review_pages(rich: Any, http: TestClient) -> None:
    sign_in(http, "steward")
    queue = http.get("/links")
    assert queue.status_code == 200, queue.text
    assert recorded_seq(queue.text) > 0
    compare = re.search(r'href="(/links/explain\?a=\d+&amp;b=\d+)"', queue.text)
    assert compare
    page = http.get(compare.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    assert "Match weight waterfall" in page.text
    a = re.search(r'name="record_a" value="(\d+)"', page.text)
    b = re.search(r'name="record_b" value="(\d+)"', page.text)
    assert a
    assert b
    csrf = csrf_in(page.text)
    form = {"record_a": a.group(1), "record_b": b.group(1), "decision": "unsure"}
    no_reason = http.post("/links/decisions", data={**form, "csrf_token": csrf})
    assert no_reason.status_code == 400
    forged = http.post("/links/decisions", data={**form, "reason": "a b c"})
    assert forged.status_code == 400
    done = http.post(
        "/links/decisions", data={**form, "reason": "needs a second look", "csrf_token": csrf}
    )
    assert done.status_code == 303, done.text
    after = http.get(done.headers["location"])
    assert "recorded and applied" in after.text
    undo = re.search(r'action="(/links/decisions/\d+/undo)"', after.text)
    assert undo
    back = http.post(undo.group(1), data={"reason": "recorded by mistake", "csrf_token": csrf})
    assert back.status_code == 303
    assert "undone" in http.get(back.headers["location"]).text
