"""The audit oversight API (auditors): filtered entries, volumes, integrity status, streamed
exports that are themselves recorded, misuse alerts."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from fastapi.testclient import TestClient
from kit import World

SEARCH = "/api/v1/audit/search"


def test_filters_page_and_name_their_audit_entry(client: TestClient, world: World) -> None:
    got = client.get(SEARCH, params={"user": "steward1"}, headers=world.auth("auditor"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["items"]
    assert {i["actor_id"] for i in body["items"]} == {"steward1"}
    imported = client.get(
        SEARCH,
        params={"subject": f"import/{world.import_id}", "action": "import_source"},
        headers=world.auth("auditor"),
    ).json()
    assert imported["items"]
    assert {i["operation"] for i in imported["items"]} == {"import_source"}
    paged = client.get(SEARCH, params={"limit": 2}, headers=world.auth("auditor")).json()
    assert paged["count"] == 2
    assert paged["next"].startswith(f"{SEARCH}?after=")
    following = client.get(paged["next"], headers=world.auth("auditor")).json()
    assert following["items"][0]["seq"] > paged["items"][-1]["seq"]
    recorded = client.get(
        SEARCH, params={"action": "audit_search", "user": "aud1"}, headers=world.auth("auditor")
    ).json()
    assert body["audit_seq"] in [i["seq"] for i in recorded["items"]]


def test_bad_filters_are_the_services_errors(client: TestClient, world: World) -> None:
    backwards = client.get(
        SEARCH,
        params={"date_from": "2026-02-01", "date_to": "2026-01-01"},
        headers=world.auth("auditor"),
    )
    assert backwards.status_code == 400
    assert backwards.json()["error"]["code"] == "audit_query_error"
    unreadable = client.get(SEARCH, params={"subject": "x y"}, headers=world.auth("auditor"))
    assert unreadable.status_code == 422


def test_volumes_integrity_and_alerts(client: TestClient, world: World) -> None:
    today = date.today().isoformat()
    users = client.get(
        "/api/v1/audit/volumes",
        params={"date_from": today, "date_to": today},
        headers=world.auth("auditor"),
    ).json()
    rows = {r["key"]: r for r in users["items"]}
    assert rows["steward1"]["entries"] >= 1
    assert rows["steward1"]["role"] == "data-steward"
    units = client.get(
        "/api/v1/audit/volumes", params={"by": "unit"}, headers=world.auth("auditor")
    ).json()
    assert "Unit 1" in {r["key"] for r in units["items"]}
    verified = client.post("/api/v1/audit/verify", headers=world.auth("auditor")).json()
    status = client.get("/api/v1/audit/integrity", headers=world.auth("auditor")).json()
    assert status["data"]["last_verified"]["entries"] == verified["data"]["entries"]
    assert status["data"]["latest_checkpoint"]["note"]
    assert status["data"]["size"] >= verified["data"]["entries"]
    alerts = client.get(
        "/api/v1/audit/alerts",
        params={"date_from": today, "date_to": today},
        headers=world.auth("auditor"),
    )
    assert alerts.status_code == 200
    assert isinstance(alerts.json()["items"], list)


def test_exports_stream_and_are_recorded(client: TestClient, world: World) -> None:
    got = client.get(
        "/api/v1/audit/export",
        params={"format": "jsonl", "user": "steward1"},
        headers=world.auth("auditor"),
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/x-ndjson")
    seq = int(got.headers["x-leds-audit-seq"])
    lines = [json.loads(x) for x in got.text.splitlines()]
    assert len(lines) == int(got.headers["x-leds-entries"])
    assert {x["actor_id"] for x in lines} == {"steward1"}
    as_csv = client.get(
        "/api/v1/audit/export", params={"format": "csv"}, headers=world.auth("auditor")
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert "attachment" in as_csv.headers["content-disposition"]
    assert str(seq) in {r["seq"] for r in rows}  # the first export is in the second
    export = next(r for r in rows if r["seq"] == str(seq))
    assert export["operation"] == "audit_export"
    assert export["kind"] == "disclosure"
    assert json.loads(export["recipients"]) == ["aud1"]


def test_oversight_is_for_auditors_only(client: TestClient, world: World) -> None:
    for path, params in (
        (SEARCH, {}),
        ("/api/v1/audit/volumes", {}),
        ("/api/v1/audit/integrity", {}),
        ("/api/v1/audit/export", {}),
        ("/api/v1/audit/alerts", {"date_from": "2026-01-01", "date_to": "2026-01-02"}),
    ):
        refused = client.get(path, params=params, headers=world.auth("constable"))
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "access_denied"
        assert client.get(path, params=params).status_code == 401
