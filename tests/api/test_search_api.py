"""The search and view endpoints: persons (a misspelt surname still finds the person), the
identifier look-up's "did you mean", the consolidated person, refusals, bad queries, and
the audit entry each response names."""

from __future__ import annotations

from fastapi.testclient import TestClient
from kit import USERS, World
from test_contract import entry, error_of


def test_person_search_finds_a_misspelt_surname_and_names_its_audit_entry(
    client: TestClient, world: World
) -> None:
    got = client.get(
        "/api/v1/search/persons", params={"surname": "Smiht"}, headers=world.auth("constable")
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert {"items", "count", "audit_seq", "next", "total", "facets", "candidates"} <= set(body)
    names = [h["best_name"] for h in body["items"]]
    assert names == ["ANNA MARIA SMITH"]
    hit = body["items"][0]
    assert hit["matched"]["surname"] in ("phonetic", "fuzzy", "variant")
    assert hit["sources"] == {"pnc": 1}
    assert hit["records"][0]["person"]["pnc_id"] == "2001/0171310W"
    assert body["facets"]["sex"] == {"F": 1}
    logged = entry(client, world, body["audit_seq"])
    assert (logged["operation"], logged["actor_id"]) == ("search_person", USERS["constable"][0])
    assert logged["query"]["surname"] == "Smiht"
    assert f"record/{hit['matched_record_id']}" in logged["subjects"]


def test_person_search_pages(client: TestClient, world: World) -> None:
    got = client.get(
        "/api/v1/search/persons",
        params={"surname": "S*", "mode": "exact", "limit": 1},
        headers=world.auth("constable"),
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["count"] == 1
    if body["total"] > 1:
        assert body["next"].startswith("/api/v1/search/persons?")
        assert "offset=1" in body["next"]


def test_a_search_needs_a_criterion_and_says_so(client: TestClient, world: World) -> None:
    got = client.get("/api/v1/search/persons", headers=world.auth("constable"))
    error = error_of(got, 400, "bad_query")
    assert "surname" in error["message"]


def test_identifier_lookup_suggests_the_right_check_character(
    client: TestClient, world: World
) -> None:
    wrong = client.get(
        "/api/v1/search/identifiers",
        params={"value": "2001/0171310X"},
        headers=world.auth("constable"),
    )
    error = error_of(wrong, 422, "invalid_identifier")
    assert error["hint"] == "did you mean 2001/0171310W?"
    right = client.get(
        "/api/v1/search/identifiers",
        params={"value": "2001/0171310W"},
        headers=world.auth("constable"),
    )
    assert right.status_code == 200, right.text
    body = right.json()
    assert body["kinds"] == [{"kind": "pnc_id", "value": "2001/0171310W"}]
    assert [i["record"]["person"]["surname"] for i in body["items"]] == ["SMITH"]
    assert entry(client, world, body["audit_seq"])["query"]["identifier"] == "2001/0171310W"


def test_consolidated_person_and_missing_vehicle(client: TestClient, world: World) -> None:
    found = client.get(
        "/api/v1/search/persons", params={"surname": "KHAN"}, headers=world.auth("constable")
    ).json()
    key = found["items"][0]["key"]
    got = client.get(f"/api/v1/persons/{key}", headers=world.auth("constable"))
    assert got.status_code == 200, got.text
    data = got.json()["data"]
    assert data["best_name"] == "MOHAMMED KHAN"
    assert data["identifiers"]["pnc_id"] == ["2011/0275516Q"]
    assert {r["source"] for r in data["records"]} == {"pnc"}
    assert entry(client, world, got.json()["audit_seq"])["operation"] == "view_record"
    missing = client.get("/api/v1/vehicles/ZZ99ZZZ", headers=world.auth("constable"))
    error_of(missing, 404, "not_found")


def test_a_role_without_search_rights_is_refused_and_the_refusal_recorded(
    client: TestClient, world: World
) -> None:
    got = client.get(
        "/api/v1/search/persons", params={"surname": "SMITH"}, headers=world.auth("auditor")
    )
    error = error_of(got, 403, "access_denied")
    assert "no policy permits it" in error["message"]
    text = client.get("/api/v1/search/text", params={"q": "drugs"}, headers=world.auth("constable"))
    error_of(text, 403, "access_denied")


def test_vehicle_and_property_searches_answer_empty(client: TestClient, world: World) -> None:
    for path, params in (
        ("/api/v1/search/vehicles", {"vrm": "AB1*"}),
        ("/api/v1/search/property", {"serial": "SN123"}),
    ):
        got = client.get(path, params=params, headers=world.auth("constable"))
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["items"], body["total"], body["next"]) == ([], 0, None)
        assert entry(client, world, body["audit_seq"])["decision"].startswith("allow")
