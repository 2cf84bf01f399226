"""The web UI over HTTP (no browser): sign-in, CSRF, the purpose gate, each screen's happy
path and its refused / not found / error states, and that every page showing data names the
audit entry that recorded it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from kit import PASSWORD, USERS, World

from leds.service import Service

PURPOSES = {
    "steward": ("admin-process", "checking the imports today", ""),
    "auditor": ("oversight", "reviewing recent access today", ""),
    "constable": ("crime", "suspect named by a witness", "WY-2026-0042"),
}


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, who: str, *, purpose: bool = True) -> None:
    client.cookies.clear()
    form = client.get("/login")
    assert form.status_code == 200
    done = client.post(
        "/login",
        data={"user_id": USERS[who][0], "password": PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/purpose")
    if purpose:
        code, why, case = PURPOSES[who]
        page = client.get("/purpose")
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


def recorded_seq(html: str) -> int:
    match = re.search(r"recorded as audit entry <strong>(\d+)</strong>", html)
    assert match, "the page does not name its audit entry"
    return int(match.group(1))


def test_signed_out_pages_send_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    for path in ("/", "/search", "/imports", "/audit", "/records/pnc/person/x"):
        got = client.get(path)
        assert got.status_code == 303
        assert got.headers["location"].startswith("/login")


def test_wrong_password_is_refused_without_saying_which_part(client: TestClient) -> None:
    client.cookies.clear()
    form = client.get("/login")
    got = client.post(
        "/login",
        data={
            "user_id": "steward1",
            "password": "wrong password x",
            "csrf_token": csrf_in(form.text),
        },
    )
    assert got.status_code == 401
    assert "unknown user id or wrong password" in got.text
    assert "leds_session" not in got.cookies


def test_sign_in_form_needs_its_csrf_cookie(client: TestClient) -> None:
    client.cookies.clear()
    got = client.post(
        "/login", data={"user_id": "steward1", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert got.status_code == 401
    assert "expired" in got.text


def test_purpose_gate_comes_before_any_data(client: TestClient) -> None:
    sign_in(client, "steward", purpose=False)
    got = client.get("/imports")
    assert got.status_code == 303
    assert got.headers["location"] == "/purpose?next=%2Fimports"
    page = client.get("/purpose?next=/imports")
    refused = client.post(
        "/purpose",
        data={"purpose": "crime", "justification": "looking", "csrf_token": csrf_in(page.text)},
    )
    assert refused.status_code == 400
    assert "justification is required" in refused.text


def test_state_changes_need_the_session_csrf_token(client: TestClient) -> None:
    sign_in(client, "auditor")
    got = client.post("/audit/verify", data={"csrf_token": "forged"})
    assert got.status_code == 400
    assert "did not come from this site" in got.text
    logout = client.post("/logout", data={"csrf_token": "forged"})
    assert logout.status_code == 400


def test_header_shows_user_role_org_and_purpose(client: TestClient) -> None:
    sign_in(client, "constable")
    page = client.get("/search").text
    assert "pc123" in page
    assert "constable" in page
    assert "WYP" in page
    assert "WY-2026-0042" in page
    assert "Authorised use only" in page


def test_imports_and_rejections_pages_name_their_audit_entries(
    client: TestClient, world: World
) -> None:
    sign_in(client, "steward")
    page = client.get("/imports")
    assert page.status_code == 200
    assert "pnc-00001.txt" in page.text
    assert 'href="/api/v1/imports?limit=100"' in page.text
    seq = recorded_seq(page.text)
    rows = client.get(f"/imports/{world.import_id}/rejections")
    assert rows.status_code == 200
    assert "pnc_id" in rows.text
    assert recorded_seq(rows.text) > seq
    twin = client.get("/api/v1/imports")  # the JSON twin, with the session cookie (GET)
    assert twin.status_code == 200
    assert twin.json()["audit_seq"] > seq


def test_record_page_shows_fields_withheld_and_provenance(client: TestClient) -> None:
    sign_in(client, "constable")
    page = client.get("/records/pnc/person/2001/0171310W")
    assert page.status_code == 200
    assert "SMITH" in page.text
    assert "pnc-00001.txt" in page.text
    assert "Withheld" in page.text
    recorded_seq(page.text)
    lookup = client.get(
        "/records", params={"source": "pnc", "kind": "person", "id": "2001/0171310W"}
    )
    assert lookup.status_code == 303
    assert lookup.headers["location"] == "/records/pnc/person/2001%2F0171310W"


def test_missing_record_is_the_not_found_state(client: TestClient) -> None:
    sign_in(client, "constable")
    page = client.get("/records/pnc/person/2099/0000001A")
    assert page.status_code == 404
    assert "Not found" in page.text
    assert 'class="state empty"' in page.text


def test_refused_role_sees_the_policys_reason(client: TestClient) -> None:
    sign_in(client, "constable")
    page = client.get("/audit")
    assert page.status_code == 403
    assert "Refused" in page.text
    assert "no policy permits it" in page.text
    assert "This refusal was recorded in the audit log" in page.text


def test_audit_page_verify_and_proof(client: TestClient) -> None:
    sign_in(client, "constable")
    assert client.get("/audit").status_code == 403  # a refusal, to be seen in the log
    sign_in(client, "auditor")
    page = client.get("/audit", params={"limit": 1000})
    assert page.status_code == 200
    assert "view_record" in page.text
    assert "deny:" in page.text  # the constable's refusal is in the log
    verified = client.post(
        "/audit/verify", data={"csrf_token": csrf_in(page.text)}, headers={"HX-Request": "true"}
    )
    assert verified.status_code == 200
    assert "Verified" in verified.text
    assert "<html" not in verified.text  # an htmx fragment, not a page
    proof = client.get("/audit/proofs/2", headers={"HX-Request": "true"})
    assert "Entry 2 is leaf 1" in proof.text
    missing = client.get("/audit/proofs/999999", headers={"HX-Request": "true"})
    assert missing.status_code == 404
    assert "no audit entry" in missing.text


def test_search_tab_without_a_web_form_says_nothing_was_searched(client: TestClient) -> None:
    sign_in(client, "constable")
    page = client.get("/search", params={"tab": "fingerprint"})
    assert page.status_code == 200
    assert 'aria-current="page" class="current">Fingerprint' in page.text
    assert "nothing was recorded" in page.text
    assert "recorded as audit entry" not in page.text


def test_pages_carry_security_headers(client: TestClient) -> None:
    got = client.get("/login")
    assert "default-src 'self'" in got.headers["content-security-policy"]
    assert got.headers["x-frame-options"] == "DENY"
    assert got.headers["cache-control"] == "no-store"
    cookie = got.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_sign_in_never_redirects_off_site(client: TestClient, target: str) -> None:
    client.cookies.clear()
    form = client.get("/login", params={"next": target})
    done = client.post(
        "/login",
        data={
            "user_id": "steward1",
            "password": PASSWORD,
            "csrf_token": csrf_in(form.text),
            "next": target,
        },
    )
    assert done.headers["location"] == "/purpose?next=%2Fsearch"


# ---- web sessions live in the store: several server processes share them -------------------
def _second_process(world: World) -> Service:
    """Another service over the same store, as a second ``leds serve --workers`` process has."""
    from leds.governance.audit.log import AuditLog
    from leds.governance.audit.notes import NoteSigner
    from leds.store import open_store

    store = open_store(world.store.engine.url.render_as_string(hide_password=False))
    return Service(store, AuditLog(store, NoteSigner.generate("second-process")))


def test_a_session_opened_in_one_server_process_is_used_and_ended_in_another(
    world: World,
) -> None:
    import hashlib

    from sqlalchemy import select

    from leds.api import create_app
    from leds.store.schema import web_sessions

    other = _second_process(world)
    with (
        TestClient(world.app, follow_redirects=False) as first,
        TestClient(create_app(other), follow_redirects=False) as second,
    ):
        sign_in(first, "constable")
        sid = first.cookies["leds_session"]
        second.cookies.set("leds_session", sid)
        page = second.get("/search")
        assert page.status_code == 200, page.text
        assert "WY-2026-0042" in page.text  # the purpose chosen in the first process
        with world.store.engine.connect() as conn:
            kept = conn.execute(select(web_sessions.c.sid_hash)).scalars().all()
        assert hashlib.sha256(sid.encode()).hexdigest() in kept
        assert sid not in kept  # only the id's hash is stored
        out = second.post("/logout", data={"csrf_token": csrf_in(page.text)})
        assert out.status_code == 303
        gone = first.get("/search")
        assert gone.status_code == 303
        assert gone.headers["location"].startswith("/login")
    other.close()


def test_a_session_ends_when_idle_too_long_or_its_account_is_disabled(
    client: TestClient, world: World
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from leds.governance.identity import PurposeStatement
    from leds.service import NewAccount
    from leds.store.schema import accounts, web_sessions

    sign_in(client, "constable")
    assert client.get("/search").status_code == 200
    with world.store.transaction() as conn:  # idle since two hours ago
        conn.execute(update(web_sessions).values(seen_at=datetime.now(UTC) - timedelta(hours=2)))
    assert client.get("/search").status_code == 303

    admin = world.service.login(USERS["admin"][0], PASSWORD)
    year = datetime.now(UTC).date() + timedelta(days=365)
    why = PurposeStatement.of("admin-process", "adding a test account today")
    world.service.add_account(
        admin,
        why,
        NewAccount("pc-leaver", "Leaver", "constable", "WYP", "Unit 1", PASSWORD, year, year),
    )
    client.cookies.clear()
    form = client.get("/login")
    done = client.post(
        "/login",
        data={"user_id": "pc-leaver", "password": PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303
    assert client.get("/purpose").status_code == 200
    with world.store.transaction() as conn:
        conn.execute(
            update(accounts).where(accounts.c.user_id == "pc-leaver").values(disabled=True)
        )
    got = client.get("/purpose")
    assert got.status_code == 303
    assert got.headers["location"].startswith("/login")
