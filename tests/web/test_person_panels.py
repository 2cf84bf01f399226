"""The person page's panels (UI.md screen 4): the linkage panel (stored links with their
weights, the waterfall, steward decisions that come back to the person), "viewed by" for
auditors, the Intelligence tab (grading behind the sensitive-data step; convictions apart from
non-conviction information) and the Biometrics tab (templates, no images); their JSON twins,
each through the service and recorded; roles the policy does not allow are told so."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kit import ADMIN, HEADERS, PASSWORD, USERS
from test_pages import csrf_in, recorded_seq, sign_in

from leds.store.tables_link import person_records

ANALYST = ("intelligence", "linked series of burglaries", "WY-2026-0077")


@pytest.fixture
def rich_client(rich: Any) -> Any:
    with TestClient(rich.app, follow_redirects=False) as http:
        yield http


def _sign_in(client: TestClient, who: str) -> None:
    if who != "analyst":
        sign_in(client, who)
        return
    sign_in(client, who, purpose=False)
    page = client.get("/purpose")
    code, why, case = ANALYST
    done = client.post(
        "/purpose",
        data={"purpose": code, "justification": why, "case_ref": case,
              "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert done.status_code == 303, done.text


def _person_with(rich: Any, want: str) -> str:
    """A linked person with at least two records and ``want`` (intel, disposal, template)."""
    steward = rich.service.login(USERS["steward"][0], PASSWORD)
    with rich.service._store.engine.connect() as conn:
        rows = conn.execute(person_records.select()).all()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.person_id] = counts.get(r.person_id, 0) + 1
    for pid in sorted(counts, key=lambda p: (-counts[p], p)):
        if want == "links":
            return pid
        if want == "template":
            got = rich.service.person_biometrics(steward, ADMIN, pid).value
            if got.templates:
                return pid
            continue
        view = rich.service.show_person(steward, ADMIN, pid).value
        disposals = any(e.kind == "disposal" for e in view.events)
        if want == "intel" and view.intelligence and disposals:
            return pid
        if want == "disposal" and disposals:
            return pid
    raise AssertionError(f"no person with {want}")


def test_linkage_panel_for_a_steward_with_decision_forms(
    rich: Any, rich_client: TestClient
) -> None:
    pid = _person_with(rich, "links")
    _sign_in(rich_client, "steward")
    page = rich_client.get(f"/persons/{pid}")
    assert page.status_code == 200, page.text
    assert 'id="linkage-table"' in page.text
    waterfall = re.search(r'href="(/links/explain\?a=\d+&amp;b=\d+)"', page.text)
    assert waterfall
    panel_seq = int(re.search(r"panel is on record as audit entry <strong>(\d+)", page.text)[1])
    assert panel_seq != recorded_seq(page.text)  # its own entry
    entry = rich.service._store.audit_entries(after=panel_seq - 1, limit=1)[0]
    assert entry.operation == "person_links"
    assert f"person/{pid}" in entry.subjects
    for label in ("Confirm", "Not a match (split)", "Report wrong link"):
        assert label in page.text
    assert 'name="next" value="/persons/R' in page.text
    explained = rich_client.get(waterfall[1].replace("&amp;", "&"))
    assert explained.status_code == 200
    assert "Match weight waterfall" in explained.text
    # "Report wrong link" (unsure): recorded, changes nothing, comes back to the person
    a, b = re.search(r'name="record_a" value="(\d+)">\s*<input type="hidden" name="record_b" '
                     r'value="(\d+)">', page.text).groups()  # fmt: skip
    no_reason = rich_client.post(
        "/links/decisions",
        data={"record_a": a, "record_b": b, "decision": "unsure", "reason": "no",
              "next": f"/persons/R{a}", "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert no_reason.status_code == 400
    forged = rich_client.post(
        "/links/decisions",
        data={"record_a": a, "record_b": b, "decision": "unsure",
              "reason": "the addresses look wrong", "next": f"/persons/R{a}",
              "csrf_token": "forged"},
    )  # fmt: skip
    assert forged.status_code == 400
    done = rich_client.post(
        "/links/decisions",
        data={"record_a": a, "record_b": b, "decision": "unsure",
              "reason": "the addresses look wrong", "next": f"/persons/R{a}",
              "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/persons/R{a}?decided=")
    back = rich_client.get(done.headers["location"])
    assert "recorded. The person index has been updated" in back.text
    off_site = rich_client.post(
        "/links/decisions",
        data={"record_a": a, "record_b": b, "decision": "unsure",
              "reason": "still looks wrong to me", "next": "//evil.example",
              "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert off_site.headers["location"].startswith("/links?decided=")


def test_linkage_panel_roles(rich: Any, rich_client: TestClient) -> None:
    pid = _person_with(rich, "links")
    _sign_in(rich_client, "constable")
    before = rich.service._store.audit_entries(after=0, limit=1_000_000)[-1].seq
    page = rich_client.get(f"/persons/{pid}")
    assert page.status_code == 200
    assert 'id="linkage-not-permitted"' in page.text
    assert "Viewed by" not in page.text
    after = rich.service._store.audit_entries(after=before, limit=100)
    assert [e.operation for e in after] == ["view_record"]  # no refusal recorded per view
    _sign_in(rich_client, "analyst")
    page = rich_client.get(f"/persons/{pid}")
    assert 'id="linkage-table"' in page.text
    assert "Record decision" not in page.text  # analysts see evidence, do not decide


def test_viewed_by_for_auditors_only(rich: Any, rich_client: TestClient) -> None:
    pid = _person_with(rich, "links")
    _sign_in(rich_client, "constable")
    assert rich_client.get(f"/persons/{pid}").status_code == 200
    _sign_in(rich_client, "auditor")
    page = rich_client.get(f"/persons/{pid}")
    assert page.status_code == 200, page.text
    assert 'id="viewed-by-table"' in page.text
    table = page.text.split('id="viewed-by-table"')[1].split("</table>")[0]
    assert USERS["constable"][0] in table
    assert "crime" in table
    seqs = [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', table)]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    count = re.search(r'id="viewed-by-count">([\d,]+) audit entr', page.text)
    assert count
    assert int(count[1].replace(",", "")) >= len(seqs)
    older = rich_client.get(f"/persons/{pid}", params={"viewed_before": seqs[-1]})
    assert older.status_code == 200
    if 'id="viewed-by-table"' in older.text:
        rest = older.text.split('id="viewed-by-table"')[1].split("</table>")[0]
        assert max(int(x) for x in re.findall(r'<td class="num">(\d+)</td>', rest)) < seqs[-1]
    assert "Newest entries" in older.text
    assert f'href="/audit?subject=person/{pid}"' in page.text.replace("%2F", "/")
    twin = re.search(r'<a href="(/api/v1/audit/search\?subject=[^"]+)">as JSON</a>', page.text)
    assert twin
    got = rich_client.get(twin[1].replace("&amp;", "&"))  # the web session may GET the twin
    assert got.status_code == 200, got.text
    assert USERS["constable"][0] in {e["actor_id"] for e in got.json()["items"]}


def test_intelligence_tab_grading_behind_the_step(rich: Any, rich_client: TestClient) -> None:
    pid = _person_with(rich, "intel")
    _sign_in(rich_client, "analyst")
    page = rich_client.get(f"/persons/{pid}/intelligence")
    assert page.status_code == 200, page.text
    assert 'aria-current="page">Intelligence</a>' in page.text
    assert 'id="intel-table"' in page.text
    assert "payload.grading" in page.text  # withheld until the step
    assert "Convictions (PNC)" in page.text
    assert "Non-conviction information" in page.text
    stepped = rich_client.get(
        f"/persons/{pid}/intelligence", params={"sensitive": "grading needed for the case"}
    )
    assert stepped.status_code == 200
    assert "Sensitive-data step taken" in stepped.text
    table = stepped.text.split('id="intel-table"')[1].split("</table>")[0]
    assert "payload.grading" not in table
    seq = recorded_seq(stepped.text)
    entry = rich.service._store.audit_entries(after=seq - 1, limit=1)[0]
    assert entry.operation == "person_intelligence"
    assert entry.query["sensitive_justification"] == "grading needed for the case"
    short = rich_client.get(f"/persons/{pid}/intelligence", params={"sensitive": "because"})
    assert short.status_code == 400
    _sign_in(rich_client, "constable")  # no intelligence class at all: told, not offered
    page = rich_client.get(f"/persons/{pid}/intelligence")
    assert 'id="intel-not-permitted"' in page.text
    assert 'name="sensitive"' not in page.text


def test_convictions_apart_from_non_conviction(rich: Any) -> None:
    pid = _person_with(rich, "disposal")
    constable = rich.service.login(USERS["constable"][0], PASSWORD)
    from leds.governance.identity import PurposeStatement

    purpose = PurposeStatement.of("crime", "suspect named by a witness", "WY-2026-0042")
    got = rich.service.person_intelligence(constable, purpose, pid).value
    assert all(m.payload["outcome"] == "convicted" for m in got.convictions)
    assert all(m.payload["outcome"] != "convicted" for m in got.non_conviction)
    assert got.convictions or got.non_conviction
    assert not got.undetermined


def test_biometrics_tab_lists_templates_and_points_to_upload(
    rich: Any, rich_client: TestClient
) -> None:
    pid = _person_with(rich, "template")
    sign_in(rich_client, "operator", purpose=False)
    page = rich_client.get("/purpose")
    done = rich_client.post(
        "/purpose",
        data={"purpose": "crime", "justification": "image of an unknown suspect",
              "case_ref": "WY-2026-0042", "csrf_token": csrf_in(page.text)},
    )  # fmt: skip
    assert done.status_code == 303
    page = rich_client.get(f"/persons/{pid}/biometrics")
    assert page.status_code == 200, page.text
    assert 'id="templates-table"' in page.text
    assert "<img" not in page.text.split("<main")[1]
    assert 'id="no-probe"' in page.text
    assert 'href="/faces"' in page.text
    _sign_in(rich_client, "constable")
    page = rich_client.get(f"/persons/{pid}/biometrics")
    assert page.status_code == 200
    assert "facial-search operators only" in page.text


def test_panel_json_twins(rich: Any) -> None:
    pid = _person_with(rich, "intel")
    tokens = {}
    for who in ("steward", "constable"):
        user = rich.service.login(USERS[who][0], PASSWORD)
        tokens[who] = rich.service.create_token(user, ADMIN, f"panels {who}").value
    with TestClient(rich.app) as http:

        def get(who: str, path: str, **params: str) -> Any:
            headers = {"Authorization": f"Bearer {tokens[who]}", **HEADERS[who]}
            return http.get(path, headers=headers, params=params)

        links = get("steward", f"/api/v1/persons/{pid}/links")
        assert links.status_code == 200, links.text
        body = links.json()
        assert body["audit_seq"] > 0
        assert len(body["data"]["pairs"]) <= 10
        assert all(
            x["explain"].startswith("/api/v1/links/explain?a=") for x in body["data"]["pairs"]
        )
        refused = get("constable", f"/api/v1/persons/{pid}/links")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "access_denied"
        intel = get("constable", f"/api/v1/persons/{pid}/intelligence")
        assert intel.status_code == 200, intel.text
        data = intel.json()["data"]
        assert set(data) >= {"intelligence", "convictions", "non_conviction", "not_permitted"}
        bio = get("constable", f"/api/v1/persons/{pid}/biometrics")
        assert bio.status_code == 200
        assert bio.json()["data"]["probe_available"] is False
        missing = get("constable", "/api/v1/persons/L0000000000/biometrics")
        assert missing.status_code == 404
