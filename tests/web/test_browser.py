"""The web UI as a person uses it: Debian's Chromium driven by Playwright over a real server.

A data steward signs in, sets a purpose, views the imports and a rejected row, opens a
record; an auditor sees that access in the audit view, verifies the log and opens a proof; a
constable is refused the audit view with the policy's reason. Every screen is checked with
axe-core (no violations) and saved as a screenshot in tests/web/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kit import PASSWORD, USERS, World

from conftest import SCREENSHOTS

AXE = Path(__file__).resolve().parents[2] / "src/leds/web/static/vendor/axe.min.js"


@pytest.fixture
def page(browser: Any) -> Any:
    # The pages' Content-Security-Policy stays on: axe-core is loaded from /static/vendor.
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    # Refused and not-found pages log their HTTP status; nothing else may fail in the page.
    unexpected = [e for e in errors if "status of 40" not in e]
    assert not unexpected, unexpected


def check(page: Any, name: str) -> None:
    """Screenshot the screen and assert axe-core finds no accessibility violation."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if not AXE.exists():
        pytest.skip(f"axe-core missing ({AXE}): run `make web-assets` for the accessibility check")
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("async () => (await axe.run(document)).violations")
    problems = [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result
    ]
    assert not problems, f"{name}: " + json.dumps(problems, indent=1)


def sign_in(page: Any, base: str, who: str, purpose: tuple[str, str, str]) -> None:
    page.goto(f"{base}/")
    page.get_by_label("User ID").fill(USERS[who][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # keyboard-first: submit from the field
    page.wait_for_url("**/purpose**")
    page.get_by_label("Purpose", exact=True).select_option(purpose[0])
    page.get_by_label("Justification").fill(purpose[1])
    page.get_by_label("Case or incident reference").fill(purpose[2])
    page.get_by_role("button", name="Set purpose").click()
    page.wait_for_url("**/search**")


def test_steward_auditor_and_refused_constable(served: tuple[World, str], page: Any) -> None:
    world, base = served
    page.goto(f"{base}/")
    page.wait_for_url("**/login**")
    check(page, "01-sign-in")

    # Wrong password: an error state, no session.
    page.get_by_label("User ID").fill("steward1")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().find("wrong password") >= 0
    check(page, "02-sign-in-refused")

    page.get_by_label("User ID").fill(USERS["steward"][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/purpose**")
    check(page, "03-purpose-gate")
    page.get_by_label("Purpose", exact=True).select_option("admin-process")
    page.get_by_label("Justification").fill("checking last night's import")
    page.get_by_role("button", name="Set purpose").click()
    page.wait_for_url("**/search**")
    assert "admin-process" in page.locator(".purpose-bar").inner_text()
    check(page, "04-search-shell")

    page.get_by_label("Surname").fill("Smiht")
    page.keyboard.press("Enter")
    page.wait_for_url("**surname=Smiht**")
    assert "not available yet" in page.locator("#results").inner_text()

    page.get_by_role("link", name="Sources").click()
    page.wait_for_url("**/imports")
    assert "pnc-00001.txt" in page.inner_text("main")
    check(page, "05-imports")
    page.get_by_role("link", name=f"rejected rows of import {world.import_id}").click()
    page.wait_for_url("**/rejections")
    assert "pnc_id" in page.inner_text("main")
    check(page, "06-rejections")

    page.get_by_role("link", name="Records").click()
    page.get_by_label("Source", exact=True).select_option("pnc")
    page.get_by_label("Kind", exact=True).fill("person")
    page.get_by_label("Source record ID").fill("2001/0171310W")
    page.get_by_role("button", name="Open record").click()
    page.wait_for_url("**/records/pnc/person/**")
    assert "SMITH" in page.inner_text("main")
    recorded = page.locator(".recorded").inner_text()
    check(page, "07-record")
    assert "admin-process" in recorded
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    sign_in(page, base, "auditor", ("oversight", "monthly review of record access", ""))
    page.get_by_role("link", name="Audit").click()
    page.wait_for_url("**/audit")
    table = page.get_by_role("table", name="Audit entries")
    steward_reads = table.locator("tr", has_text="view_record").filter(has_text="steward1")
    assert steward_reads.count() >= 1
    check(page, "08-audit")
    page.get_by_role("button", name="Verify the whole log").click()
    page.locator("#integrity-status").get_by_text("Verified").wait_for()
    row = steward_reads.last
    row.locator("summary").click()
    row.get_by_role("link", name="Inclusion proof").click()
    row.get_by_text("hashes prove it is in the signed log").wait_for()
    check(page, "09-audit-verified-and-proof")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "constable", ("crime", "suspect named by a witness", "WY-2026-0042"))
    response = page.goto(f"{base}/audit")
    assert response is not None
    assert response.status == 403
    alert = page.get_by_role("alert").inner_text()
    assert "Refused" in alert
    assert "no policy permits it" in alert
    check(page, "10-refused")
    missing = page.goto(f"{base}/records/pnc/person/2099/0000001A")
    assert missing is not None
    assert missing.status == 404
    check(page, "11-not-found")
