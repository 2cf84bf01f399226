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
    assert paged["next"].startswith(f"{SEARCH}?order=oldest&after=")
    following = client.get(paged["next"], headers=world.auth("auditor")).json()
    assert following["items"][0]["seq"] > paged["items"][-1]["seq"]
    recorded = client.get(
        SEARCH, params={"action": "audit_search", "user": "aud1"}, headers=world.auth("auditor")
    ).json()
    assert body["audit_seq"] in [i["seq"] for i in recorded["items"]]


def test_newest_first_pages_on_by_before_and_records_the_order(
    client: TestClient, world: World
) -> None:
    auth = world.auth("auditor")
    params = {"user": "steward1", "order": "newest", "limit": 2}
    first = client.get(SEARCH, params=params, headers=auth).json()
    seqs = [i["seq"] for i in first["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert first["next"] == (f"{SEARCH}?user=steward1&order=newest&before={seqs[-1]}&limit=2")
    following = client.get(first["next"], headers=auth).json()
    assert following["items"][0]["seq"] < seqs[-1]
    assert {i["actor_id"] for i in following["items"]} == {"steward1"}
    mine = client.get(
        SEARCH,
        params={"action": "audit_search", "user": "aud1", "order": "newest", "limit": 1},
        headers=auth,
    ).json()
    recorded = mine["items"][0]  # the newest: the search just before this one
    assert recorded["seq"] == following["audit_seq"]
    assert recorded["query"]["order"] == "newest"
    assert recorded["query"]["before"] == seqs[-1]
    for bad in ({"order": "sideways"}, {"before": 0}, {"before": "x"}, {"after": -1}):
        refused = client.get(SEARCH, params=bad, headers=auth)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["message"]


def test_alert_thresholds_per_view(client: TestClient, world: World) -> None:
    auth = world.auth("auditor")
    today = date.today().isoformat()
    days = {"date_from": today, "date_to": today}
    plain = client.get("/api/v1/audit/alerts", params=days, headers=auth).json()
    assert plain["rules"]["factor"] == 3.0
    assert plain["rules"]["work_start"] == "07:00"
    changed = client.get(
        "/api/v1/audit/alerts",
        params={**days, "factor": 4.5, "refusals_min": 2, "work_start": "06:30"},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    rules = changed.json()["rules"]
    assert (rules["factor"], rules["refusals_min"], rules["work_start"]) == (4.5, 2, "06:30")
    entry = client.get(
        SEARCH,
        params={"action": "misuse_alerts", "order": "newest", "limit": 1},
        headers=auth,
    ).json()["items"][0]
    assert entry["seq"] == changed.json()["audit_seq"]
    assert entry["query"]["rules"]["factor"] == 4.5
    assert entry["query"]["overrides"] == ["factor", "refusals_min", "work_start"]
    for bad in ({"factor": 0}, {"floor": 0}, {"baseline_days": 91}, {"work_end": "7pm"}):
        refused = client.get("/api/v1/audit/alerts", params={**days, **bad}, headers=auth)
        assert refused.status_code == 422, bad
    backwards = client.get(
        "/api/v1/audit/alerts", params={**days, "work_start": "20:00"}, headers=auth
    )
    assert backwards.status_code == 400
    error = backwards.json()["error"]
    assert error["code"] == "misuse_rules_error"
    assert "work_start (20:00) must be before work_end (19:00)" in error["message"]


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
