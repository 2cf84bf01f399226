"""The person page's tabs (UI.md screen 4) over HTTP: link chart, timeline and map pages show
tables (they work without JavaScript), embed the data their scripts draw, are each recorded as
a view of the person; their JSON twins go through the service the same way; the map places
addresses approximately by postcode area and fetches no tiles unless a tile server is set."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import HEADERS, PASSWORD, USERS
from test_pages import recorded_seq, sign_in

from leds.model.geo import POSTCODE_AREAS, approximate_position, postcode_area


@pytest.fixture
def rich_client(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def _person_key(rich: Any, client: TestClient) -> str:
    found = client.get("/search", params={"tab": "person", "surname": rich.misspelt})
    key = re.search(r'href="/persons/([^"]+)"', found.text)
    assert key, found.text
    return key.group(1)


def _data_block(page: str, name: str) -> Any:
    block = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert block, f"no {name} block"
    return json.loads(block.group(1))


def test_person_page_has_the_tabs_and_related_people(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    page = rich_client.get(f"/persons/{key}")
    assert page.status_code == 200
    for suffix, label in (("/chart", "Link chart"), ("/timeline", "Timeline"), ("/map", "Map")):
        assert f'href="/persons/{key}{suffix}">{label}</a>' in page.text
    assert "Related people" in page.text


def test_link_chart_lists_links_and_embeds_the_graph(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    page = rich_client.get(f"/persons/{key}/chart")
    assert page.status_code == 200, page.text
    assert 'aria-current="page">Link chart</a>' in page.text
    assert '<table aria-labelledby="links-heading" id="links-table">' in page.text
    assert f'href="/vehicles/{rich.vrm}"' in page.text  # the vehicle node, as a link
    elements = _data_block(page.text, "chart-data")
    kinds = {n["data"]["kind"] for n in elements["nodes"]}
    assert {"person", "record", "vehicle"} <= kinds
    ids = {n["data"]["id"] for n in elements["nodes"]}
    assert all(e["data"]["source"] in ids for e in elements["edges"])
    assert recorded_seq(page.text) > 0
    assert f'href="/api/v1/persons/{key}/graph" class="twin"' in page.text


def test_timeline_lists_dated_items(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    page = rich_client.get(f"/persons/{key}/timeline")
    assert page.status_code == 200
    data = _data_block(page.text, "timeline-data")
    assert data["items"], "no dated items"
    starts = [it["start"] for it in data["items"]]
    assert starts == sorted(starts)
    groups = {it["group"] for it in data["items"]}
    assert "vehicles" in groups  # keeper periods
    assert {g["id"] for g in data["groups"]} == groups
    assert f"Keeper of {rich.vrm}" in page.text  # also in the table (no JavaScript needed)


def test_map_places_addresses_approximately_and_says_so(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    page = rich_client.get(f"/persons/{key}/map")
    assert page.status_code == 200
    assert "Approximate positions." in page.text
    assert "no map tiles are fetched" in page.text
    data = _data_block(page.text, "map-data")
    assert data["tiles"] is None
    assert data["outline"] == "/static/uk-outline.json"
    placed = [p for p in data["places"] if p["lat"] is not None]
    assert placed
    for p in placed:
        assert p["approximate"] is True
        assert (p["lat"], p["lon"]) == approximate_position(p["postcode"])
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    outline = rich_client.get("/static/uk-outline.json")
    assert outline.status_code == 200
    assert outline.json()["type"] == "FeatureCollection"


def test_a_configured_tile_server_is_used_and_allowed(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    rich.app.state.map_tiles = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    try:
        page = rich_client.get(f"/persons/{key}/map")
    finally:
        rich.app.state.map_tiles = None
    data = _data_block(page.text, "map-data")
    assert data["tiles"] == "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    assert (
        "img-src 'self' data: https://*.tiles.example.org;"
        in (page.headers["content-security-policy"])
    )


def test_tab_json_twins_go_through_the_service(rich: Any, rich_client: TestClient) -> None:
    sign_in(rich_client, "constable")
    key = _person_key(rich, rich_client)
    user = rich.service.login(USERS["constable"][0], PASSWORD)
    from kit import ADMIN

    token = rich.service.create_token(user, ADMIN, "tabs test").value
    headers = {"Authorization": f"Bearer {token}", **HEADERS["constable"]}
    with TestClient(rich.app) as http:
        seqs = []
        for tab in ("graph", "timeline", "places"):
            got = http.get(f"/api/v1/persons/{key}/{tab}", headers=headers)
            assert got.status_code == 200, got.text
            body = got.json()
            seqs.append(body["audit_seq"])
            entry = rich.service._store.audit_entries(after=body["audit_seq"] - 1, limit=1)[0]
            assert entry.operation == "view_record"
            assert any(s.startswith("person/") for s in entry.subjects)
        assert seqs == sorted(set(seqs))  # each its own entry
        graph = http.get(f"/api/v1/persons/{key}/graph", headers=headers).json()["data"]
        for node in graph["nodes"]:
            if node["kind"] == "associate":  # one hop further: the related person's graph
                assert node["expand"].startswith("/api/v1/persons/")
                again = http.get(node["expand"], headers=headers)
                assert again.status_code == 200
                break
        refused = http.get(
            f"/api/v1/persons/{key}/graph", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 400  # no purpose


def test_postcode_areas_are_placed_deterministically() -> None:
    assert postcode_area("LS2 6AB") == "LS"
    assert postcode_area("B1 1AA") == "B"
    assert postcode_area("ZZ9 9ZZ") is None
    assert approximate_position("not a postcode") is None
    lat, lon = approximate_position("LU3 6NX") or (0.0, 0.0)
    centre = POSTCODE_AREAS["LU"]
    assert abs(lat - centre[0]) <= 0.06
    assert abs(lon - centre[1]) <= 0.1
    assert approximate_position("LU3 6NX") == approximate_position("LU3 1AB")  # same district
    assert approximate_position("LU3 6NX") != approximate_position("LU4 4ZQ")
