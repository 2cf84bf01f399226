"""The results screen (UI.md screen 3) over HTTP: per-source status, facets as filters (applied,
shown, removed), sort, paging, the too-many and nothing-found states, and the audited CSV
export (a disclosure in the audit log; refused, and the refusal recorded, for a constable),
with the JSON twin carrying the same (sort, filters, sources, export link)."""

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
from test_pages import csrf_in, recorded_seq

ANALYST_PURPOSE = ("crime-support", "mapping a burglary series", "WY-2026-0042")
CONSTABLE_PURPOSE = ("crime", "suspect named by a witness", "WY-2026-0042")


def sign_in_as(client: TestClient, who: str, purpose: tuple[str, str, str]) -> None:
    client.cookies.clear()
    form = client.get("/login")
    done = client.post(
        "/login",
        data={"user_id": USERS[who][0], "password": PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303, done.text
    page = client.get("/purpose")
    code, why, case = purpose
    set_ = client.post(
        "/purpose",
        data={
            "purpose": code,
            "justification": why,
            "case_ref": case,
            "csrf_token": csrf_in(page.text),
        },
    )
    assert set_.status_code == 303, set_.text


@pytest.fixture
def rich_client(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def _broad(rich: Any) -> str:
    return rich.surname[0] + "*"


def _links(page: str, pattern: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(pattern, page)]


def _total(page: str) -> int:
    found = re.search(r"· (\d+) found", page)
    assert found, "no count on the page"
    return int(found.group(1))


def test_facets_filter_and_the_filter_is_shown_and_removable(
    rich: Any, rich_client: TestClient
) -> None:
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get("/search", params={"tab": "person", "surname": _broad(rich)})
    assert page.status_code == 200, page.text
    assert "Narrow by" in page.text
    # per-source status: a constable's searches answer on PNC, PND, DVLA; IABS is not permitted
    assert re.search(r"PNC: answered, \d+ hits?", page.text)
    assert "IABS: not permitted" in page.text
    everyone = _total(page.text)
    sex_links = _links(page.text, r'<a href="([^"]*filter_sex=[^"]*)"')
    assert sex_links, "no sex facet link"
    narrowed = rich_client.get(sex_links[0])
    assert narrowed.status_code == 200
    assert "Filtered by:" in narrowed.text
    assert 'aria-label="Remove filter Sex:' in narrowed.text
    assert _total(narrowed.text) <= everyone
    assert recorded_seq(narrowed.text) > recorded_seq(page.text)  # a new, recorded search
    # the JSON twin carries the filter
    twin = re.search(r'href="(/api/v1/search/persons\?[^"]+)" class="twin"', narrowed.text)
    assert twin
    assert "filter_sex=" in html.unescape(twin.group(1))
    remove = _links(narrowed.text, r'<a class="badge filter" href="([^"]+)"')
    assert len(remove) == 1
    assert "filter_sex" not in remove[0]
    back = rich_client.get(remove[0])
    assert _total(back.text) == everyone
    assert "Filtered by:" not in back.text


def test_sort_by_name_and_paging_keep_the_query(rich: Any, rich_client: TestClient) -> None:
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get(
        "/search", params={"tab": "person", "surname": _broad(rich), "sort": "name"}
    )
    assert page.status_code == 200
    assert '<strong aria-current="true" class="sort-current">Name</strong>' in page.text
    names = re.findall(r'<td><a href="/persons/[^"]+">([^<]+)</a></td>', page.text)
    surnames = [n.split()[-1] for n in names]
    assert surnames == sorted(surnames)
    nxt = re.search(r'<a href="([^"]+)" rel="next">', page.text)
    if nxt:  # more than one page: the next page keeps the sort
        assert "sort=name" in html.unescape(nxt.group(1))
    by_dob = rich_client.get(
        "/search", params={"tab": "person", "surname": _broad(rich), "sort": "dob"}
    )
    dobs = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", by_dob.text)
    assert dobs == sorted(dobs)


def test_nothing_found_with_a_filter_says_remove_it(rich: Any, rich_client: TestClient) -> None:
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get(
        "/search",
        params={"tab": "person", "surname": _broad(rich), "filter_nationality": "ATLANTIS"},
    )
    assert page.status_code == 200
    assert "Nothing found" in page.text
    assert "remove a filter above" in page.text
    assert "Nationality: ATLANTIS" in page.text


def test_too_many_results_suggests_narrowing(
    rich: Any, rich_client: TestClient, monkeypatch: Any
) -> None:
    import leds.web.pages_results as results

    monkeypatch.setattr(results, "TOO_MANY", 2)
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get("/search", params={"tab": "person", "surname": _broad(rich)})
    assert "Too many results" in page.text
    assert "Narrow the search" in page.text


def test_a_constable_may_not_export_and_the_refusal_is_recorded(
    rich: Any, rich_client: TestClient
) -> None:
    sign_in_as(rich_client, "constable", CONSTABLE_PURPOSE)
    page = rich_client.get("/search", params={"tab": "person", "surname": _broad(rich)})
    assert "Export: not permitted" in page.text
    assert "/search/export" not in page.text
    before = rich.service._store.audit_entries(limit=100_000)
    refused = rich_client.get("/search/export", params={"tab": "person", "surname": _broad(rich)})
    assert refused.status_code == 403
    after = rich.service._store.audit_entries(after=before[-1].seq, limit=100)
    assert any(e.operation == "export" and e.decision.startswith("deny") for e in after)


def test_an_analyst_exports_the_page_as_csv_recorded_as_a_disclosure(
    rich: Any, rich_client: TestClient
) -> None:
    sign_in_as(rich_client, "analyst", ANALYST_PURPOSE)
    page = rich_client.get(
        "/search", params={"tab": "person", "surname": _broad(rich), "sort": "name"}
    )
    assert page.status_code == 200, page.text
    link = re.search(r'<a href="(/search/export\?[^"]+)" download>', page.text)
    assert link, "no export link for an analyst"
    href = html.unescape(link.group(1))
    assert parse_qs(urlsplit(href).query)["sort"] == ["name"]
    got = rich_client.get(href)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    seq = int(got.headers["x-leds-audit-seq"])
    assert f"leds-persons-{seq}.csv" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0][:3] == ["rank", "person", "name"]
    shown = re.findall(r'<td><a href="/persons/([^"]+)">', page.text)
    assert [r[1] for r in rows[1:]] == shown  # exactly the page shown, in its order
    entry = rich.service._store.audit_entries(after=seq - 1, limit=1)[0]
    assert entry.seq == seq
    assert entry.kind == "disclosure"
    assert entry.operation == "export"
    assert entry.recipients
    assert "an1" in entry.recipients[0]
    assert entry.outcome["rows"] == len(rows) - 1
    assert entry.outcome["sha256"] == hashlib.sha256(got.content).hexdigest()
    # the analyst reaches PNC and PND only: no DVLA or IABS record in the file
    assert all("dvla" not in r[5] and "iabs" not in r[5] for r in rows[1:])


def test_the_api_twin_and_the_api_export(rich: Any) -> None:
    with TestClient(rich.app) as http:
        analyst = rich.service.login(USERS["analyst"][0], PASSWORD)
        token = rich.service.create_token(analyst, _admin(), "results test").value
        headers = {"Authorization": f"Bearer {token}", **HEADERS["analyst"]}
        params = {"surname": _broad(rich), "sort": "dob", "limit": 5}
        got = http.get("/api/v1/search/persons", params=params, headers=headers)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["sort"] == "dob"
        assert body["filters"] == {}
        assert body["sources"]["pnc"]["status"] == "answered"
        assert body["sources"]["dvla"]["status"] == "not permitted"
        assert body["export"].startswith("/api/v1/search/persons/export?")
        sex = next(iter(body["facets"]["sex"]))
        narrowed = http.get(
            "/api/v1/search/persons", params={**params, "filter_sex": sex}, headers=headers
        ).json()
        assert narrowed["filters"] == {"sex": sex}
        assert narrowed["total"] == body["facets"]["sex"][sex]
        if narrowed["next"]:
            assert "filter_sex=" in narrowed["next"]
            assert "sort=dob" in narrowed["next"]
        export = http.get(body["export"], headers=headers)
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(export.text)))
        assert [r[1] for r in rows[1:]] == [h["key"] for h in body["items"]]
        constable = {"Authorization": f"Bearer {_token(rich, 'constable')}", **HEADERS["constable"]}
        refused = http.get("/api/v1/search/persons/export", params=params, headers=constable)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_denied"
        plain = http.get("/api/v1/search/persons", params=params, headers=constable).json()
        assert plain["export"] is None


def _admin() -> Any:
    from kit import ADMIN

    return ADMIN


def _token(rich: Any, who: str) -> str:
    user = rich.service.login(USERS[who][0], PASSWORD)
    return str(rich.service.create_token(user, _admin(), f"results {who}").value)
