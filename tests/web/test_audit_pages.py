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
    newest = client.get("/audit", params={"limit": 2})  # newest first by default
    seqs = [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', newest.text)]
    assert len(seqs) == 2
    assert seqs[0] > seqs[1]
    assert 'aria-current="true" class="current">Newest first</a>' in newest.text
    older = re.search(r'href="(/audit\?order=newest&amp;limit=2&amp;before=\d+)"', newest.text)
    assert older
    page2 = client.get(older.group(1).replace("&amp;", "&"))
    seqs2 = [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', page2.text)]
    assert seqs2[0] < seqs[1]
    back = re.search(r'href="(/audit\?[^"]*after=\d+)" rel="prev">Newer entries', page2.text)
    assert back
    again = client.get(back.group(1).replace("&amp;", "&"))
    assert [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', again.text)] == seqs
    toggle = re.search(r'href="([^"]*order=oldest[^"]*)">Oldest first</a>', newest.text)
    assert toggle
    oldest = client.get(toggle.group(1).replace("&amp;", "&"))
    first_seqs = [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', oldest.text)]
    assert first_seqs == [1, 2]
    assert "Jump to the latest entries" in oldest.text
    assert "Later entries" in oldest.text
    filtered = client.get("/audit", params={"user": "steward1", "order": "oldest"})
    assert "matching entr" in filtered.text
    assert '<input type="hidden" name="order" value="oldest">' in filtered.text
    later = re.search(r'href="([^"]*)" rel="next">Later entries', filtered.text)
    assert later is None or "user=steward1" in later.group(1)
    assert "order=oldest" in re.findall(r'<a href="(/api/v1/audit/search[^"]*)"', filtered.text)[0]
    assert client.get("/audit", params={"order": "sideways"}).status_code == 400
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
    assert 'id="rules-table"' in alerts.text
    assert 'name="factor" type="number"' in alerts.text
    assert "changed from the deployment" not in alerts.text
    form = {"factor": "3.0", "floor": "20", "refusals_min": "2", "work_start": "06:00"}
    tuned = client.get("/audit/alerts", params=form)  # the form sends every threshold
    assert tuned.status_code == 200
    assert "2 changed from the deployment" in tuned.text
    assert "outside 06:00-19:00" in tuned.text
    assert "2 or more refused requests" in tuned.text
    assert "refusals_min=2" in tuned.text  # the JSON twin carries the overrides
    bad = client.get("/audit/alerts", params={"factor": "1000"})
    assert bad.status_code == 400
    assert "factor = &#39;1000&#39; is not allowed: give a number from 1 to 100" in bad.text


def test_oversight_pages_refuse_other_roles(client: TestClient, world: World) -> None:
    sign_in(client, "constable")
    for path in ("/audit", "/audit/volumes", "/audit/alerts", "/audit/export"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "no policy permits it" in refused.text
