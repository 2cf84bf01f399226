"""The person search's source checkboxes (UI.md screen 2) over HTTP, on the rich world: only the
sources the user may search are offered, all ticked; an unticked one is left out and reported
"not asked" (page and JSON twin), the narrowing travels in the result's links; no source ticked
is refused with a message; the API's ``sources`` parameter does the same."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import ADMIN, HEADERS, PASSWORD
from test_results_pages import CONSTABLE_PURPOSE, sign_in_as


@pytest.fixture
def http(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as client:
        yield client


def _boxes(page: str) -> dict[str, bool]:
    found = re.findall(
        r'<input type="checkbox" id="source-(\w+)" name="source" [^>]*?(checked)?>', page
    )
    return {name: bool(checked) for name, checked in found}


def test_the_form_offers_only_the_sources_the_user_may_search(http: TestClient) -> None:
    sign_in_as(http, "constable", CONSTABLE_PURPOSE)
    form = http.get("/search", params={"tab": "person"})
    assert _boxes(form.text) == {"pnc": True, "pnd": True, "dvla": True}
    assert "IABS" not in form.text
    sign_in_as(http, "operator", ("crime", "image of an unknown suspect", "WY-2026-0042"))
    none = http.get("/search", params={"tab": "person"})
    assert _boxes(none.text) == {}
    assert "Your role may not search persons for this purpose" in none.text


def test_an_unticked_source_is_not_asked(rich: Any, http: TestClient) -> None:
    sign_in_as(http, "constable", CONSTABLE_PURPOSE)
    surname = rich.surname[0] + "*"
    asked = [("tab", "person"), ("surname", surname), ("source", "")]
    got = http.get("/search", params=[*asked, ("source", "pnc"), ("source", "dvla")])
    assert got.status_code == 200, got.text
    assert "PND: not asked" in got.text
    assert "PNC: answered" in got.text
    assert "IABS: not permitted" in got.text
    assert _boxes(got.text) == {"pnc": True, "pnd": False, "dvla": True}
    twin = html.unescape(re.search(r'href="(/api/v1/search/persons\?[^"]+)"', got.text)[1])
    assert "sources=pnc%2Cdvla" in twin
    links = [html.unescape(h) for h in re.findall(r'href="(/search\?tab=person[^"]+)"', got.text)]
    assert links
    assert all("sources=pnc%2Cdvla" in h for h in links)  # facets, sort, paging keep it
    data = http.get(twin).json()
    assert data["sources"]["pnd"] == {"status": "not asked", "hits": None}
    assert data["sources"]["pnc"]["status"] == "answered"
    assert all(set(h["sources"]) <= {"pnc", "dvla"} for h in data["items"])
    entry = rich.service._store.audit_entries(after=data["audit_seq"] - 1, limit=1)[0]
    assert entry.query["sources"] == ["dvla", "pnc"]

    followed = http.get(links[0])
    assert _boxes(followed.text) == {"pnc": True, "pnd": False, "dvla": True}
    every = http.get("/search", params=[*asked, *(("source", s) for s in ("pnc", "pnd", "dvla"))])
    assert "PND: answered" in every.text
    assert "sources=" not in html.unescape(every.text)  # every box ticked: no narrowing

    nothing = http.get("/search", params=asked)
    assert nothing.status_code == 400
    assert "no source to search" in nothing.text
    assert "Nothing was searched" in nothing.text


def test_the_api_sources_parameter(rich: Any, http: TestClient) -> None:
    user = rich.service.login("pc123", PASSWORD)
    token = rich.service.create_token(user, ADMIN, "sources tests").value
    headers = {"Authorization": f"Bearer {token}", **HEADERS["constable"]}
    url = "/api/v1/search/persons"
    surname = rich.surname[0] + "*"
    got = http.get(url, params={"surname": surname, "sources": "pnc"}, headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["sources"]["pnc"]["status"] == "answered"
    assert body["sources"]["dvla"]["status"] == "not asked"
    assert body["sources"]["iabs"]["status"] == "not permitted"
    if body["next"]:
        assert "sources=pnc" in body["next"]
    refused = http.get(url, params={"surname": surname, "sources": "iabs"}, headers=headers)
    assert refused.status_code == 403
    bad = http.get(url, params={"surname": surname, "sources": "pnc,mi5"}, headers=headers)
    assert bad.status_code == 422
    assert http.get(url, params={"surname": surname, "sources": "pnc"}).status_code == 401


def test_a_source_the_form_did_not_offer_is_refused_and_recorded(
    rich: Any, http: TestClient
) -> None:
    sign_in_as(http, "constable", CONSTABLE_PURPOSE)
    asked = [("tab", "person"), ("surname", rich.surname), ("source", "")]
    forged = http.get("/search", params=[*asked, ("source", "iabs")])
    assert forged.status_code == 403
    last = rich.service._store.audit_entries(after=0, limit=1_000_000)[-1]
    assert last.decision.startswith("deny:")
    assert last.query["sources"] == ["iabs"]
    unknown = http.get("/search", params=[*asked, ("source", "mi5")])
    assert unknown.status_code == 400
    assert "unknown source" in unknown.text
