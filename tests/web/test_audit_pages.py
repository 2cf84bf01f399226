"""Screen 8 over HTTP (no browser): the audit view filtered by subject and user (the one-click
views), the integrity status, exports (themselves recorded), volumes per user and unit and
misuse alerts; refused for other roles."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from fastapi.testclient import TestClient
from kit import World
from test_pages import recorded_seq, sign_in


def test_audit_view_filters_one_click_views_and_integrity(client: TestClient, world: World) -> None:
    sign_in(client, "steward")
    record = client.get("/records/pnc/person/2001%2F0171310W")
    assert record.status_code == 200
    sign_in(client, "auditor")
    page = client.get("/audit", params={"limit": 1000})
    assert page.status_code == 200
    assert "Log integrity" in page.text
    assert "none recorded yet" in page.text  # no whole-log verification yet
    assert "Latest signed checkpoint" in page.text
    assert 'href="/audit?user=steward1"' in page.text  # what did user Y do
    assert 'href="/audit?subject=record/1"' in page.text  # who viewed subject X
    who = client.get("/audit", params={"subject": "record/1"})
    assert who.status_code == 200
    assert "view_record" in who.text
    assert "subject: record/1" in who.text
    assert "/api/v1/audit/search?subject=record%2F1" in who.text
    by_pnc_id = client.get("/audit", params={"subject": "pnc:2001/0171310W"})
    assert "view_record" in by_pnc_id.text
    did = client.get("/audit", params={"user": "steward1", "action": "import_source"})
    assert "import_source" in did.text
    assert "view_record" not in did.text.split("Audit entries")[-1]
    first = client.get("/audit", params={"limit": 2})
    assert "Jump to the latest entries" in first.text
    latest = re.search(r'href="(/audit\?after=\d+&amp;limit=2)"', first.text)
    assert latest
    last = client.get(latest.group(1).replace("&amp;", "&"))
    assert "Earlier entries" in last.text
    none = client.get("/audit", params={"user": "nobody", "date_from": "", "source": ""})
    assert "No audit entries match these filters" in none.text
    bad = client.get("/audit", params={"date_from": "yesterday"})
    assert bad.status_code == 400
    assert "cannot read the date from" in bad.text


def test_audit_exports_are_recorded(client: TestClient, world: World) -> None:
    sign_in(client, "auditor")
    got = client.get("/audit/export", params={"format": "csv", "user": "steward1"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert rows
    assert {r["actor_id"] for r in rows} == {"steward1"}
    seq = got.headers["x-leds-audit-seq"]
    page = client.get("/audit", params={"action": "audit_export"})
    assert f">{seq}</td>" in page.text
    assert "disclosure" in page.text


def test_volumes_and_alerts_pages(client: TestClient, world: World) -> None:
    sign_in(client, "auditor")
    today = date.today().isoformat()
    users = client.get("/audit/volumes", params={"date_from": today, "date_to": today})
    assert users.status_code == 200
    assert "steward1" in users.text
    assert recorded_seq(users.text) > 0
    units = client.get("/audit/volumes", params={"by": "unit"})
    assert "Unit 1" in units.text
    alerts = client.get("/audit/alerts")
    assert alerts.status_code == 200
    assert "prompt to look" in alerts.text
    assert recorded_seq(alerts.text) > 0


def test_oversight_pages_refuse_other_roles(client: TestClient, world: World) -> None:
    sign_in(client, "constable")
    for path in ("/audit", "/audit/volumes", "/audit/alerts", "/audit/export"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "no policy permits it" in refused.text
