"""The API contract, pinned in one place: the list, item and error envelopes, the status of
each error class, credentials before anything else (always 401), purpose refusals, and the
audit sequence number of every data response matching its committed audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import HEADERS, PASSWORD, USERS, World

from leds.api.errors import STATUS_BY_CLASS, code_of, status_of
from leds.errors import AccessDenied, LedsError, NotFound, PurposeRequired
from leds.governance.authn import AuthenticationFailed

ERROR_KEYS = {"status", "code", "message", "hint"}
PROBE_PATHS = {
    "import_id": "1",
    "source": "pnc",
    "kind": "person",
    "record_id": "2001/0171310W",
    "seq": "1",
}


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the error envelope exactly, and return its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["error"]["code"] == code
    return dict(body["error"])


def api_routes(world: World) -> list[tuple[str, str]]:
    routes = []
    for template, ops in world.app.openapi()["paths"].items():
        path = template
        for name, value in PROBE_PATHS.items():
            path = path.replace("{" + name + "}", value.replace("/", "%2F"))
        routes.extend((method.upper(), path) for method in sorted(ops))
    assert len(routes) >= 9
    return routes


def entry(client: TestClient, world: World, seq: int) -> dict[str, Any]:
    """The committed audit entry ``seq``, read as the auditor."""
    got = client.get(
        "/api/v1/audit/entries",
        params={"after": seq - 1, "limit": 1},
        headers=world.auth("auditor"),
    )
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    assert items
    assert items[0]["seq"] == seq
    return dict(items[0])


# ---- credentials first -------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer a.b.c"},
    ],
    ids=["none", "unknown-token", "basic", "empty", "jwt-shaped-without-oidc"],
)
def test_missing_or_invalid_credentials_are_401_on_every_route(
    client: TestClient, world: World, headers: dict[str, str]
) -> None:
    for method, path in api_routes(world):
        # A body that would be invalid (422) and no purpose (400): credentials come first.
        sent = {**headers, **HEADERS["steward"]}
        response = client.request(method, path, headers=sent, content=b"{not json")
        err = error_of(response, 401, "authentication_failed")
        assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
        assert "not-a-token" not in err["message"]
        # Schema-invalid query and path values: still 401, never 422.
        response = client.request(method, path + "?limit=0&after=-1", headers=sent)
        error_of(response, 401)


def test_a_session_cookie_does_not_authorise_state_changes(client: TestClient) -> None:
    client.cookies.set("leds_session", "forged")
    try:
        response = client.post("/api/v1/tokens", json={"label": "x"}, headers=HEADERS["steward"])
        error_of(response, 401)
    finally:
        client.cookies.clear()


# ---- purpose -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        ({}, "a purpose code is required"),
        ({"X-Leds-Purpose": "admin-process"}, "a justification is required"),
        (
            {"X-Leds-Purpose": "admin-process", "X-Leds-Justification": "two words"},
            "a justification is required",
        ),
        (
            {"X-Leds-Purpose": "crime", "X-Leds-Justification": "a named suspect here"},
            "needs a case or incident reference",
        ),
    ],
    ids=["no-purpose", "no-justification", "short-justification", "crime-without-case"],
)
def test_purpose_missing_or_unfit_is_refused_400(
    client: TestClient, world: World, purpose: dict[str, str], expected: str
) -> None:
    headers = {**world.auth("steward", purpose=False), **purpose}
    err = error_of(client.get("/api/v1/imports", headers=headers), 400, "purpose_required")
    assert expected in err["message"]
    assert err["hint"]


def test_unknown_purpose_code_is_a_schema_error_422(client: TestClient, world: World) -> None:
    headers = {**world.auth("steward"), "X-Leds-Purpose": "personal"}
    err = error_of(client.get("/api/v1/imports", headers=headers), 422, "invalid_request")
    assert "X-Leds-Purpose" in err["message"]


def test_a_repeated_query_parameter_is_refused_400(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/imports?limit=5&limit=6", headers=world.auth("steward"))
    err = error_of(response, 400)
    assert "limit" in err["message"]
    anonymous = client.get("/api/v1/imports?limit=5&limit=6")
    assert anonymous.status_code == 401  # credentials are checked first


def test_purpose_fields_in_a_body_are_used_and_recorded(client: TestClient, world: World) -> None:
    body = {
        "label": "body purpose",
        "purpose": "oversight",
        "justification": "token for the nightly checks",
    }
    got = client.post("/api/v1/tokens", json=body, headers=world.auth("auditor", purpose=False))
    assert got.status_code == 201, got.text
    logged = entry(client, world, got.json()["audit_seq"])
    assert (logged["operation"], logged["purpose"]) == ("create_token", "oversight")
    assert logged["justification"] == "token for the nightly checks"


# ---- envelopes and audit sequence numbers ------------------------------------------------
def test_list_envelope_for_imports(client: TestClient, world: World) -> None:
    got = client.get("/api/v1/imports", headers=world.auth("constable"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"items", "count", "audit_seq", "next", "counts"}
    assert body["count"] == len(body["items"]) >= 1
    assert {"source": "pnc", "kind": "person", "records": 2} in body["counts"]
    logged = entry(client, world, body["audit_seq"])
    assert (logged["operation"], logged["actor_id"]) == ("list_imports", USERS["constable"][0])
    assert logged["case_ref"] == "WY-2026-0042"


def test_rejections_page_and_next_link(client: TestClient, world: World) -> None:
    url = f"/api/v1/imports/{world.import_id}/rejections"
    got = client.get(url, params={"limit": 1}, headers=world.auth("steward"))
    body = got.json()
    assert got.status_code == 200, got.text
    assert set(body) == {"items", "count", "audit_seq", "next"}
    assert body["items"][0]["field"] == "pnc_id"
    assert body["items"][0]["line"] == 4
    assert body["next"] == f"{url}?limit=1&offset=1"
    after = client.get(body["next"], headers=world.auth("steward")).json()
    assert after["items"] == []
    assert after["next"] is None
    assert after["audit_seq"] > body["audit_seq"]


def test_record_item_envelope_minimised_and_recorded(client: TestClient, world: World) -> None:
    url = "/api/v1/records/pnc/person/2001%2F0171310W"
    got = client.get(url, headers=world.auth("constable"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"data", "audit_seq"}
    data = body["data"]
    assert data["source_record_id"] == "2001/0171310W"
    assert data["person"]["surname"] == "SMITH"
    assert data["provenance"]["line"] == 2
    assert all(set(w) == {"field", "field_class", "reason"} for w in data["withheld"])
    logged = entry(client, world, body["audit_seq"])
    assert logged["operation"] == "view_record"
    assert logged["subjects"] == [f"record/{data['record_id']}"]
    assert logged["outcome"]["withheld"] == [w["field"] for w in data["withheld"]]


def test_sensitive_step_needs_its_own_justification(client: TestClient, world: World) -> None:
    url = "/api/v1/records/pnc/person/2001%2F0171310W"
    short = client.get(url, params={"sensitive": "because"}, headers=world.auth("constable"))
    error_of(short, 422, "invalid_request")
    ok = client.get(
        url, params={"sensitive": "officer safety warning check"}, headers=world.auth("constable")
    )
    assert ok.status_code == 200
    assert ok.json()["data"]["sensitive_step"] is True


# ---- the status of each error class ------------------------------------------------------
def test_policy_refusal_is_403_with_the_policy_reason_and_recorded(
    client: TestClient, world: World
) -> None:
    err = error_of(
        client.get("/api/v1/audit/entries", headers=world.auth("constable")), 403, "access_denied"
    )
    entries = client.get(
        "/api/v1/audit/entries", params={"limit": 1000}, headers=world.auth("auditor")
    ).json()["items"]
    refused = [e for e in entries if e["operation"] == "read_audit" and e["actor_id"] == "pc123"]
    assert refused
    assert refused[-1]["decision"].startswith("deny:")
    assert refused[-1]["outcome"]["refused"] == err["message"]


def test_not_found_is_404(client: TestClient, world: World) -> None:
    error_of(
        client.get("/api/v1/records/pnc/person/2099%2F0000001A", headers=world.auth("constable")),
        404,
        "not_found",
    )
    error_of(client.get("/api/v1/audit/proofs/999999", headers=world.auth("auditor")), 404)
    response = client.post(
        "/api/v1/imports",
        json={"source": "pnc", "path": "../../etc"},
        headers=world.auth("steward"),
    )
    error_of(response, 404, "not_found")


def test_existing_account_is_409(client: TestClient, world: World) -> None:
    body = {
        "user_id": USERS["constable"][0],
        "display_name": "Again",
        "role": "constable",
        "organisation": "WYP",
        "password": PASSWORD,
        "vetting_expires": "2030-01-01",
        "training_expires": "2030-01-01",
    }
    error_of(client.post("/api/v1/accounts", json=body, headers=world.auth("admin")), 409)
    # Not an administrator: refused before anything is looked up.
    error_of(client.post("/api/v1/accounts", json=body, headers=world.auth("steward")), 403)


def test_schema_errors_are_422_in_the_envelope(client: TestClient, world: World) -> None:
    err = error_of(
        client.get("/api/v1/imports", params={"limit": 0}, headers=world.auth("steward")), 422
    )
    assert "limit" in err["message"]
    error_of(client.post("/api/v1/tokens", content=b"{", headers=world.auth("steward")), 422)


def test_status_by_class_table() -> None:
    assert status_of(AuthenticationFailed("x")) == 401
    assert status_of(AccessDenied("x")) == 403
    assert status_of(NotFound("x")) == 404
    assert status_of(PurposeRequired("x")) == 400
    assert status_of(LedsError("x")) == 400
    assert code_of(PurposeRequired("x")) == "purpose_required"
    assert all(400 <= status < 600 for _, status in STATUS_BY_CLASS)


def test_unknown_api_path_is_404_in_the_envelope(client: TestClient, world: World) -> None:
    error_of(client.get("/api/v1/nothing-here", headers=world.auth("steward")), 404, "http_error")


# ---- operations end to end ---------------------------------------------------------------
def test_import_read_erase_round_trip(client: TestClient, world: World) -> None:
    extract = world.import_root / "more" / "pnc-00002.txt"
    extract.parent.mkdir(exist_ok=True)
    extract.write_text(
        "H|PNC|1|2026-11-26T12:00:00Z|1\n"
        "NOM|2015/0000007K||BROWN|LISA|F|02021992|HULL||160|||GBR|\nT|1\n",
        encoding="utf-8",
    )
    got = client.post(
        "/api/v1/imports", json={"source": "pnc", "path": "more"}, headers=world.auth("steward")
    )
    assert got.status_code == 201, got.text
    summary = got.json()["data"]
    assert (summary["status"], summary["inserted"]) == ("complete", 1)
    assert entry(client, world, got.json()["audit_seq"])["operation"] == "import_source"
    record_id = next(
        r["record_id"]
        for r in [
            client.get(
                "/api/v1/records/pnc/person/2015%2F0000007K", headers=world.auth("steward")
            ).json()["data"]
        ]
    )
    erased = client.post(
        "/api/v1/erasures",
        json={
            "source": "pnc",
            "kind": "person",
            "record_id": "2015/0000007K",
            "reason": "rectification of a duplicate entry",
        },
        headers=world.auth("steward"),
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["data"] == {"record_id": record_id}
    logged = entry(client, world, erased.json()["audit_seq"])
    assert (logged["kind"], logged["operation"]) == ("erasure", "erase_record")
    assert "2015/0000007K" not in str(logged)
    error_of(
        client.get("/api/v1/records/pnc/person/2015%2F0000007K", headers=world.auth("steward")),
        404,
    )


def test_token_created_over_the_api_signs_in(client: TestClient, world: World) -> None:
    got = client.post(
        "/api/v1/tokens", json={"label": "ci", "days": 2}, headers=world.auth("steward")
    )
    assert got.status_code == 201, got.text
    token = got.json()["data"]["token"]
    again = client.get(
        "/api/v1/imports", headers={"Authorization": f"Bearer {token}", **HEADERS["steward"]}
    )
    assert again.status_code == 200
    assert entry(client, world, again.json()["audit_seq"])["actor_id"] == "steward1"


def test_verify_and_prove(client: TestClient, world: World) -> None:
    verified = client.post("/api/v1/audit/verify", headers=world.auth("auditor"))
    assert verified.status_code == 200, verified.text
    report = verified.json()["data"]
    assert report["entries"] >= 10
    assert len(report["root"]) == 64
    proof = client.get("/api/v1/audit/proofs/3", headers=world.auth("auditor"))
    assert proof.status_code == 200, proof.text
    assert proof.json()["data"]["leaf_index"] == 2
    tampered = client.post(
        "/api/v1/audit/verify", json={"trusted": "not a note"}, headers=world.auth("auditor")
    )
    assert tampered.status_code in (400, 409)
    error_of(tampered, tampered.status_code)


def test_every_data_response_has_a_committed_audit_entry(client: TestClient, world: World) -> None:
    """Walk every GET route as its rightful user: each 200 names a new, committed entry."""
    calls = [
        ("steward", "/api/v1/imports"),
        ("steward", f"/api/v1/imports/{world.import_id}/rejections"),
        ("constable", "/api/v1/records/pnc/person/2011%2F0275516Q"),
        ("auditor", "/api/v1/audit/entries?limit=2"),
        ("auditor", "/api/v1/audit/proofs/1"),
    ]
    seen: set[int] = set()
    for who, url in calls:
        got = client.get(url, headers=world.auth(who))
        assert got.status_code == 200, (url, got.text)
        seq = got.json()["audit_seq"]
        assert seq not in seen
        seen.add(seq)
        logged = entry(client, world, seq)
        assert logged["actor_id"] == USERS[who][0]
        assert logged["decision"].startswith("allow:")


def test_openapi_is_3_1_and_documents_the_envelopes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status in ("400", "401", "403", "404", "422"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (method, path, status)
            names = {p["name"] for p in op.get("parameters", [])}
            assert {"X-Leds-Purpose", "X-Leds-Justification", "X-Leds-Case"} <= names
