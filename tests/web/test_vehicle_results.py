"""The vehicle results screen (UI.md screen 3) through the service, the API and the page:
facets as filters, sort, paging keeping both, per-source status, the nothing-found and
too-many states, and the audited CSV export (a disclosure with the SHA-256 of the bytes sent;
refused, and the refusal recorded, for a constable)."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from kit import HEADERS, PASSWORD, USERS
from test_results_pages import ANALYST_PURPOSE, CONSTABLE_PURPOSE, _token, sign_in_as

from leds.errors import AccessDenied
from leds.governance.identity import PurposeStatement
from leds.search.errors import BadQuery
from leds.search.vehicles import VehicleQuery

ANALYSIS = PurposeStatement.of(*ANALYST_PURPOSE)
CRIME = PurposeStatement.of(*CONSTABLE_PURPOSE)


@pytest.fixture
def rich_client(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def _user(rich: Any, who: str) -> Any:
    return rich.service.login(USERS[who][0], PASSWORD)


def _colour(rich: Any) -> str:
    """The commonest DVLA colour (a search finding many vehicles)."""
    from collections import Counter

    with rich.service._store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT json_extract(payload, '$.COLOUR') FROM records "
            "WHERE source='dvla' AND kind='vehicle'"
        ).all()
    return Counter(str(r[0]) for r in rows).most_common(1)[0][0]


def _marked_vrm(rich: Any) -> str:
    """A mark with a PNC vehicle-of-interest record (what an analyst may search)."""
    with rich.service._store.engine.connect() as conn:
        return str(
            conn.exec_driver_sql(
                "SELECT subject_id FROM records WHERE source='pnc' AND kind='vehicle' "
                "ORDER BY id LIMIT 1"
            ).scalar_one()
        )


def _entries_after(rich: Any, seq: int) -> list[Any]:
    return list(rich.service._store.audit_entries(after=seq, limit=1000))


def _last_seq(rich: Any) -> int:
    return int(rich.service._store.audit_entries(limit=1_000_000)[-1].seq)


# ---- service -----------------------------------------------------------------------------
def test_search_reports_each_source_and_the_export_permission(rich: Any) -> None:
    constable = _user(rich, "constable")
    found = rich.service.search_vehicle(constable, CRIME, VehicleQuery(colour=_colour(rich)))
    value = found.value
    assert value.searched == ["pnc", "dvla"]
    assert {"pnd", "iabs"} <= set(value.not_permitted)
    assert value.may_export is False
    assert value.facets["make"]
    assert value.facets["keeper_area"]
    assert found.audit_seq > 0


def test_an_analyst_export_is_a_disclosure_of_the_bytes_sent(rich: Any) -> None:
    analyst = _user(rich, "analyst")
    vrm = _marked_vrm(rich)
    before = _last_seq(rich)
    query = VehicleQuery(vrm=vrm[:4] + "*", sort="vrm")
    result = rich.service.export_vehicles(analyst, ANALYSIS, query)
    export = result.value
    rows = list(csv.reader(io.StringIO(export.csv)))
    assert rows[0] == list(export.columns)
    assert rows[0][:3] == ["rank", "vrm", "markers"]
    assert vrm in [r[1] for r in rows[1:]]
    assert export.sources == ["pnc"]  # the analyst searches and exports PNC only
    assert all(r[8].startswith("pnc=") for r in rows[1:])
    (entry,) = [e for e in _entries_after(rich, before) if e.seq == result.audit_seq]
    assert entry.kind == "disclosure"
    assert entry.operation == "export"
    assert entry.outcome["sha256"] == hashlib.sha256(export.csv.encode()).hexdigest()
    assert entry.outcome["rows"] == export.rows == len(rows) - 1
    assert "an1" in entry.recipients[0]
    assert any(s.startswith("record/") for s in entry.subjects)
    # the analyst may not see DVLA fields: filtering on make is refused before searching
    with pytest.raises(BadQuery, match="make"):
        rich.service.export_vehicles(analyst, ANALYSIS, VehicleQuery(vrm=vrm, filter_make="X"))


def test_a_constable_export_is_refused_and_recorded(rich: Any) -> None:
    constable = _user(rich, "constable")
    before = _last_seq(rich)
    with pytest.raises(AccessDenied):
        rich.service.export_vehicles(constable, CRIME, VehicleQuery(colour=_colour(rich)))
    after = _entries_after(rich, before)
    assert any(e.operation == "export" and e.decision.startswith("deny") for e in after)


# ---- API ---------------------------------------------------------------------------------
def test_the_api_envelope_next_and_export(rich: Any) -> None:
    with TestClient(rich.app) as http:
        constable = {"Authorization": f"Bearer {_token(rich, 'constable')}", **HEADERS["constable"]}
        params: dict[str, Any] = {"colour": _colour(rich), "sort": "make", "limit": 3}
        got = http.get("/api/v1/search/vehicles", params=params, headers=constable)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["audit_seq"] > 0
        assert body["count"] == len(body["items"]) <= 3
        assert body["sort"] == "make"
        assert body["sources"]["dvla"] == {"status": "answered", "hits": body["total"]}
        assert body["sources"]["iabs"]["status"] == "not permitted"
        assert body["export"] is None
        make = next(iter(body["facets"]["make"]))
        narrowed = http.get(
            "/api/v1/search/vehicles", params={**params, "filter_make": make}, headers=constable
        ).json()
        assert narrowed["filters"] == {"make": make}
        assert narrowed["total"] == body["facets"]["make"][make]
        assert all(i["make"] == make for i in narrowed["items"])
        if narrowed["next"]:
            nxt = parse_qs(urlsplit(narrowed["next"]).query)
            assert nxt["filter_make"] == [make]
            assert nxt["sort"] == ["make"]
            assert nxt["offset"] == ["3"]
        refused = http.get("/api/v1/search/vehicles/export", params=params, headers=constable)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_denied"
        anonymous = http.get("/api/v1/search/vehicles/export", params=params)
        assert anonymous.status_code == 401
        analyst = {"Authorization": f"Bearer {_token(rich, 'analyst')}", **HEADERS["analyst"]}
        vrm = _marked_vrm(rich)
        mine = http.get(
            "/api/v1/search/vehicles", params={"vrm": vrm[:4] + "*"}, headers=analyst
        ).json()
        assert mine["export"].startswith("/api/v1/search/vehicles/export?")
        assert mine["sources"]["dvla"]["status"] == "not permitted"
        export = http.get(mine["export"], headers=analyst)
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        seq = int(export.headers["x-leds-audit-seq"])
        assert f"leds-vehicles-{seq}.csv" in export.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(export.text)))
        assert [r[1] for r in rows[1:]] == [i["vrm"] for i in mine["items"]]
        bad = http.get(
            "/api/v1/search/vehicles", params={**params, "sort": "colour"}, headers=constable
        )
        assert bad.status_code == 422


# ---- the page ----------------------------------------------------------------------------
def _total(page: str) -> int:
    found = re.search(r"· (\d+) found", page)
    assert found, "no count on the page"
    return int(found.group(1))


def test_the_page_has_facets_sort_paging_and_no_export_for_a_constable(
    rich: Any, rich_client: TestClient
) -> None:
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get("/search", params={"tab": "vehicle", "colour": _colour(rich)})
    assert page.status_code == 200, page.text
    assert re.search(r"DVLA: answered, \d+ hits?", page.text)
    assert "IABS: not permitted" in page.text
    assert "Narrow by" in page.text
    assert "Keeper postcode area" in page.text
    assert "Export: not permitted" in page.text
    assert "/search/export" not in page.text
    everyone = _total(page.text)
    makes = [html.unescape(m) for m in re.findall(r'<a href="([^"]*filter_make=[^"]*)"', page.text)]
    assert makes
    narrowed = rich_client.get(makes[0])
    assert 'aria-label="Remove filter Make:' in narrowed.text
    assert _total(narrowed.text) <= everyone
    twin = re.search(r'href="(/api/v1/search/vehicles\?[^"]+)" class="twin"', narrowed.text)
    assert twin
    assert "filter_make=" in html.unescape(twin.group(1))
    by_mark = rich_client.get(
        "/search", params={"tab": "vehicle", "colour": _colour(rich), "sort": "vrm"}
    )
    assert '<strong aria-current="true" class="sort-current">Mark</strong>' in by_mark.text
    marks = re.findall(r'<a href="/vehicles/[^"]+" class="id">([^<]+)</a>', by_mark.text)
    assert marks == sorted(marks)
    nxt = re.search(r'<a href="([^"]+)" rel="next">', by_mark.text)
    if nxt:
        assert "sort=vrm" in html.unescape(nxt.group(1))
    none = rich_client.get(
        "/search",
        params={"tab": "vehicle", "colour": _colour(rich), "filter_make": "NO SUCH MAKE"},
    )
    assert "Nothing found" in none.text
    assert "remove a filter above" in none.text


def test_too_many_vehicles_suggests_narrowing(
    rich: Any, rich_client: TestClient, monkeypatch: Any
) -> None:
    import leds.web.pages_results as results

    monkeypatch.setattr(results, "TOO_MANY", 2)
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get("/search", params={"tab": "vehicle", "colour": _colour(rich)})
    assert "Too many results" in page.text
    assert "give more of the mark" in page.text


def test_an_analyst_downloads_the_page_shown(rich: Any, rich_client: TestClient) -> None:
    sign_in_as(rich_client, "analyst", ANALYST_PURPOSE)
    vrm = _marked_vrm(rich)
    page = rich_client.get("/search", params={"tab": "vehicle", "vrm": vrm[:4] + "*"})
    assert page.status_code == 200, page.text
    link = re.search(r'<a href="(/search/export\?[^"]+)" download>', page.text)
    assert link, "no export link for an analyst"
    href = html.unescape(link.group(1))
    assert parse_qs(urlsplit(href).query)["tab"] == ["vehicle"]
    got = rich_client.get(href)
    assert got.status_code == 200, got.text
    seq = int(got.headers["x-leds-audit-seq"])
    rows = list(csv.reader(io.StringIO(got.text)))
    shown = re.findall(r'<a href="/vehicles/[^"]+" class="id">([^<]+)</a>', page.text)
    assert [r[1] for r in rows[1:]] == shown
    entry = rich.service._store.audit_entries(after=seq - 1, limit=1)[0]
    assert (entry.kind, entry.operation) == ("disclosure", "export")
    assert entry.outcome["sha256"] == hashlib.sha256(got.content).hexdigest()


def test_a_hits_make_and_colour_follow_their_field_class(
    rich: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit's make, model, colour and VIN come from the DVLA record before it is minimised:
    where the user may not see that field's class (identity), they are left out too."""
    from leds.service.search import _Minimiser

    pc = _user(rich, "constable")
    query = VehicleQuery(colour=_colour(rich))
    shown = rich.service.search_vehicle(pc, CRIME, query).value.hits
    assert any(h.make for h in shown)
    allowed = _Minimiser._allowed

    def no_identity(self: Any, source: str) -> Any:
        classes, reasons = allowed(self, source)
        return classes - {"identity"}, reasons

    monkeypatch.setattr(_Minimiser, "_allowed", no_identity)
    hidden = rich.service.search_vehicle(pc, CRIME, query).value
    assert hidden.hits
    assert all(h.make is h.model is h.colour is h.vin is None for h in hidden.hits)
    assert "make" not in hidden.facets
